package io.pgtide.relay.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.PostgresUrl;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.db.SchemaCheck;
import io.pgtide.relay.testing.PgCluster;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 1: retention on partitioned storage (tide.outbox_maintain) drops a partition only when it is past
 * every registered pipeline's offset and older than the retention, never loses what an open transaction will
 * still write, keeps publishing when maintenance stops, and does nothing on a standby.
 */
class PartitionRetentionTest {

    private static final String ROWS = "SELECT tx::text || ':' || id FROM tide.outbox_messages WHERE outbox_name = 'orders'"
            + " ORDER BY tx, id";

    private TestDatabase db;
    private Connection c;

    @BeforeEach
    void partitionedOutbox() throws SQLException {
        db = TestDatabase.withPartitionedOutbox("orders", 10);
        c = db.connect();
    }

    @AfterEach
    void drop() throws SQLException {
        c.close();
        db.close();
    }

    @Test
    void aPartitionGoesOnlyWhenEveryPipelinePassedItAndItIsOlderThanTheRetention() throws SQLException {
        run("SELECT tide.outbox_create('orders', 1, 10)");
        run("SELECT tide.relay_register('p1', 'orders')");
        run("SELECT tide.relay_register('p2', 'orders')");
        publishAcrossPartitions(60);
        List<String> all = db.queryList(String.class, ROWS);
        assertTrue(partitionsHoldingRows() >= 3, "the messages lie in several partitions");

        backdateClosedPartitions();
        assertEquals(0, maintain()[1], "pipelines that have read nothing keep everything");
        run("UPDATE tide.relay_consumer_offsets SET (last_tx, last_id) = (SELECT l.tx, l.id"
                + " FROM tide.relay_position_latest('orders') l) WHERE pipeline = 'p1'");
        assertEquals(0, maintain()[1], "p2 has read nothing yet");
        assertEquals(all, db.queryList(String.class, ROWS));

        // p2 halfway: the partitions wholly at or before its offset go, none after it
        String half = all.get(all.size() / 2);
        run("UPDATE tide.relay_consumer_offsets SET (last_tx, last_id) = ('" + half.split(":")[0] + "', "
                + half.split(":")[1] + ") WHERE pipeline = 'p2'");
        assertTrue(maintain()[1] > 0, "a partition before both offsets is dropped");
        List<String> kept = db.queryList(String.class, ROWS);
        assertTrue(kept.size() < all.size());
        assertEquals(all.subList(all.size() - kept.size(), all.size()), kept, "only a prefix goes");
        assertTrue(kept.contains(all.get(all.size() / 2 + 1)), "nothing after the slowest offset goes");
        String gone = all.get(all.size() - kept.size() - 1);
        assertEquals(gone, db.queryOne(String.class,
                "SELECT swept_tx::text || ':' || swept_id FROM tide.tide_outbox_config WHERE outbox_name = 'orders'"),
                "the retention floor is the last message dropped");

        // every pipeline past everything, but the partitions closed just now are younger than the retention
        run("UPDATE tide.relay_consumer_offsets SET (last_tx, last_id) = (SELECT l.tx, l.id"
                + " FROM tide.relay_position_latest('orders') l)");
        run("UPDATE tide.tide_outbox_partitions SET closed_at = now() WHERE closed_at IS NOT NULL");
        assertEquals(0, maintain()[1], "younger than the retention");
        assertEquals(kept, db.queryList(String.class, ROWS));
    }

