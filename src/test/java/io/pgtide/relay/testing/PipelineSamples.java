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
    public static final Map<String, String> REFUSALS = new TreeMap<>(Map.of(
            "id-typo.yaml", "7: tide.relay_poll('my-pipline', ...) polls pipeline \"my-pipline\" but the route id is \"my-pipeline\"",
            "no-use-iterator.yaml", "7: the batch must be one exchange: add `useIterator: false`",
            "no-route-configuration.yaml", "2: the shared pipeline configuration is missing: add `routeConfigurationId: pg-tide`",
            "no-route-policy.yaml", "2: the lock policy is missing: add `routePolicy: \"#pgTideLock\"`",
            "split-goes-on.yaml", "7: a split over the batch must stop at a failed message",
            "wiretap.yaml", "7: wireTap sends without waiting for the sink",
            "queue-sink.yaml", "7: seda: queues the batch and returns at once",
            "unknown-option.yaml", "5: tide:orders?batchSise=10: unknown option batchSise",
            "no-id.yaml", "2: a pipeline needs an id",
            "duplicate-id.yaml", "8: route id \"twice\" appears twice in this file"));

    private PipelineSamples() {
    }
}
