package io.pgtide.relay.route;

import io.pgtide.relay.Relay;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.LineNumberAware;
import org.apache.camel.model.AggregateDefinition;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.SplitDefinition;
import org.apache.camel.model.ToDefinition;
import org.apache.camel.model.ToDynamicDefinition;
import org.apache.camel.model.WireTapDefinition;
import org.apache.camel.util.URISupport;

/**
 * Checks a route that reads an outbox before it may run: its id, its source, and every step that would break the
 * batch contract (one exchange per batch, the offset advanced after the sink acknowledged all of it, per-key order).
 * A pipeline in the short form ({@code from: tide:<outbox>}) has only its steps to check: the relay completes the rest.
 * A pipeline written out in full ({@code from: sql:...tide.relay_poll(...)}) must carry every shared piece itself.
 * Each problem names the line and what to write instead. Needs no database.
 */
public final class PipelineCheck {

    /** {@code tide.relay_poll('<pipeline>', '<outbox>'...}: the arguments a full-form pipeline polls with. */
    private static final Pattern POLL = Pattern.compile("tide\\.relay_poll\\s*\\(\\s*'([^']*)'\\s*,\\s*'([^']*)'",
            Pattern.CASE_INSENSITIVE);
    /** Endpoints that take the batch into a queue and return at once: the offset would move before any delivery. */
    private static final Set<String> HANDOFF_SCHEMES = Set.of("seda", "vm", "disruptor", "disruptor-vm", "stub");
    /** camel-sql consumer options that turn one exchange per batch into something else, or write on their own. */
    private static final Set<String> CONSUMER_OPTIONS_REFUSED = Set.of("onConsume", "onConsumeBatchComplete",
            "onConsumeFailed", "outputType", "outputClass", "routeEmptyResultSet", "useIterator");

    private final Path file;
    private final UnaryOperator<String> placeholders;
    private final List<Problem> problems = new ArrayList<>();

    /** @param placeholders resolves {@code {{...}}} in endpoint URIs, or returns null where it cannot */
    private PipelineCheck(Path file, UnaryOperator<String> placeholders) {
        this.file = file;
        this.placeholders = placeholders;
    }

    /** True when the route reads an outbox: a {@code tide:} source, or camel-sql over {@code tide.relay_poll}. */
    public static boolean readsOutbox(RouteDefinition route) {
        String uri = route.getInput() == null ? null : route.getInput().getEndpointUri();
        return PipelineSource.isSource(uri) || uri != null && uri.startsWith("sql:") && POLL.matcher(uri).find();
    }

    /** The problems of one pipeline route, in line order; none for a route that reads no outbox. */
    public static List<Problem> problems(Path file, RouteDefinition route, UnaryOperator<String> placeholders) {
        PipelineCheck check = new PipelineCheck(file, placeholders);
        if (readsOutbox(route)) {
            check.route(route);
        }
        return List.copyOf(check.problems);
    }

    /** The outbox a pipeline's poll statement reads, or null for a statement that polls none. */
    public static String polledOutbox(String statement) {
        Matcher poll = POLL.matcher(statement);
        return poll.find() ? poll.group(2) : null;
    }

    private void route(RouteDefinition route) {
        String id = route.getRouteId();
        if (!route.hasCustomIdAssigned()) {
            problem(route, "a pipeline needs an id: add `id: <pipeline>` under `- route:` (it names the pipeline's lock"
                    + " and offset)");
            id = null;
        } else {
            try {
                RelaySettings.name("pipeline id", id);
            } catch (SettingException e) {
                problem(route, e.getMessage());
                id = null;
            }
        }
        String uri = route.getInput().getEndpointUri();
        if (PipelineSource.isSource(uri)) {
            shortForm(route, id, uri);
        } else {
            fullForm(route, id, uri);
        }
        steps(route.getOutputs());
    }

    private void shortForm(RouteDefinition route, String id, String uri) {
        try {
            PipelineSource source = PipelineSource.parse(uri);
            if (source.partitions() > 1 && id != null) {
                RelaySettings.name("pipeline id of its last partition",
                        PipelineSource.partitionId(id, source.partitions() - 1));
            }
            if (source.keyGroups() > 1 && route.getOutputs().stream().filter(SplitDefinition.class::isInstance).count() != 1) {
                problem(route.getInput(), "keyGroups=" + source.keyGroups() + " sends the messages of a split over the"
                        + " batch by key: the pipeline needs exactly one `split` among its top-level steps");
            }
        } catch (SettingException e) {
            problem(route.getInput(), e.getMessage());
        }
    }

