package io.pgtide.relay.route;

import io.pgtide.relay.batch.OutboxBatch;
import io.pgtide.relay.batch.TideConstants;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.SplitDefinition;
import org.apache.camel.model.language.MethodCallExpression;
import org.apache.camel.spi.ExecutorServiceManager;

/**
 * Key groups ({@code tide:<outbox>?keyGroups=N}): the pipeline's split over the batch runs once per key, up to N keys
 * at once, each key's messages still one after the other in (tx, id) order. Camel's Split EIP does the work: a
 * parallel split over the batch's key groups, on a pool of N threads from Camel's thread pool profiles, around the
 * pipeline's own split. It waits for every group, so a failed group fails the batch only once the others are done,
 * and the batch stays the one exchange in flight (the offset moves only when every group is acknowledged).
 */
public final class KeyGroups {

    private KeyGroups() {
    }

    /**
     * The messages of a batch by key, in the order each key first appears, each group in the batch's order.
     * Messages without a key form one group of their own, in order: a message without a key is never sent before
     * an earlier one without a key, as without key groups.
     */
    public static List<OutboxBatch> of(List<Message> batch) {
        Map<Object, List<Message>> groups = new LinkedHashMap<>();
        for (Message message : batch) {
            groups.computeIfAbsent(message.getHeader(TideConstants.KEY), key -> new ArrayList<>()).add(message);
        }
        return groups.values().stream().map(OutboxBatch::new).toList();
    }

    /** Wraps the route's split over the batch (its one top-level split, which the load check requires). */
    static void apply(CamelContext context, RouteDefinition route, int keyGroups) {
        List<ProcessorDefinition<?>> steps = route.getOutputs();
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i) instanceof SplitDefinition perMessage) {
                SplitDefinition byKey = new SplitDefinition(new MethodCallExpression(KeyGroups.class, "of"));
                byKey.setLineNumber(perMessage.getLineNumber());
                // no stopOnException: Camel would then complete the batch while other groups still send
                byKey.parallelProcessing();
                byKey.executorService(pool(context, keyGroups));
                byKey.addOutput(perMessage);
                steps.set(i, byKey);
                byKey.setParent(route);
                return;
            }
        }
    }

    /** A Camel thread pool profile of N threads; each route gets a pool of its own from it, stopped with it. */
    private static String pool(CamelContext context, int threads) {
        String id = "pg-tide-key-groups-" + threads;
        ExecutorServiceManager executors = context.getExecutorServiceManager();
        if (executors.getThreadPoolProfile(id) == null) {
            // a batch has at most batchSize groups: they queue for the N threads
            executors.registerThreadPoolProfile(new ThreadPoolProfileBuilder(id).poolSize(threads).maxPoolSize(threads)
                    .maxQueueSize(-1).build());
        }
        return id;
    }
}
