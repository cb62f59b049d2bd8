package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Invariant 1 of docs/DESIGN.md: no committed message is ever skipped, whatever order producers commit in. */
class OutOfOrderCommitTest {

    private TestDatabase db;

    @BeforeEach
    void createOutbox() throws SQLException {
        db = database();
    }

    /** The database with outbox "orders" the tests run on: plain storage here, partitioned in {@link PartitionedOutOfOrderCommitTest}. */
    TestDatabase database() throws SQLException {
        return TestDatabase.withOutbox("orders");
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        db.close();
    }

    private Poller poller() throws SQLException {
        return new Poller(db.connect(), db.connect(), "p1", "orders");
    }

    private static long publish(Connection c, String payload) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT tide.outbox_publish('orders', ?::jsonb)")) {
            ps.setString(1, payload);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void anOpenTransactionHoldsBackEverythingCommittedAfterIt() throws Exception {
        try (Poller poller = poller(); Connection early = db.connect(); Connection late = db.connect();
             Connection undone = db.connect()) {
            try (Connection before = db.connect()) {
                publish(before, "{\"n\": 0}");
            }
            early.setAutoCommit(false);
            late.setAutoCommit(false);
            undone.setAutoCommit(false);

            long earlyId = publish(early, "{\"n\": 1}");          // takes its xid first, stays open
            long lateId = publish(late, "{\"n\": 2}");
            late.commit();                                       // commits before the earlier writer
            publish(undone, "{\"n\": 3}");
            undone.rollback();

            List<Poller.Row> first = poller.drainAtLeast(1);
            assertEquals(1, first.size(), "only the row committed before the open transaction is deliverable");
            assertEquals("{\"n\": 0}", first.get(0).payload());

            early.commit();
            List<Poller.Row> rest = poller.drainAtLeast(2);
            assertEquals(List.of(earlyId, lateId), rest.stream().map(Poller.Row::id).toList(),
                    "both rows arrive once the open transaction commits, in (tx, id) order");
            assertTrue(poller.drain(1000).isEmpty(), "the rolled-back row is never delivered");
        }
    }

    @Test
    void aLaterIdCommittedFirstIsDeliveredAfterTheEarlierTransaction() throws Exception {
        try (Poller poller = poller(); Connection early = db.connect(); Connection late = db.connect()) {
            early.setAutoCommit(false);
            late.setAutoCommit(false);
            try (var st = early.createStatement()) {
                st.execute("SELECT pg_current_xact_id()");        // the older transaction...
            }
            long lateTxRow = publish(late, "{\"n\": \"late\"}");
            long earlyTxRow = publish(early, "{\"n\": \"early\"}"); // ...writes a higher id
            late.commit();
            assertTrue(poller.drain(1000).isEmpty(), "nothing may pass the older open transaction");
            early.commit();
            assertEquals(List.of(earlyTxRow, lateTxRow), poller.drainAtLeast(2).stream().map(Poller.Row::id).toList(),
                    "ordered by writing transaction, not by id");
        }
    }

    /**
     * Producers commit in random order with random delays, rollbacks and multi-row transactions while
     * a poller polls and advances in a loop: what it delivers must equal what was committed, exactly.
     * With -Dpg_tide.test.offset=max-id the poller keeps max(id) as its offset instead, and loses rows.
     */
    @Test
    void randomizedProducersAndPollerDeliverExactlyTheCommittedRows() throws Exception {
        boolean naive = "max-id".equals(System.getProperty("pg_tide.test.offset"));
        int producers = 6;
        int transactionsEach = 120;
        ConcurrentLinkedQueue<Long> committed = new ConcurrentLinkedQueue<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(producers + 1);
        List<Future<?>> work = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            work.add(pool.submit(() -> {
                try (Connection c = db.connect()) {
                    c.setAutoCommit(false);
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int t = 0; t < transactionsEach; t++) {
                        List<Long> ids = new ArrayList<>();
                        int rows = 1 + random.nextInt(4);
                        for (int r = 0; r < rows; r++) {
                            ids.add(publish(c, "{\"t\": " + t + "}"));
                        }
                        Thread.sleep(random.nextInt(15));
                        if (random.nextInt(10) == 0) {
                            c.rollback();
                        } else {
                            c.commit();
                            committed.addAll(ids);
                        }
                    }
                }
                return null;
            }));
        }
        List<Poller.Row> delivered = new ArrayList<>();
        Future<?> polling = pool.submit(() -> {
            try (Poller poller = poller(); Connection c = db.connect()) {
                long maxId = 0;
                long deadline = Long.MAX_VALUE;
                while (true) {
                    boolean last = !producing.get();
                    if (last && deadline == Long.MAX_VALUE) {
                        deadline = System.nanoTime() + 10_000_000_000L;
                    }
                    List<Poller.Row> batch = naive ? pollByMaxId(c, maxId) : poller.poll(50);
                    if (!batch.isEmpty()) {
                        delivered.addAll(batch);
                        maxId = batch.get(batch.size() - 1).id();
                        if (!naive) {
                            poller.advance(batch.get(batch.size() - 1));
                        }
                    } else if (last && (delivered.size() >= committed.size() || System.nanoTime() > deadline)) {
                        return null;
                    }
                }
            }
        });
        for (Future<?> f : work) {
            f.get(2, TimeUnit.MINUTES);
        }
        producing.set(false);
        polling.get(2, TimeUnit.MINUTES);
        pool.shutdown();

        Set<Long> deliveredIds = new HashSet<>();
        delivered.forEach(r -> deliveredIds.add(r.id()));
        Set<Long> committedIds = new HashSet<>(committed);
        Set<Long> lost = new HashSet<>(committedIds);
        lost.removeAll(deliveredIds);
        Set<Long> phantom = new HashSet<>(deliveredIds);
        phantom.removeAll(committedIds);
        assertTrue(lost.isEmpty(), lost.size() + " of " + committedIds.size() + " committed rows never delivered, e.g. "
                + lost.stream().sorted().limit(10).toList());
        assertTrue(phantom.isEmpty(), "delivered rows never committed: " + phantom);
        assertEquals(delivered.size(), deliveredIds.size(), "a single poller delivers each row once");
        if (!naive) {
            List<Poller.Row> sorted = new ArrayList<>(delivered);
            sorted.sort(Comparator.comparingLong(Poller.Row::tx).thenComparingLong(Poller.Row::id));
            assertEquals(sorted, delivered, "delivery in (tx, id) order");
        }
    }

    /** The textbook offset: everything with an id above the highest id seen. */
    private static List<Poller.Row> pollByMaxId(Connection c, long maxId) throws SQLException {
        List<Poller.Row> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, tx::text::bigint, key, payload::text"
                + " FROM tide.outbox_messages WHERE outbox_name = 'orders' AND id > ? ORDER BY id LIMIT 50")) {
            ps.setLong(1, maxId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Poller.Row(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4)));
                }
            }
        }
        return rows;
    }
}
