package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.PipelineSamples;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipeline files that break the batch contract are refused when they load, before any poll, each with its file and
 * line, while a good pipeline beside them delivers; a refused file is reported once, not at every look.
 */
class PipelineFileCheckTest {

    @Test
    void brokenPipelinesAreRefusedWithTheirLineAndNeverPollWhileTheGoodOneDelivers(@TempDir Path routes) throws Exception {
        Files.copy(PipelineSamples.GOOD, routes.resolve("good.yaml"));
        try (Stream<Path> broken = Files.list(PipelineSamples.BROKEN)) {
            for (Path sample : broken.toList()) {
                Files.copy(sample, routes.resolve(sample.getFileName()));
            }
        }
        try (TestDatabase db = TestDatabase.withOutbox("orders"); LogCapture log = LogCapture.open()) {
            db.execute("CREATE TABLE delivered (pipeline text, id bigint)");
            for (int i = 0; i < 5; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            try (RelayHarness relay = RelayHarness.start(db, routes, "checker", Map.of(RelaySettings.RELOAD_INTERVAL.name(), "200"))) {
                Pipelines.await(Duration.ofSeconds(20), "the good pipeline to deliver 5 messages",
                        () -> db.queryOne(Long.class, "SELECT count(*) FROM delivered") == 5);
                // several looks at the folder: a refused file is reported once per content
                Thread.sleep(1000);
                List<RouteFolder.Failure> failures = relay.relay().routeFolder().failures();
                assertEquals(PipelineSamples.REFUSALS.keySet().stream().toList(),
                        failures.stream().map(f -> f.file().getFileName().toString()).toList());
                for (RouteFolder.Failure failure : failures) {
                    String file = failure.file().getFileName().toString();
                    assertTrue(failure.reason().startsWith(failure.file() + ":" + PipelineSamples.REFUSALS.get(file)),
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
