package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 19, point 3: a registration nobody polls any more (a deleted pipeline, a mistyped id) still holds
 * retention back at its offset, but it is never silent: consumer_lag.unseen_seconds grows for it alone.
 * Polls mark a pipeline seen without writing on every empty poll.
 */
class AbandonedRegistrationTest {

    private TestDatabase db;

    @BeforeEach
    void createOutbox() throws SQLException {
        db = TestDatabase.withExtension();
        db.execute("SELECT tide.outbox_create('orders', 1)");
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        db.close();
    }

    private Poller poller(String pipeline) throws SQLException {
        return new Poller(db.connect(), db.connect(), pipeline, "orders");
    }

    private double unseenSeconds(String pipeline) throws SQLException {
        return db.queryOne(Double.class, "SELECT unseen_seconds FROM tide.consumer_lag WHERE pipeline = ?", pipeline);
    }

    private void lastSeen(String pipeline, String ago) throws SQLException {
        db.execute("UPDATE tide.relay_consumer_offsets SET last_seen_at = now() - interval '" + ago
                + "' WHERE pipeline = '" + pipeline + "'");
    }

    /** The offset row's version: it changes exactly when something writes the row. */
    private String rowVersion(String pipeline) throws SQLException {
        return db.queryOne(String.class, "SELECT xmin::text || ctid::text FROM tide.relay_consumer_offsets WHERE pipeline = ?",
                pipeline);
    }

    @Test
    void aRegistrationNobodyPollsShowsInConsumerLagAndHoldsRetentionUntilUnregistered() throws Exception {
        for (int i = 0; i < 3; i++) {
            db.execute("SELECT tide.outbox_publish('orders', '{\"n\": " + i + "}')");
        }
        db.execute("UPDATE tide.tide_outbox_messages SET created_at = now() - interval '2 hours'");
        try (Poller live = poller("live")) {
            assertEquals(3, live.drainAtLeast(3).size());
            db.execute("SELECT tide.relay_register('lvie', 'orders')"); // the mistyped id of a pipeline file
            lastSeen("lvie", "1 hour");

            assertTrue(unseenSeconds("lvie") >= 3600, "unseen " + unseenSeconds("lvie"));
            assertTrue(unseenSeconds("live") < 30, "unseen " + unseenSeconds("live"));
            assertEquals(3L, db.queryOne(Long.class, "SELECT pending FROM tide.consumer_lag WHERE pipeline = 'lvie'"));
            assertEquals(0L, db.queryOne(Long.class, "SELECT tide.outbox_sweep('orders')"),
                    "a registration holds retention back at its offset, seen or not");

            assertTrue(db.queryOne(Boolean.class, "SELECT tide.relay_unregister('lvie', 'orders')"));
            assertEquals(3L, db.queryOne(Long.class, "SELECT tide.outbox_sweep('orders')"));
        }
    }

    @Test
    void anEmptyPollWritesTheMarkOnlyWhenItIsOlderThanThirtySeconds() throws Exception {
        try (Poller p = poller("p1")) {
            assertEquals(List.of(), p.poll(10));
            lastSeen("p1", "10 seconds");
            String version = rowVersion("p1");
            assertEquals(List.of(), p.poll(10));
            assertEquals(version, rowVersion("p1"), "a recent mark is not written again");
            assertTrue(unseenSeconds("p1") >= 10);

            lastSeen("p1", "1 hour");
            assertEquals(List.of(), p.poll(10));
            assertTrue(unseenSeconds("p1") < 5, "unseen " + unseenSeconds("p1"));
        }
    }

    @Test
    void anAdvanceMarksThePipelineSeen() throws Exception {
        db.execute("SELECT tide.outbox_publish('orders', '{\"n\": 1}')");
        try (Poller p = poller("p1")) {
            List<Poller.Row> batch = p.pollAtLeast(1, 10);
            lastSeen("p1", "1 hour");
            assertTrue(p.advance(batch.get(0)));
            assertTrue(unseenSeconds("p1") < 5, "unseen " + unseenSeconds("p1"));
        }
    }
}
