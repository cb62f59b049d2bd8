package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The failure the MQTT and NATS sink tests go through alike: once 100 messages are delivered, the sink fails for
 * longer than the error handler's redelivery budget (0.5 + 1 + 2 + 4 + 8 s, each +-15 %) while a 400-row batch
 * waits, so its first message exhausts its retries. The offset must stand still, and once the sink recovers it
 * reaches the last row: the caller then checks that the batch came again from its start, in order.
 */
final class WholeBatchFailure {

    /** Breaks or mends the sink. */
    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    private WholeBatchFailure() {
    }

    static void run(TestDatabase db, Path routes, String pipeline, Step fail, Step recover) throws Exception {
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
            Producers.publish(db, "orders", 2, 100);
            long first = lastRow(db, "orders");
            await(Duration.ofSeconds(20), "first deliveries", () -> offset(db, pipeline) == first);

            fail.run();
            insertBurst(db, 400);
            await(Duration.ofSeconds(40), "the batch to use up its retries", () -> Boolean.TRUE.equals(db.queryOne(
                    Boolean.class, "SELECT gave_up_at IS NOT NULL FROM tide.relay_consumer_offsets WHERE pipeline = ?", pipeline)));
            assertEquals(first, offset(db, pipeline), "the offset does not move while the sink fails");
            recover.run();

            long last = lastRow(db, "orders");
            await(Duration.ofSeconds(30), "the offset to reach the last row once the sink recovers",
                    () -> offset(db, pipeline) == last);
        }
    }

    /** Rows committed in one transaction, so the relay polls them as one batch: keys k0..k9, headers type and n. */
    static void insertBurst(TestDatabase db, int rows) throws SQLException {
        db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers)"
                + " SELECT 'orders', 'k' || (g % 10), jsonb_build_object('order', g),"
                + " jsonb_build_object('type', 'order.created', 'n', g::text) FROM generate_series(1, " + rows + ") g");
    }
}
