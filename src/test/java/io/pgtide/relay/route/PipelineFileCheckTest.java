package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import io.pgtide.relay.config.RelaySettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipeline files that break the batch contract are refused when they load, before any poll, each with its file and
 * line, while a good pipeline beside them delivers; a refused file is reported once, not at every look.
 */
class PipelineFileCheckTest {

    /** Each broken sample of src/test/resources/pipelines/broken, with the line and words its refusal must name. */
    static final Map<String, String> EXPECTED = new TreeMap<>(Map.of(
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

    static final Path SAMPLES = Path.of("src/test/resources/pipelines");

    @Test
    void brokenPipelinesAreRefusedWithTheirLineAndNeverPollWhileTheGoodOneDelivers(@TempDir Path routes) throws Exception {
        Files.copy(SAMPLES.resolve("good.yaml"), routes.resolve("good.yaml"));
        try (Stream<Path> broken = Files.list(SAMPLES.resolve("broken"))) {
            for (Path sample : broken.toList()) {
                Files.copy(sample, routes.resolve(sample.getFileName()));
            }
        }
        try (TestDatabase db = TestDatabase.withExtension(); LogCapture log = LogCapture.open()) {
            db.execute("SELECT tide.outbox_create('orders')");
            db.execute("CREATE TABLE delivered (pipeline text, id bigint)");
            for (int i = 0; i < 5; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            try (RelayHarness relay = RelayHarness.start(db, routes, "checker", Map.of(RelaySettings.RELOAD_INTERVAL, "200"))) {
                Pipelines.await(Duration.ofSeconds(20), "the good pipeline to deliver 5 messages",
                        () -> db.queryOne(Long.class, "SELECT count(*) FROM delivered") == 5);
                // several looks at the folder: a refused file is reported once per content
                Thread.sleep(1000);
                List<RouteFolder.Failure> failures = relay.relay().routeFolder().failures();
                assertEquals(EXPECTED.keySet().stream().toList(),
                        failures.stream().map(f -> f.file().getFileName().toString()).toList());
                for (RouteFolder.Failure failure : failures) {
                    String file = failure.file().getFileName().toString();
                    assertTrue(failure.reason().startsWith(failure.file() + ":" + EXPECTED.get(file)),
                            file + " is refused with its line and fix: " + failure.reason());
                    assertEquals(1, log.count("ERROR", "Route file refused", file), "one error line for " + file);
                }
            }
            assertEquals("good", db.queryOne(String.class, "SELECT string_agg(DISTINCT pipeline, ',') FROM delivered"),
                    "only the good pipeline delivered");
            assertEquals("good", db.queryOne(String.class, "SELECT string_agg(pipeline, ',') FROM tide.relay_consumer_offsets"),
                    "no refused pipeline ever polled (a poll registers its pipeline)");
        }
    }
}
