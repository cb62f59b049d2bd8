package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TcpProxy;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;

/**
 * The connection cut the MQTT, NATS and Redis sink tests go through alike: a relay delivers the pipeline, whose
 * broker address leads through the proxy, while two producers publish to outbox orders; the connection is cut
 * for some 4.5 s (well inside the redelivery budget) and restored. While cut, the offset stands still and every
 * message up to it is at the broker; once restored, the offset reaches the last row.
 */
final class ConnectionCut {

    /** The pg-tide ids the broker holds (or its subscriber received) so far. */
    @FunctionalInterface
    interface Arrived {
        Collection<Long> ids() throws Exception;
    }

    private ConnectionCut() {
    }

    /**
     * Runs the cut and returns the ids the producers committed, for the caller's check of what arrived.
     * {@code arrival}: how long the messages up to the stalled offset may take to show in {@code arrived};
     * zero where the broker acknowledged them from its store, so they are there when the offset moves.
     */
    static List<Long> run(TestDatabase db, Path routes, String pipeline, TcpProxy proxy, String broker,
                          Duration arrival, Arrived arrived) throws Exception {
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay");
             Producers producers = Producers.background(db, "orders", 2, 100)) {
            await(Duration.ofSeconds(20), "first deliveries", () -> offset(db, pipeline) > 0);
            Thread.sleep(1000);

            proxy.cut();
            Thread.sleep(1500);
            long stalled = offset(db, pipeline);
            List<Long> acknowledged = OutboxRows.of(db, "orders").upTo(stalled);
            await(arrival, "every message up to the offset at " + broker,
                    () -> new HashSet<>(arrived.ids()).containsAll(acknowledged));
            Thread.sleep(3000);
            assertEquals(stalled, offset(db, pipeline), "the offset does not move while " + broker + " is cut off");
            assertTrue(lastRow(db, "orders") > stalled, "messages kept coming during the outage");
            proxy.restore();

            List<Long> committed = producers.stop();
            long last = lastRow(db, "orders");
            await(Duration.ofSeconds(40), "the offset to reach the last row after the outage",
                    () -> offset(db, pipeline) == last);
            return committed;
        }
    }
}