    @Test
    void anOpenTransactionKeepsItsPartitionAndItsMessageIsDelivered() throws Exception {
        run("SELECT tide.outbox_create('orders', 0, 10)");
        run("SELECT tide.relay_register('p1', 'orders')");
        publishAcrossPartitions(40);
        try (Connection open = db.connect()) {
            open.setAutoCommit(false);
            long xid = queryLong(open, "SELECT pg_current_xact_id()::text::bigint");
            // its range holds nothing after the offset: only the rule on open transactions keeps it
            for (int i = 0; i < 25; i++) {
                run("SELECT pg_current_xact_id()");
            }
            publishAcrossPartitions(20);
            // the offset stops below the open transaction: the 20 after it are held back
            run("UPDATE tide.relay_consumer_offsets SET (last_tx, last_id) = (SELECT l.tx, l.id"
                    + " FROM tide.relay_position_latest('orders') l)");
            // the first run may only close the last ranges (closed_at = now()); the second drops them
            assertTrue(maintain()[1] + maintain()[1] > 0, "partitions wholly below the open transaction go");
            assertEquals(1L, db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_partitions"
                    + " WHERE lo::text::bigint <= ? AND ? < hi::text::bigint", xid, xid),
                    "the range the open transaction can still write into stays");
            try (Statement st = open.createStatement()) {
                st.execute("SELECT tide.outbox_publish('orders', '{\"late\": true}')");
            }
            open.commit();
        }
        List<String> polled = db.queryList(String.class,
                "SELECT payload::text FROM tide.relay_poll('p1', 'orders') WHERE jsonb_exists(payload, 'late')");
        assertEquals(List.of("{\"late\": true}"), polled, "the late message is delivered");
    }

    @Test
    void publishingGoesOnWhenMaintenanceStops() throws SQLException {
        run("SELECT tide.outbox_create('orders', 0, 10)");
        // no maintenance while 50 transaction ids pass: the ranges created ahead (about 30 ids) run out
        for (int i = 0; i < 50; i++) {
            run("SELECT tide.outbox_publish('orders', '{}')");
        }
        assertTrue(db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_partitioned_default") > 0,
                "past the ranges, messages land in the DEFAULT partition");
        assertEquals(50L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_poll('p1', 'orders', 1000)"));
        assertTrue(maintain()[0] > 0, "the next run creates ranges ahead again");
        run("SELECT tide.outbox_publish('orders', '{}')");
        assertEquals(51L, db.queryOne(Long.class, "SELECT count(*) FROM tide.outbox_messages"));

        run("UPDATE tide.relay_consumer_offsets SET (last_tx, last_id) = (SELECT l.tx, l.id"
                + " FROM tide.relay_position_latest('orders') l)");
        maintain();
        assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_partitioned_default"),
                "maintenance deletes the DEFAULT partition's rows every pipeline passed");
    }

    @Test
    void anOutboxKeepsItsFormAndTakesItsPartitionsWhenDropped() throws SQLException {
        SQLException refused = assertThrows(SQLException.class, () -> run("SELECT tide.outbox_create('orders', 24)"));
        assertTrue(refused.getMessage().contains("exists with the other storage form"), refused.getMessage());
        publishAcrossPartitions(30);
        run("SELECT tide.outbox_drop('orders')");
        assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_partitions"));
        assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM pg_inherits"
                + " WHERE inhparent = 'tide.tide_outbox_partitioned'::regclass"
                + " AND inhrelid <> 'tide.tide_outbox_partitioned_default'::regclass"));
        assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.outbox_messages"));
    }

    @Test
    void aStandbyCreatesAndDropsNothing() throws Exception {
        try (PgCluster primary = PgCluster.primary()) {
            try (Connection p = primary.connect("postgres"); Statement st = p.createStatement()) {
                SchemaCheck.ensureInstalled(p); // the relay's own install: this server's extension folder has no pg_tide
                st.execute("SELECT tide.outbox_create('orders', 0, 10)");
                for (int i = 0; i < 40; i++) {
                    st.execute("SELECT tide.outbox_publish('orders', '{}')");
                }
            }
            try (PgCluster standby = primary.replica()) {
                String partitions = "SELECT string_agg(partition_name, ',' ORDER BY lo) FROM tide.tide_outbox_partitions";
                String before = awaitReplayed(standby, partitions);
                try (Connection s = standby.connect("postgres"); Statement st = s.createStatement();
                     ResultSet rs = st.executeQuery("SELECT created, dropped FROM tide.outbox_maintain()")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1));
                    assertEquals(0, rs.getInt(2));
                }
                try (Database database = new Database(PostgresUrl.parse("test",
                        "postgresql://postgres@" + standby.host() + ":" + standby.port() + "/postgres"),
                        "default", "standby-sweeper", 2)) {
                    assertEquals(-1, new SweepSchedule(database, Duration.ofSeconds(60)).sweepOnce(),
                            "the relay's schedule takes no lock on a standby");
                }
                assertEquals(before, query(standby, partitions));
            }
        }
    }

    /** Publishes n messages, one transaction each, running maintenance every few so that ranges exist ahead. */
    private void publishAcrossPartitions(int n) throws SQLException {
        for (int i = 0; i < n; i++) {
            if (i % 5 == 0) {
                maintain();
            }
            run("SELECT tide.outbox_publish('orders', '{\"n\": " + i + "}')");
        }
        maintain();
    }

    private long partitionsHoldingRows() throws SQLException {
        return db.queryOne(Long.class, "SELECT count(DISTINCT tableoid) FROM tide.tide_outbox_partitioned");
    }

    /** Makes every closed partition two hours old: older than a retention of one hour. */
    private void backdateClosedPartitions() throws SQLException {
        maintain();
        run("UPDATE tide.tide_outbox_partitions SET closed_at = now() - interval '2 hours' WHERE closed_at IS NOT NULL");
    }

    /** One maintenance run: {created, dropped}. */
    private int[] maintain() throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM tide.outbox_maintain()")) {
            rs.next();
            return new int[] {rs.getInt(1), rs.getInt(2)};
        }
    }

    private void run(String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static long queryLong(Connection connection, String sql) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String query(PgCluster cluster, String sql) throws SQLException {
        try (Connection s = cluster.connect("postgres"); Statement st = s.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String awaitReplayed(PgCluster standby, String sql) throws Exception {
        Pipelines.await(Duration.ofSeconds(30), "the standby to replay the outbox", () -> {
            try {
                return "40".equals(query(standby, "SELECT count(*) FROM tide.outbox_messages"));
            } catch (SQLException starting) {
                return false;
            }
        });
        return query(standby, sql);
    }
}
