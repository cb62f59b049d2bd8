package io.pgtide.relay.route;

import io.pgtide.relay.Relay;
import io.pgtide.relay.deadletter.DeadLetters;
import org.apache.camel.CamelContext;
import org.apache.camel.model.RouteDefinition;

/**
 * Completes a checked pipeline route at load, so that its file holds only the user's decisions: a short-form
 * source ({@code tide:<outbox>}) becomes Camel's SQL consumer over {@code tide.relay_poll}, and the route gets the
 * lock policy and the shared {@code pg-tide} configuration (rows to messages, retries, the offset advance on
 * completion) ahead of any of its own, what it does with a poison, where it starts and its CloudEvents options as
 * route properties, and its key groups. A partitioned pipeline is completed once per partition, each copy under the
 * partition's own id.
 */
public final class PipelineCompletion {

    private PipelineCompletion() {
    }

    /** The route properties that tell a partition which one it is ({@link StartPosition} registers it so). */
    public static final String PARTITION_OF = "pgTidePartitionOf";
    public static final String PARTITION = "pgTidePartition";
    public static final String PARTITIONS = "pgTidePartitions";

    /** How many partitions the route runs as: its source's {@code partitions}, 1 for any other route. */
    public static int partitions(RouteDefinition route) {
        String uri = route.getInput() == null ? null : route.getInput().getEndpointUri();
        return PipelineSource.isSource(uri) ? PipelineSource.parse(uri).partitions() : 1;
    }

    /**
     * Completes a short-form pipeline route that {@link PipelineCheck} passed, as the given partition of it (0 when
     * it is not partitioned); leaves any other route alone.
     */
    public static void complete(CamelContext context, RouteDefinition route, int partition) {
        String uri = route.getInput().getEndpointUri();
        if (PipelineSource.isSource(uri)) {
            PipelineSource source = PipelineSource.parse(uri);
            if (source.partitions() > 1) {
                String declared = route.getRouteId();
                route.setId(PipelineSource.partitionId(declared, partition));
                route.routeProperty(PARTITION_OF, declared);
                route.routeProperty(PARTITION, String.valueOf(partition));
                route.routeProperty(PARTITIONS, String.valueOf(source.partitions()));
            }
            route.getInput().setUri(source.sqlUri(route.getRouteId(), partition));
            route.routeProperty(DeadLetters.ON_POISON, source.onPoison());
            route.routeProperty(StartPosition.PROPERTY, source.start());
            if (source.cloudEvents() != null) {
                source.cloudEvents().routeProperties().forEach(route::routeProperty);
            }
            route.setRouteConfigurationId(first(PipelineRouteConfiguration.ID, route.getRouteConfigurationId()));
            route.setRoutePolicyRef(first("#" + Relay.LOCK_POLICY, route.getRoutePolicyRef()));
            if (source.keyGroups() > 1) {
                KeyGroups.apply(context, route, source.keyGroups());
            }
        }
    }

    private static String first(String shared, String own) {
        return own == null || own.isBlank() || own.strip().equals(shared) ? shared : shared + "," + own;
    }
}
