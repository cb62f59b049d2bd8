package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * Partitioned storage against the plain form and against today's poll, in one database and one run (ADR 14):
 * <ol>
 *   <li>publish: a plain single-row INSERT into an equivalent plain table, {@code tide.outbox_publish} to a plain
 *       outbox and to a partitioned one, one row per transaction, the three in turn, each call timed;</li>
 *   <li>poll rate: the same rows drained through {@code tide.relay_poll} from a plain outbox, from a partitioned
 *       one (rows spread over many partitions), and through a copy of the poll before partitioned storage (it
 *       reads the plain table, not the view of both forms), drains interleaved;</li>
 *   <li>retention: the sweep deleting a drained plain outbox against dropping the partitions of a drained
 *       partitioned one: time and WAL written.</li>
 * </ol>
 * Run: {@code mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.PartitionedStorageBenchmark}
 * with optional {@code -Dbench.publishSeconds=N} (default 30),
 * {@code -Dbench.pollRows=N} (rows per outbox, default 200,000), {@code -Dbench.partitions=N} (partitions the
 * polled rows spread over, default 20) and {@code -Dbench.literal=true} (polls with their arguments written into the
 * statement, as a pipeline's route has them, rather than bound as parameters).
 */
public final class PartitionedStorageBenchmark {

    private static final int CHUNK = 1000;
    private static final String PAYLOAD = ExtensionBenchmark.payload(512);

    private PartitionedStorageBenchmark() {
    }

    private enum Publish {
        INSERT("plain INSERT", "INSERT INTO plain_outbox (payload) VALUES (?::jsonb)"),
        PLAIN("publish plain", "SELECT tide.outbox_publish('pub-plain', ?::jsonb)"),
        PARTED("publish partitioned", "SELECT tide.outbox_publish('pub-parted', ?::jsonb)");

        final String label;
        final String sql;

        Publish(String label, String sql) {
            this.label = label;
            this.sql = sql;
        }
    }

    public static void main(String[] args) throws Exception {
        double publishSeconds = Double.parseDouble(System.getProperty("bench.publishSeconds", "30"));
        long pollRows = Long.getLong("bench.pollRows", 200_000L);
        int partitions = Integer.getInteger("bench.partitions", 20);
        TestDatabase db = TestDatabase.withExtension();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                System.out.printf("partitioned storage benchmark: PostgreSQL %s, %d CPUs, payload 512 bytes%n",
                        rs.getString(1), Runtime.getRuntime().availableProcessors());
            }
            st.execute("CREATE TABLE plain_outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                    + " payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
            st.execute("SELECT tide.outbox_create('pub-plain')");
            st.execute("SELECT tide.outbox_create('pub-parted', 24, 1000000)");
            publish(c, st, publishSeconds);
            poll(db, c, st, pollRows, partitions);
            retention(c, st);
        } finally {
            db.close();
        }
    }

    /**
     * The three statements in turn, one row per transaction (autocommit), each call timed on its own: every variant
     * meets the same load and the same table growth, as pgbench's interleaved scripts do.
     */
    private static void publish(Connection c, Statement st, double seconds) throws SQLException {
        Publish[] all = Publish.values();
        PreparedStatement[] ps = new PreparedStatement[all.length];
        long[] calls = new long[all.length];
        long[] nanos = new long[all.length];
        try {
            for (Publish p : all) {
                ps[p.ordinal()] = c.prepareStatement(p.sql);
                ps[p.ordinal()].setString(1, PAYLOAD);
            }
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            long lastMaintenance = System.nanoTime();
            for (long k = 0; System.nanoTime() < deadline; k++) {
                if (System.nanoTime() - lastMaintenance > 1_000_000_000L) {
                    st.execute("SELECT tide.outbox_maintain()"); // ranges ahead, as the relay's schedule keeps them
                    lastMaintenance = System.nanoTime();
                }
                for (int n = 0; n < all.length; n++) {
                    int v = (int) ((k + n) % all.length); // each variant first, second and third in turn
                    long start = System.nanoTime();
                    ps[v].execute();
                    if (k >= 1000) { // the first thousand of each warm up plans and caches
                        nanos[v] += System.nanoTime() - start;
                        calls[v]++;
                    }
                }
            }
        } finally {
            for (PreparedStatement p : ps) {
                if (p != null) {
                    p.close();
                }
            }
        }
        double insert = (double) nanos[0] / calls[0];
        for (Publish p : all) {
            double mean = (double) nanos[p.ordinal()] / calls[p.ordinal()];
            System.out.printf(Locale.ROOT, "PUBLISH %-20s %,9d calls, %6.1f us each, %.2fx a plain INSERT%n", p.label,
                    calls[p.ordinal()], mean / 1000, mean / insert);
        }
    }

    private static void poll(TestDatabase db, Connection c, Statement st, long pollRows, int partitions)
            throws SQLException {
        long chunks = Math.max(1, pollRows / CHUNK);
        // each chunk is a transaction, and maintenance after it takes a few more ids: about chunks / partitions per range
        long width = Math.max(1, 2 * chunks / partitions);
        st.execute("SELECT tide.outbox_create('plain', 0)");
        st.execute("SELECT tide.outbox_create('parted', 0, " + width + ")");
        // a registered pipeline that has read nothing keeps every row: without one, retention 0 would drop the fill
        st.execute("SELECT tide.relay_register('holder', 'plain')");
        st.execute("SELECT tide.relay_register('holder', 'parted')");
        for (String outbox : new String[] {"parted", "plain"}) {
            String table = outbox.equals("plain") ? "tide.tide_outbox_messages" : "tide.tide_outbox_partitioned";
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (outbox_name, payload)"
                    + " SELECT ?, ?::jsonb FROM generate_series(1, " + CHUNK + ")")) {
                for (long i = 0; i < chunks; i++) {
                    ps.setString(1, outbox);
                    ps.setString(2, PAYLOAD);
                    ps.executeUpdate();
                    if (outbox.equals("parted")) {
                        st.execute("SELECT tide.outbox_maintain('parted')");
                    }
                }
            }
        }
        st.execute("VACUUM ANALYZE tide.tide_outbox_messages");
        st.execute("VACUUM ANALYZE tide.tide_outbox_partitioned");
        System.out.printf("poll: %,d rows per outbox; the partitioned one in %d partitions of %d ids (%d in the default)%n",
                chunks * CHUNK, db.queryOne(Long.class, "SELECT count(DISTINCT tableoid) FROM tide.tide_outbox_partitioned"),
                width, db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_partitioned_default"));
        // today's poll: the functions before partitioned storage, reading the plain table
        for (String f : new String[] {"relay_poll_start", "relay_poll"}) {
            String def = db.queryOne(String.class, "SELECT pg_get_functiondef(p.oid) FROM pg_proc p"
                    + " WHERE p.proname = ? AND p.pronamespace = 'tide'::regnamespace", f);
            st.execute(def.replace("tide.outbox_messages", "tide.tide_outbox_messages")
                    .replace("tide.relay_poll_start(", "tide.relay_poll_start_today(")
                    .replace("FUNCTION tide.relay_poll(", "FUNCTION tide.relay_poll_today("));
        }
        String[][] drains = {{"today", "plain", "tide.relay_poll_today"}, {"plain", "plain", "tide.relay_poll"},
                             {"partitioned", "parted", "tide.relay_poll"}};
        double[] rows = new double[3];
        double[] secs = new double[3];
        int[] order = {0, 1, 2, 2, 1, 0, 1, 2, 0, 0, 2, 1};
        // -Dbench.literal=true: the arguments written into the statement, as a pipeline's route does
        boolean literal = Boolean.getBoolean("bench.literal");
        for (int k = 0; k < order.length; k++) {
            String[] d = drains[order[k]];
            RawRead.Figure f = RawRead.drain(db, d[0] + "-" + k, d[1], 1000, d[2], literal);
            if (!f.problems().isEmpty() || f.rows() != chunks * CHUNK) {
                throw new IllegalStateException(d[0] + ": " + f.rows() + " rows, " + f.problems());
            }
            rows[order[k]] += f.rows();
            secs[order[k]] += f.nanos() / 1e9;
            System.out.printf(Locale.ROOT, "poll drain %-12s %8.0f rows/s%n", d[0], f.rowsPerSecond());
        }
        for (int i = 0; i < 3; i++) {
            System.out.printf(Locale.ROOT, "POLL %-12s %8.0f rows/s, %.1f%% of today's%n", drains[i][0],
                    rows[i] / secs[i], 100 * (rows[i] / secs[i]) / (rows[0] / secs[0]));
        }
    }

    /** Both drained outboxes past their retention (0 hours): the sweep deletes, maintenance drops. */
    private static void retention(Connection c, Statement st) throws SQLException {
        st.execute("SELECT tide.relay_unregister('holder', 'plain'), tide.relay_unregister('holder', 'parted')");
        long wal = lsn(st);
        long start = System.nanoTime();
        long deleted = 0;
        for (long n = 1; n > 0; deleted += n) {
            n = single(st, "SELECT tide.outbox_sweep('plain', 10000)");
        }
        double sweepSecs = (System.nanoTime() - start) / 1e9;
        long sweepWal = lsn(st) - wal;
        wal = lsn(st);
        start = System.nanoTime();
        // the first run closes the last ranges (closed now, so not older than 0 hours yet), the second drops them
        long dropped = single(st, "SELECT dropped FROM tide.outbox_maintain('parted')")
                + single(st, "SELECT dropped FROM tide.outbox_maintain('parted')");
        double dropSecs = (System.nanoTime() - start) / 1e9;
        long dropWal = lsn(st) - wal;
        System.out.printf(Locale.ROOT, "RETENTION sweep: %,d rows in %.2f s, %,d bytes of WAL; drop: %d partitions"
                + " (%,d rows left) in %.3f s, %,d bytes of WAL%n", deleted, sweepSecs, sweepWal, dropped,
                single(st, "SELECT count(*) FROM tide.tide_outbox_partitioned WHERE outbox_name = 'parted'"),
                dropSecs, dropWal);
    }

    private static long lsn(Statement st) throws SQLException {
        return single(st, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
    }

    private static long single(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
