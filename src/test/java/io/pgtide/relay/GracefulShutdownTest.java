package io.pgtide.relay;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM finishes the in-flight batch, advances its offset and releases the locks before the process
 * exits: the relay that takes over continues exactly where it stopped, with no duplicate.
 */
class GracefulShutdownTest {

    private static final String PIPELINE = "orders-to-kafka";

    @Test
    void sigtermMidStreamHandsOverWithNothingLostAndNoDuplicate(@TempDir Path routes) throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(); TestDatabase db = TestDatabase.withOutbox("orders")) {
            Kafka.createTopic(broker.bootstrapServers(), "graceful", 1);
            Pipelines.kafkaPipeline(routes, PIPELINE, "orders", "graceful", broker.bootstrapServers());
            try (ChildRelay child = ChildRelay.start(db, routes, "child", Map.of());
                 Producers producers = Producers.background(db, "orders", 2, 200)) {
                await(Duration.ofSeconds(60), "the child relay to own the pipeline and deliver", () -> Locks.held(db, "child", PIPELINE) && offset(db, PIPELINE) > 0);
                try (RelayHarness next = RelayHarness.start(db, routes, "next")) {
                    Thread.sleep(500);
                    child.process().destroy();
                    assertTrue(child.process().waitFor(30, TimeUnit.SECONDS), "the child exits within the drain timeout");
                    String output = child.output();
                    await(Duration.ofSeconds(5), "the next relay to take the pipeline", () -> next.owns(PIPELINE));
                    Thread.sleep(1000);
                    List<Long> committed = producers.stop();
                    long last = db.queryOne(Long.class, "SELECT id FROM tide.tide_outbox_messages ORDER BY tx DESC, id DESC LIMIT 1");
                    await(Duration.ofSeconds(60), "the offset to reach the last row", () -> offset(db, PIPELINE) == last);

                    Map<Long, Integer> copies = Kafka.copiesById(broker.bootstrapServers(), "graceful", committed,
                            Duration.ofSeconds(30));
                    assertEquals(new HashSet<>(committed), copies.keySet(), "every committed message delivered");
                    assertTrue(copies.values().stream().allMatch(n -> n == 1),
                            "no duplicate after a graceful stop\n" + output);
                }
            }
        }
    }
}
