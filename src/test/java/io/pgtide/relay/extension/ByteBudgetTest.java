package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Issue 19, point 6: a poll stops adding rows past a byte budget (p_max_bytes, 8 MiB by default), always returns at
 * least one row, and returns a message larger than the whole budget alone; batches stay a gap-free prefix.
 */
class ByteBudgetTest {

    private static final long MIB = 1024 * 1024;
    private static final long BUDGET = 8 * MIB;

    /** A database of each test's own (JUnit makes an instance per test), dropped after it. */
    @AutoClose
    private final TestDatabase db;

    ByteBudgetTest() throws SQLException {
        db = TestDatabase.withOutbox("orders");
    }

    /** Publishes a message of about {@code mib} MiB (built by the server) and returns its id. */
    private long publish(double mib) throws SQLException {
        return db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', jsonb_build_object('pad', repeat('x', ?)))",
                (int) (mib * MIB));
    }

    private long bytes(List<Poller.Row> batch) throws SQLException {
        long sum = 0;
        for (Poller.Row row : batch) {
            sum += db.queryOne(Long.class, "SELECT size_bytes::bigint FROM tide.tide_outbox_messages WHERE id = ?", row.id());
        }
        return sum;
    }

    private static List<Long> ids(List<Poller.Row> rows) {
        return rows.stream().map(Poller.Row::id).collect(Collectors.toList());
    }

    @Test
    void batchesStayWithinTheBudgetAndALargerMessageComesAlone() throws Exception {
        List<Long> published = new ArrayList<>();
        for (double mib : new double[] {3, 3, 3, 20, 0.001, 3, 3, 3, 3}) {
            published.add(publish(mib));
        }
        List<List<Long>> batches = new ArrayList<>();
        List<Long> delivered = new ArrayList<>();
        try (Poller p = new Poller(db.connect(), db.connect(), "p1", "orders")) {
            p.pollAtLeast(1, 1000);
            for (List<Poller.Row> batch = p.poll(1000); !batch.isEmpty(); batch = p.poll(1000)) {
                long bytes = bytes(batch);
                assertTrue(bytes <= BUDGET || batch.size() == 1, "batch of " + bytes + " bytes: " + ids(batch));
                batches.add(ids(batch));
                delivered.addAll(ids(batch));
                assertTrue(p.advance(batch.get(batch.size() - 1)));
            }
        }
        assertEquals(published, delivered, "every message once, in order, nothing skipped");
        assertEquals(List.of(published.subList(0, 2), published.subList(2, 3), published.subList(3, 4),
                published.subList(4, 7), published.subList(7, 9)), batches);
    }

    @Test
    void aSmallerBudgetAndTheOldCallShapes() throws Exception {
        List<Long> published = List.of(publish(0.001), publish(0.001), publish(0.001));
        try (Poller p = new Poller(db.connect(), db.connect(), "p1", "orders")) {
            assertEquals(3, p.pollAtLeast(3, 10).size());
        }
        assertEquals(List.of(published.get(0)), db.queryList(Long.class,
                "SELECT id FROM tide.relay_poll('p1', 'orders', p_max_bytes => 1)"));
        assertEquals(published.subList(0, 2), db.queryList(Long.class,
                "SELECT id FROM tide.relay_poll('p1', 'orders', 10, NULL, 2 * 1100)"));
        for (String call : List.of("tide.relay_poll('p1', 'orders')", "tide.relay_poll('p1', 'orders', 1000)",
                "tide.relay_poll('p1', 'orders', 1000, 'default')")) {
            assertEquals(published, db.queryList(Long.class, "SELECT id FROM " + call), call);
        }
    }

    @Test
    void rowsWithoutAStoredSizeCountTheirStoredPayload() throws Exception {
        // rows written before the upgrade to 0.2.0, or inserted without outbox_publish, have no size_bytes
        db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, payload)"
                + " SELECT 'orders', jsonb_build_object('n', g, 'pad', repeat(md5(g::text), 1000)) FROM generate_series(1, 10) g");
        try (Poller p = new Poller(db.connect(), db.connect(), "p1", "orders")) {
            assertEquals(10, p.pollAtLeast(10, 100).size());
        }
        long firstThree = db.queryOne(Long.class, "SELECT sum(pg_column_size(payload))::bigint FROM"
                + " (SELECT payload FROM tide.tide_outbox_messages ORDER BY tx, id LIMIT 3) f");
        assertEquals(3, db.queryList(Long.class, "SELECT id FROM tide.relay_poll('p1', 'orders', 100, NULL, ?)", firstThree).size());
        assertEquals(2, db.queryList(Long.class, "SELECT id FROM tide.relay_poll('p1', 'orders', 100, NULL, ?)", firstThree - 1).size());
    }
}
