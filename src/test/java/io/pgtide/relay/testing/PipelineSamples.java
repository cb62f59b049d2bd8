package io.pgtide.relay.testing;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** The pipeline samples of src/test/resources/pipelines: one good file, and broken ones with the refusal each must get. */
public final class PipelineSamples {

    public static final Path FOLDER = Path.of("src/test/resources/pipelines");
    public static final Path GOOD = FOLDER.resolve("good.yaml");
    public static final Path BROKEN = FOLDER.resolve("broken");

    /** Each broken sample, with the line and words its refusal must start with. */
    public static final Map<String, String> REFUSALS = new TreeMap<>(Map.ofEntries(
            Map.entry("id-typo.yaml", "7: tide.relay_poll('my-pipline', ...) polls pipeline \"my-pipline\" but the route id is \"my-pipeline\""),
            Map.entry("no-use-iterator.yaml", "7: the batch must be one exchange: add `useIterator: false`"),
            Map.entry("no-route-configuration.yaml", "2: the shared pipeline configuration is missing: add `routeConfigurationId: pg-tide`"),
            Map.entry("no-route-policy.yaml", "2: the lock policy is missing: add `routePolicy: \"#pgTideLock\"`"),
            Map.entry("split-goes-on.yaml", "7: a split over the batch must stop at a failed message"),
            Map.entry("wiretap.yaml", "7: wireTap sends without waiting for the sink"),
            Map.entry("queue-sink.yaml", "7: seda: queues the batch and returns at once"),
            Map.entry("unknown-option.yaml", "5: tide:orders?batchSise=10: unknown option batchSise"),
            Map.entry("no-id.yaml", "2: a pipeline needs an id"),
            Map.entry("duplicate-id.yaml", "8: route id \"twice\" appears twice in this file"),
            Map.entry("key-groups-no-split.yaml", "5: keyGroups=8 sends the messages of a split over the batch by key"),
            Map.entry("unknown-cloudevents-mode.yaml", "5: tide:orders?cloudEvents=envelope: cloudEvents=envelope is not a mode")));

    private PipelineSamples() {
    }
}
