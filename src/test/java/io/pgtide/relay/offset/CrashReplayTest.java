package io.pgtide.relay.offset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaPerClass;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Invariant 2 of docs/DESIGN.md: the offset moves only after the sink acknowledged; a crash gives duplicates, never a gap. */
class CrashReplayTest {

    private static final String PIPELINE = "orders-to-kafka";
    @RegisterExtension
    static final KafkaPerClass broker = new KafkaPerClass();

    @Test
    void aCrashAfterTheSinkAcknowledgedButBeforeTheOffsetMovedDeliversTheBatchAgain(@TempDir Path crashing,
            @TempDir Path healthy) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            String topic = "crash-" + System.nanoTime();
            Kafka.createTopic(broker.bootstrapServers(), topic, 1);
            Path file = Pipelines.kafkaPipeline(crashing, PIPELINE, "orders", topic, broker.bootstrapServers());
            Files.writeString(file, Files.readString(file) + """
                            - bean:
                                beanType: io.pgtide.relay.testing.HaltAfterSink
                                method: halt
                    """);
            Pipelines.kafkaPipeline(healthy, PIPELINE, "orders", topic, broker.bootstrapServers());
            List<Long> committed = Producers.publish(db, "orders", 2, 500);

            try (ChildRelay child = ChildRelay.start(db, crashing, "crashing", Map.of())) {
                assertEquals(137, child.process().waitFor(), "the child halts after its first batch:\n" + child.output());
            }
            List<ConsumerRecord<String, String>> acknowledged =
                    Kafka.readAll(broker.bootstrapServers(), topic, 500, Duration.ofSeconds(20));
            assertEquals(500, acknowledged.size(), "the sink acknowledged the whole batch before the crash");
            assertEquals(0, Pipelines.offset(db, PIPELINE), "the offset did not move");

            try (RelayHarness relay = RelayHarness.start(db, healthy, "restarted")) {
                long last = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(30), "the offset to reach the last row",
                        () -> Pipelines.offset(db, PIPELINE) == last);
            }
            Map<Long, Integer> copies = Kafka.copiesById(broker.bootstrapServers(), topic, committed, Duration.ofSeconds(20));
            assertEquals(new HashSet<>(committed), copies.keySet(), "every message delivered, none lost");
            assertTrue(copies.values().stream().allMatch(n -> n == 2), "the crashed batch was delivered again");
        }
    }

    @Test
    void anOwnerThatLostItsLockMidBatchNeverMovesTheOffset(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            String topic = "fenced-" + System.nanoTime();
            Kafka.createTopic(broker.bootstrapServers(), topic, 1);
            Path file = Pipelines.kafkaPipeline(routes, PIPELINE, "orders", topic, broker.bootstrapServers());
            // a slow step before the sink keeps the first batch in flight while the lock goes
            Files.writeString(file, Files.readString(file).replace("      steps:\n",
                    "      steps:\n        - delay:\n            constant: 1500\n"));
            List<Long> committed = Producers.publish(db, "orders", 2, 300);
            try (RelayHarness slow = RelayHarness.start(db, routes, "slow")) {
                Pipelines.await(Duration.ofSeconds(10), "the slow relay to own the pipeline", () -> slow.owns(PIPELINE));
                Thread.sleep(300);
                assertEquals(1, Locks.terminate(db, "slow", PIPELINE));
                Thread.sleep(2500);
                assertEquals(0, Pipelines.offset(db, PIPELINE), "the batch in flight when the lock went did not move it");
                String owner = db.queryOne(String.class, "SELECT owner FROM tide.relay_consumer_offsets");
                assertTrue(owner == null, "no advance recorded, found " + owner);
            }
            Set<Long> delivered = Kafka.copiesById(broker.bootstrapServers(), topic, committed, Duration.ofSeconds(10)).keySet();
            assertEquals(new HashSet<>(committed), delivered, "the fenced owner's sends still reached the sink");
        }
    }
}
