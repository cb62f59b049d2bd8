package io.pgtide.relay.offset;

import static io.pgtide.relay.testing.Pipelines.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.CnpgBootstrap;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TableSink;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 3: {@code tide.relay_rewind} by timestamp, by message id and by (tx, id) makes a resumed pipeline
 * deliver exactly the messages after the target, in order, and records who, when, from, to and why. A rewind while
 * the pipeline runs or its lock is held, below the retention floor, forward, without a note, or by the relay's own
 * role is refused with an error saying so, and the offset stays where it was.
 */
class RewindTest {

    private static final String OPERATOR = "ops_user";
    private TestDatabase db;

    @BeforeEach
    void databaseWithAnOperator() throws SQLException {
        db = CnpgBootstrap.database(OPERATOR);
        db.execute("CREATE ROLE " + OPERATOR + " LOGIN PASSWORD 'ops'");
        // the grant README documents for whoever may rewind
        db.execute("GRANT USAGE ON SCHEMA tide TO " + OPERATOR);
        db.execute("GRANT EXECUTE ON FUNCTION tide.relay_rewind(text, timestamptz, text, text),"
                + " tide.relay_rewind(text, bigint, text, text), tide.relay_rewind(text, xid8, bigint, text, text) TO " + OPERATOR);
        db.execute("SELECT tide.outbox_create('orders')");
    }

    @AfterEach
    void dropAll() throws SQLException {
        db.close();
        CnpgBootstrap.dropRoles("relay_user", OPERATOR);
    }

    @Test
    void aResumedPipelineDeliversExactlyTheMessagesAfterTheTargetInOrder(@TempDir Path routes) throws Exception {
        TableSink sink = TableSink.create(db, routes, "p1", "orders?delay=100&batchSize=7");
        publish(10);
        Thread.sleep(50);
        Timestamp from = db.queryOne(Timestamp.class, "SELECT now()");
        List<Long> second = publish(10);
        List<Long> third = publish(10);
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
            await(Duration.ofSeconds(20), "everything delivered", () -> Pipelines.offset(db, "p1") == third.get(9));
            pauseAndWait(relay);

            long rewind = asOperator("SELECT tide.relay_rewind('p1', ?::timestamptz, 'consumer lost its store')", from);
            long resumedAfter = sink.lastArrival();
            db.execute("SELECT tide.relay_resume('p1')");
            await(Duration.ofSeconds(20), "the rewound messages", () -> sink.lastArrival() - resumedAfter >= 20);
            Thread.sleep(500);
            assertEquals(concat(second, third), sink.idsAfter(resumedAfter), "the messages from the timestamp on, in order");
            assertEquals("ops_user|" + third.get(9) + "|" + (second.get(0) - 1) + "|consumer lost its store", db.queryOne(
                    String.class, "SELECT concat_ws('|', rewound_by, from_id, to_id, note) FROM tide.relay_rewinds"
                            + " WHERE rewind_id = ? AND pipeline = 'p1' AND rewound_at > now() - interval '1 minute'", rewind));

            pauseAndWait(relay);
            asOperator("SELECT tide.relay_rewind('p1', ?::bigint, 'replay the last five')", third.get(5));
            long again = sink.lastArrival();
            db.execute("SELECT tide.relay_resume('p1')");
            await(Duration.ofSeconds(20), "the messages from the id on", () -> sink.lastArrival() - again >= 5);
            Thread.sleep(500);
            assertEquals(third.subList(5, 10), sink.idsAfter(again), "the messages from the id on, in order");
            assertEquals(2L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_rewinds"));
        }
    }

