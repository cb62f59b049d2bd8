package io.pgtide.relay.deadletter;

import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.model.LogDefinition;
import org.apache.camel.model.Model;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.SplitDefinition;

/**
 * Whether a message that failed inside a pipeline's split leaves the messages before it acknowledged: the split
 * sends one message after the other and stops at a failure ({@code stopOnException}, which the load check
 * requires), so that holds when the split is the route's last step that sends anything. A step after it (another
 * sink for the whole batch) has acknowledged none of them yet, and a parallel split (key groups) may not have sent
 * an earlier message of another key.
 */
final class AcknowledgedPrefix {

    private AcknowledgedPrefix() {
    }

    /** True when the exchange is a split's part and every message before it reached every sink of the pipeline. */
    static boolean before(Exchange exchange) {
        if (exchange.getProperty(Exchange.SPLIT_INDEX) == null) {
            return false;
        }
        Model model = exchange.getContext().getCamelContextExtension().getContextPlugin(Model.class);
        RouteDefinition route = model == null ? null : model.getRouteDefinition(exchange.getFromRouteId());
        if (route == null) {
            return false;
        }
        List<ProcessorDefinition<?>> steps = route.getOutputs();
        for (int i = steps.size() - 1; i >= 0; i--) {
            if (!(steps.get(i) instanceof LogDefinition)) {
                return steps.get(i) instanceof SplitDefinition split && !"true".equals(split.getParallelProcessing())
                        && steps.stream().filter(SplitDefinition.class::isInstance).count() == 1;
            }
        }
        return false;
    }
}
