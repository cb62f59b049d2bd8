package io.pgtide.relay.offset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Kafka outage in mid-stream stops the offset; nothing is skipped and everything arrives once Kafka is back. */
class KafkaOutageTest {

    private static final String PIPELINE = "orders-to-kafka";

    @Test
    void theOffsetWaitsForTheBrokerAndNothingIsSkipped(@TempDir Path routes) throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(); TestDatabase db = TestDatabase.withOutbox("orders")) {
            Kafka.createTopic(broker.bootstrapServers(), "outage", 1);
            Pipelines.kafkaPipeline(routes, PIPELINE, "orders", "outage", broker.bootstrapServers());
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay");
                 Producers producers = Producers.background(db, "orders", 2, 100)) {
                Pipelines.await(Duration.ofSeconds(20), "first deliveries", () -> Pipelines.offset(db, PIPELINE) > 0);

                broker.stop();
                Thread.sleep(1500);
                long stalled = Pipelines.offset(db, PIPELINE);
                Thread.sleep(3000);
                assertEquals(stalled, Pipelines.offset(db, PIPELINE), "the offset does not move while Kafka is down");
                assertTrue(Pipelines.lastRow(db, "orders") > stalled, "messages kept coming during the outage");

                broker.restart();
                List<Long> committed = producers.stop();
                long last = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(120), "the offset to reach the last row after the outage",
                        () -> Pipelines.offset(db, PIPELINE) == last);

                Set<Long> delivered = Kafka.copiesById(broker.bootstrapServers(), "outage", committed,
                        Duration.ofSeconds(30)).keySet();
                OutboxRows.assertNoneLost(committed, delivered);
            }
        }
    }
}
