package io.pgtide.relay.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaPerClass;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Invariant 3 of docs/DESIGN.md: one owner per pipeline; when it goes, another relay takes over with nothing lost. */
class FailoverTest {

    private static final String PIPELINE = "orders-to-kafka";
    @RegisterExtension
    static final KafkaPerClass broker = new KafkaPerClass();
    private TestDatabase db;
    private String topic;

    @BeforeEach
    void outbox(@TempDir Path routes) throws Exception {
        db = database();
        topic = "failover-" + System.nanoTime();
        Kafka.createTopic(broker.bootstrapServers(), topic, 1);
    }

    /** The database with outbox "orders" the tests run on: plain storage here, partitioned in {@link PartitionedFailoverTest}. */
    TestDatabase database() throws SQLException {
        return TestDatabase.withOutbox("orders");
    }

    @AfterEach
    void drop() throws Exception {
        db.close();
    }

    @Test
    void exactlyOneRelayConsumesAndTheOtherTakesOverWhenTheLockSessionIsTerminated(@TempDir Path routes)
            throws Exception {
        Pipelines.kafkaPipeline(routes, PIPELINE, "orders", topic, broker.bootstrapServers());
        try (RelayHarness a = RelayHarness.start(db, routes, "relay-a");
             RelayHarness b = RelayHarness.start(db, routes, "relay-b");
             Producers producers = Producers.background(db, "orders", 2, 100)) {
            Pipelines.await(Duration.ofSeconds(10), "an owner", () -> a.owns(PIPELINE) || b.owns(PIPELINE));
            for (int i = 0; i < 10; i++) {
                assertNotEquals(a.owns(PIPELINE), b.owns(PIPELINE), "exactly one relay owns the pipeline");
                Thread.sleep(100);
            }
            RelayHarness owner = a.owns(PIPELINE) ? a : b;
            RelayHarness other = owner == a ? b : a;

            assertEquals(1, Locks.terminate(db, owner.instance(), PIPELINE));
            long terminated = System.nanoTime();
            Pipelines.await(Duration.ofSeconds(5), "the other relay to take over", () -> other.owns(PIPELINE));
            long takeoverMillis = (System.nanoTime() - terminated) / 1_000_000;
            assertTrue(takeoverMillis <= 2000, "took over in " + takeoverMillis + " ms");
            Pipelines.await(Duration.ofSeconds(3), "the old owner's route to stop",
                    () -> !owner.context().getRouteController().getRouteStatus(PIPELINE).isStarted());

            Thread.sleep(1000);
            assertAllDelivered(producers.stop());
        }
    }

    @Test
    void aKilledRelayProcessIsReplacedWithNothingLost(@TempDir Path routes) throws Exception {
        Pipelines.kafkaPipeline(routes, PIPELINE, "orders", topic, broker.bootstrapServers());
        try (ChildRelay child = ChildRelay.start(db, routes, "child", Map.of());
             Producers producers = Producers.background(db, "orders", 2, 100)) {
            Pipelines.await(Duration.ofSeconds(60), "the child relay to own the pipeline",
                    () -> Locks.held(db, "child", PIPELINE));
            Pipelines.await(Duration.ofSeconds(30), "the child relay to deliver",
                    () -> Pipelines.offset(db, PIPELINE) > 0);
            try (RelayHarness survivor = RelayHarness.start(db, routes, "survivor")) {
                Thread.sleep(500);
                assertTrue(!survivor.owns(PIPELINE), "the child still owns the pipeline");
                child.kill();
                long killed = System.nanoTime();
                Pipelines.await(Duration.ofSeconds(5), "the survivor to take over", () -> survivor.owns(PIPELINE));
                long takeoverMillis = (System.nanoTime() - killed) / 1_000_000;
                assertTrue(takeoverMillis <= 2000, "took over in " + takeoverMillis + " ms");
                Thread.sleep(1000);
                assertAllDelivered(producers.stop());
            }
        }
    }

    /** With nothing to deliver, no failing call reveals the loss: the lock watch alone must notice it. */
    @Test
    void anIdleOwnerStopsItsRouteWithinAboutASecondOfLosingItsLock(@TempDir Path routes) throws Exception {
        Pipelines.kafkaPipeline(routes, PIPELINE, "orders", topic, broker.bootstrapServers());
        try (RelayHarness relay = RelayHarness.start(db, routes, "idle-owner", Map.of(RelaySettings.LOCK_INTERVAL.name(), "1000"))) {
            Pipelines.await(Duration.ofSeconds(10), "the route to run", () -> relay.owns(PIPELINE)
                    && relay.context().getRouteController().getRouteStatus(PIPELINE).isStarted());
            assertEquals(1, Locks.terminate(db, relay.instance(), PIPELINE));
            long terminated = System.nanoTime();
            Pipelines.await(Duration.ofSeconds(5), "the route to stop",
                    () -> !relay.context().getRouteController().getRouteStatus(PIPELINE).isStarted());
            long stoppedMillis = (System.nanoTime() - terminated) / 1_000_000;
            assertTrue(stoppedMillis <= 2500, "stopped " + stoppedMillis + " ms after the lock was lost (interval 1 s,"
                    + " stop grace 1 s)");
        }
    }

    /**
     * With traffic, a failed offset advance finds the loss first: it too must stop the route at once, or the
     * route re-sends batches whose offsets can no longer move until the owner's next look (10 s here).
     */
    @Test
    void aBusyOwnerStopsItsRouteAtOnceWhenAnAdvanceFindsItsLockGone(@TempDir Path routes) throws Exception {
        Pipelines.kafkaPipeline(routes, PIPELINE, "orders", topic, broker.bootstrapServers());
        try (RelayHarness relay = RelayHarness.start(db, routes, "busy-owner", Map.of(RelaySettings.LOCK_INTERVAL.name(), "1000"));
             Producers producers = Producers.background(db, "orders", 2, 200)) {
            Pipelines.await(Duration.ofSeconds(10), "the route to deliver", () -> Pipelines.offset(db, PIPELINE) > 0);
            // settled: the owner now looks at its route only every 10 intervals unless told of a loss
            Thread.sleep(1500);
            assertEquals(1, Locks.terminate(db, relay.instance(), PIPELINE));
            long terminated = System.nanoTime();
            Pipelines.await(Duration.ofSeconds(15), "the route to stop",
                    () -> !relay.context().getRouteController().getRouteStatus(PIPELINE).isStarted());
            long stoppedMillis = (System.nanoTime() - terminated) / 1_000_000;
            assertTrue(stoppedMillis <= 2500, "stopped " + stoppedMillis + " ms after the lock was lost");
        }
    }

    /** Every committed message is in Kafka (duplicates allowed), nothing else is, and the offset is at the end. */
    private void assertAllDelivered(List<Long> committed) throws Exception {
        long last = Pipelines.lastRow(db, "orders");
        Pipelines.await(Duration.ofSeconds(60), "the offset to reach the last row",
                () -> Pipelines.offset(db, PIPELINE) == last);
        Set<Long> delivered = Kafka.copiesById(broker.bootstrapServers(), topic, committed, Duration.ofSeconds(30)).keySet();
        OutboxRows.assertNoneLost(committed, delivered);
        assertEquals(new HashSet<>(committed), delivered, "nothing but committed messages delivered");
    }
}
