package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retention: outbox_sweep deletes a row only once it is older than the retention and every pipeline on its outbox passed it. */
class SweepTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private TestDatabase db;

    @BeforeEach
    void createOutboxes() throws SQLException {
        db = TestDatabase.withExtension();
        db.execute("SELECT tide.outbox_create('orders', 1)");
        db.execute("SELECT tide.outbox_create('audit', 1)");
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        db.close();
    }

    private List<Long> publish(String outbox, int count) throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(db.queryOne(Long.class, "SELECT tide.outbox_publish(?, ?::jsonb)", outbox, "{\"n\": " + i + "}"));
        }
        return ids;
    }

    /** Publishes count messages, created 2 hours ago: past the outboxes' retention of 1 hour. */
    private List<Long> publishOld(String outbox, int count) throws SQLException {
        List<Long> ids = publish(outbox, count);
        age(ids, "2 hours");
        return ids;
    }

    private void age(List<Long> ids, String interval) throws SQLException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "UPDATE tide.tide_outbox_messages SET created_at = now() - ?::interval WHERE id = ?")) {
            for (long id : ids) {
                ps.setString(1, interval);
                ps.setLong(2, id);
                assertEquals(1, ps.executeUpdate());
            }
        }
    }

    private List<Long> remaining(String outbox) throws SQLException {
        return db.queryList(Long.class, "SELECT id FROM tide.tide_outbox_messages WHERE outbox_name = ? ORDER BY id", outbox);
    }

    /** Pipeline p1 of outbox orders, its offset past the last of ids. */
    private Poller pastAll(List<Long> ids) throws Exception {
        Poller p1 = poller("p1", "orders");
        advancePast(p1, ids.get(ids.size() - 1));
        return p1;
    }

    private long sweep(String outbox) throws SQLException {
        return db.queryOne(Long.class, "SELECT tide.outbox_sweep(?)", outbox);
    }

    private long sweep(String outbox, int batch) throws SQLException {
        return db.queryOne(Long.class, "SELECT tide.outbox_sweep(?, ?)", outbox, batch);
    }

    /** Sweeps until the expected number is reached: without pipelines, a transaction open anywhere on the server holds rows back. */
    private long sweepUntil(String outbox, long expected) throws Exception {
        long deleted = 0;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            deleted += sweep(outbox);
            if (deleted >= expected || System.nanoTime() > deadline) {
                return deleted;
            }
            Thread.sleep(50);
        }
    }

    private Poller poller(String pipeline, String outbox) throws SQLException {
        return new Poller(db.connect(), db.connect(), pipeline, outbox);
    }

    /** Polls until the row is deliverable and moves the pipeline's offset to it. */
    private static void advancePast(Poller poller, long id) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Poller.Row row : poller.poll(1000)) {
                if (row.id() == id) {
                    assertTrue(poller.advance(row));
                    return;
                }
            }
            Thread.sleep(50);
        }
        fail("row " + id + " was never delivered");
    }

    @Test
    void onlyOldRowsUpToTheSlowerPipelinesOffsetGo() throws Exception {
        List<Long> ids = publish("orders", 6);
        age(List.of(ids.get(0), ids.get(2), ids.get(3), ids.get(4), ids.get(5)), "2 hours");
        try (Poller fast = poller("fast", "orders"); Poller slow = poller("slow", "orders")) {
            advancePast(fast, ids.get(5));
            advancePast(slow, ids.get(2));
            assertEquals(2, sweep("orders"));
            assertEquals(List.of(ids.get(1), ids.get(3), ids.get(4), ids.get(5)), remaining("orders"),
                    "row 1 is young, rows 3 to 5 are not passed by the slower pipeline");
        }
    }

    @Test
    void aRegisteredPipelineThatReadNothingKeepsEverything() throws Exception {
        List<Long> ids = publish("orders", 3);
        age(ids, "10 years");
        try (Poller done = poller("done", "orders"); Poller idle = poller("idle", "orders")) {
            advancePast(done, ids.get(2));
            idle.poll(1);
            assertEquals(0, sweep("orders"));
            assertEquals(ids, remaining("orders"));
        }
    }

    @Test
    void rowsYoungerThanTheRetentionStayEvenWhenEveryPipelinePassedThem() throws Exception {
        List<Long> ids = publish("orders", 3);
        age(List.of(ids.get(0)), "59 minutes");
        age(List.of(ids.get(1)), "61 minutes");
        try (Poller p1 = pastAll(ids)) {
            assertEquals(1, sweep("orders"));
            assertEquals(List.of(ids.get(0), ids.get(2)), remaining("orders"));
        }
    }

    @Test
    void withNoPipelineRegisteredRetentionAloneDecides() throws Exception {
        List<Long> ids = publish("orders", 3);
        age(List.of(ids.get(0), ids.get(1)), "2 hours");
        assertEquals(2, sweepUntil("orders", 2));
        assertEquals(List.of(ids.get(2)), remaining("orders"));
    }

    @Test
    void theBatchLimitsEachCallAndRepeatedCallsFinish() throws Exception {
        List<Long> ids = publishOld("orders", 5);
        try (Poller p1 = pastAll(ids)) {
            assertEquals(2, sweep("orders", 2));
            assertEquals(ids.subList(2, 5), remaining("orders"));
            assertEquals(2, sweep("orders", 2));
            assertEquals(ids.subList(4, 5), remaining("orders"));
            assertEquals(1, sweep("orders", 2));
            assertEquals(0, sweep("orders", 2));
            assertTrue(remaining("orders").isEmpty());
        }
    }

    @Test
    void sweepingOneOutboxByNameLeavesTheOthersAlone() throws Exception {
        List<Long> orders = publishOld("orders", 2);
        List<Long> audit = publishOld("audit", 2);
        assertEquals(2, sweepUntil("orders", 2));
        assertTrue(remaining("orders").isEmpty());
        assertEquals(audit, remaining("audit"));
    }

    @Test
    void sweepingAnUnknownOutboxIsAnErrorNamingIt() throws SQLException {
        List<Long> ids = publishOld("orders", 1);
        SQLException error = assertThrows(SQLException.class, () -> sweep("nowhere"));
        assertEquals("42704", error.getSQLState());
        assertTrue(error.getMessage().contains("\"nowhere\""), error.getMessage());
        assertEquals(ids, remaining("orders"));
    }

    @Test
    void aPipelineOnAnotherOutboxDoesNotHoldThisOneBack() throws Exception {
        List<Long> orders = publishOld("orders", 3);
        List<Long> audit = publishOld("audit", 2);
        try (Poller ordersPipeline = poller("orders-feed", "orders"); Poller auditPipeline = poller("audit-feed", "audit")) {
            advancePast(ordersPipeline, orders.get(2));
            auditPipeline.poll(1);
            assertEquals(3, db.queryOne(Long.class, "SELECT tide.outbox_sweep()"));
            assertTrue(remaining("orders").isEmpty());
            assertEquals(audit, remaining("audit"));
        }
    }

    /**
     * Issue 13: a batch walks the primary key's range, never the whole table. Counted by the executor itself
     * (this transaction's scans in pg_stat_xact_user_tables), so the check needs no copy of the sweep's SQL.
     */
    @Test
    void aBatchOnALargeOutboxScansNoWholeTable() throws Exception {
        fillPastRetention(db, "big", 200_000);
        assertEquals(List.of(1000L, 0L), scansOfOneSweep(db, "big", 1000));
    }

    /** The check above fails against the released sweep (0.1.0: DELETE ... WHERE id IN (...), no index on id). */
    @Test
    void theScanCheckCatchesTheReleasedSweep() throws Exception {
        try (TestDatabase released = TestDatabase.withExtension("0.1.0")) {
            fillPastRetention(released, "big", 200_000);
            List<Long> scans = scansOfOneSweep(released, "big", 1000);
            assertEquals(1000L, scans.get(0));
            assertTrue(scans.get(1) > 0, "0.1.0's sweep should scan the whole table: " + scans);
        }
    }

    /** An outbox of {@code rows} rows two days old, and a pipeline whose offset is past them all, analyzed. */
    private static void fillPastRetention(TestDatabase target, String outbox, int rows) throws SQLException {
        target.execute("SELECT tide.outbox_create('" + outbox + "', 1)");
        target.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, created_at)"
                + " SELECT '" + outbox + "', 'k' || g % 100, jsonb_build_object('n', g), now() - interval '2 days'"
                + " FROM generate_series(1, " + rows + ") g");
        target.execute("SELECT tide.relay_register('p1', '" + outbox + "')");
        target.execute("UPDATE tide.relay_consumer_offsets SET last_tx = pg_snapshot_xmin(pg_current_snapshot()),"
                + " last_id = 9223372036854775807 WHERE outbox_name = '" + outbox + "'");
        target.execute("ANALYZE tide.tide_outbox_messages");
    }

    /** Rows one sweep batch deleted, and the sequential scans of the messages table it ran (rolled back). */
    private static List<Long> scansOfOneSweep(TestDatabase target, String outbox, int batch) throws SQLException {
        try (Connection c = target.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement sweep = c.prepareStatement("SELECT tide.outbox_sweep(?, ?)");
                 PreparedStatement scans = c.prepareStatement("SELECT seq_scan FROM pg_stat_xact_user_tables"
                         + " WHERE relid = 'tide.tide_outbox_messages'::regclass")) {
                sweep.setString(1, outbox);
                sweep.setInt(2, batch);
                long deleted;
                try (ResultSet rs = sweep.executeQuery()) {
                    rs.next();
                    deleted = rs.getLong(1);
                }
                try (ResultSet rs = scans.executeQuery()) {
                    rs.next();
                    return List.of(deleted, rs.getLong(1));
                }
            } finally {
                c.rollback();
            }
        }
    }

    @Test
    void aPipelineOfAnotherRelayGroupAlsoHoldsBack() throws Exception {
        List<Long> ids = publishOld("orders", 2);
        try (Poller p1 = pastAll(ids)) {
            db.execute("SELECT tide.relay_register('p1', 'orders', 'other-group')");
            assertEquals(0, sweep("orders"));
            assertEquals(ids, remaining("orders"));
        }
    }
}