    @Test
    void aRewindIsRefusedWhileRunningHeldBelowTheFloorForwardOrByTheRelayRole() throws Exception {
        List<Long> ids = publish(20);
        db.execute("UPDATE tide.tide_outbox_messages SET created_at = now() - interval '2 days' WHERE id <= " + ids.get(9));
        try (Connection relay = db.connect(); Statement st = relay.createStatement()) {
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('p1'))");
            st.execute("SELECT count(*) FROM tide.relay_poll('p1', 'orders')");
            st.execute("SELECT tide.relay_advance('p1', 'orders', tx, id) FROM tide.tide_outbox_messages WHERE id = " + ids.get(19));
            String offset = offset();

            refused("SELECT tide.relay_rewind('p1', ?::bigint, 'why')", ids.get(12),
                    "pipeline \"p1\" (relay group \"default\") is not paused; offset unchanged");
            db.execute("SELECT tide.relay_pause('p1')");
            refused("SELECT tide.relay_rewind('p1', ?::bigint, 'why')", ids.get(12),
                    "pipeline \"p1\" (relay group \"default\") is still held by");
            st.execute("SELECT pg_advisory_unlock(tide.relay_lock_key('p1'))");
            refused("SELECT tide.relay_rewind('p1', ?::bigint, '  ')", ids.get(12),
                    "a rewind of pipeline \"p1\" needs a note saying why");

            db.execute("SELECT tide.outbox_create('orders', 1)");
            assertEquals(10L, db.queryOne(Long.class, "SELECT tide.outbox_sweep()"));
            String floor = db.queryOne(String.class, "SELECT swept_tx || ', ' || swept_id FROM tide.tide_outbox_config");
            assertTrue(floor.endsWith(", " + ids.get(9)), floor);
            SQLException below = refused("SELECT tide.relay_rewind('p1', ?::timestamptz, 'why')",
                    Timestamp.valueOf("2020-01-01 00:00:00"), "is below the retention floor of outbox \"orders\": retention deleted messages created up to");
            assertTrue(below.getMessage().contains("The oldest rewindable point is (" + floor + ")"), below.getMessage());
            refused("SELECT tide.relay_rewind('p1', ?::bigint, 'why')", ids.get(3),
                    "outbox \"orders\" holds no message " + ids.get(3) + " (retention may have deleted it)");

            try (Connection asRelay = DriverManager.getConnection(db.jdbcUrl(), "relay_user", "strong-password");
                 Statement rs = asRelay.createStatement()) {
                SQLException denied = assertThrows(SQLException.class,
                        () -> rs.execute("SELECT tide.relay_rewind('p1', " + ids.get(12) + "::bigint, 'why')"));
                assertEquals("42501", denied.getSQLState(), denied.getMessage());
            }
            assertEquals(offset, offset(), "no refused rewind moved the offset");
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_rewinds"));

            String target = db.queryOne(String.class, "SELECT tx::text FROM tide.tide_outbox_messages WHERE id = ?", ids.get(14));
            asOperator("SELECT tide.relay_rewind('p1', ?::xid8, " + ids.get(14) + ", 'after 15')", target);
            refused("SELECT tide.relay_rewind('p1', ?::bigint, 'forward')", ids.get(19),
                    "is not at or before the offset");
            db.execute("SELECT tide.relay_resume('p1')");
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('p1'))");
            assertEquals(ids.subList(15, 20), db.queryList(Long.class, "SELECT id FROM tide.relay_poll('p1', 'orders')"));
        }
    }

    private void pauseAndWait(RelayHarness relay) throws Exception {
        db.execute("SELECT tide.relay_pause('p1')");
        await(Duration.ofSeconds(5), "the relay to let go", () -> !Locks.held(db, relay.instance(), "p1"));
    }

    private long asOperator(String sql, Object parameter) throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), OPERATOR, "ops");
             var ps = c.prepareStatement(sql)) {
            ps.setObject(1, parameter instanceof Timestamp || parameter instanceof Long ? parameter : parameter.toString());
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private SQLException refused(String sql, Object parameter, String words) throws Exception {
        SQLException e = assertThrows(SQLException.class, () -> asOperator(sql, parameter), sql);
        assertTrue(e.getMessage().contains(words), e.getMessage());
        return e;
    }

    private String offset() throws SQLException {
        return db.queryOne(String.class, "SELECT last_tx || ':' || last_id FROM tide.relay_consumer_offsets WHERE pipeline = 'p1'");
    }

    private List<Long> publish(int count) throws SQLException {
        return db.queryList(Long.class, "SELECT tide.outbox_publish('orders', jsonb_build_object('n', g))"
                + " FROM generate_series(1, ?) g", count);
    }

    private static List<Long> concat(List<Long> a, List<Long> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