    /** A pipeline written out in full, as before the short form: every shared piece must be there, and right. */
    private void fullForm(RouteDefinition route, String id, String uri) {
        Matcher poll = POLL.matcher(uri);
        poll.find();
        String shortForm = "or write the source as `uri: tide:" + poll.group(2) + "` and drop the sql: parameters,"
                + " routePolicy and routeConfigurationId (the relay adds them)";
        if (id != null && !poll.group(1).equals(id)) {
            problem(route.getInput(), "tide.relay_poll('" + poll.group(1) + "', ...) polls pipeline \"" + poll.group(1)
                    + "\" but the route id is \"" + id + "\": write tide.relay_poll('" + id + "', '" + poll.group(2)
                    + "'), " + shortForm);
        }
        Map<String, Object> options = consumerOptions(route, uri);
        if (!"false".equals(String.valueOf(options.get("useIterator")))) {
            problem(route.getInput(), "the batch must be one exchange: add `useIterator: false` under parameters, "
                    + shortForm);
        }
        for (String option : CONSUMER_OPTIONS_REFUSED) {
            if (options.containsKey(option) && !option.equals("useIterator")) {
                problem(route.getInput(), "option " + option + " breaks the batch contract (the relay advances the offset"
                        + " itself): remove it, " + shortForm);
            }
        }
        if (!listed(route.getRouteConfigurationId(), PipelineRouteConfiguration.ID)) {
            problem(route, "the shared pipeline configuration is missing: add `routeConfigurationId: "
                    + PipelineRouteConfiguration.ID + "` (rows to messages, retries, offset advance), " + shortForm);
        }
        if (!listed(route.getRoutePolicyRef(), "#" + Relay.LOCK_POLICY)) {
            problem(route, "the lock policy is missing: add `routePolicy: \"#" + Relay.LOCK_POLICY
                    + "\"` (one relay of the group runs the pipeline), " + shortForm);
        }
    }

    private Map<String, Object> consumerOptions(RouteDefinition route, String uri) {
        int query = uri.indexOf('?');
        try {
            return query < 0 ? Map.of() : URISupport.parseQuery(uri.substring(query + 1));
        } catch (URISyntaxException e) {
            problem(route.getInput(), "the source's options do not parse: " + e.getMessage());
            return Map.of();
        }
    }

    private static boolean listed(String commaSeparated, String wanted) {
        if (commaSeparated == null) {
            return false;
        }
        for (String entry : commaSeparated.split(",")) {
            if (entry.strip().equals(wanted)) {
                return true;
            }
        }
        return false;
    }

    private void steps(List<ProcessorDefinition<?>> outputs) {
        for (ProcessorDefinition<?> step : outputs) {
            step(step);
            steps(step.getOutputs());
        }
    }

    private void step(ProcessorDefinition<?> step) {
        if (step instanceof WireTapDefinition<?>) {
            problem(step, "wireTap sends without waiting for the sink: the offset would move before delivery;"
                    + " use `to:`");
        } else if (step instanceof AggregateDefinition) {
            problem(step, "aggregate completes later, outside the batch's exchange: the offset would move before"
                    + " delivery; send the batch itself (its body is the list of the batch's messages)");
        } else if (step instanceof SplitDefinition split) {
            if (!"true".equals(split.getStopOnException())) {
                problem(step, "a split over the batch must stop at a failed message, or later messages of its key"
                        + " overtake it: add `stopOnException: true`");
            }
            if ("true".equals(split.getParallelProcessing())) {
                problem(step, "parallelProcessing sends the messages of a key out of order: remove it, and set keyGroups"
                        + " on the tide: source to send several keys at once, each in order");
            }
        } else if (step instanceof ToDefinition || step instanceof ToDynamicDefinition) {
            String uri = step instanceof ToDefinition to ? to.getEndpointUri() : ((ToDynamicDefinition) step).getUri();
            String resolved = uri == null ? null : placeholders.apply(uri);
            String scheme = resolved == null ? null : resolved.split(":", 2)[0];
            if (scheme != null && HANDOFF_SCHEMES.contains(scheme)) {
                problem(step, scheme + ": queues the batch and returns at once, so the offset would move before any"
                        + " delivery: send to the sink itself");
            }
        }
    }

    private void problem(LineNumberAware where, String message) {
        problems.add(new Problem(file, where.getLineNumber(), message));
    }
}
