package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import java.util.Locale;

/**
 * The poll rate of two extension versions in the same run: {@code tide.relay_poll} + {@code tide.relay_advance}
 * (the {@link RawRead} loop) draining outboxes of 1 KiB messages in a database on the previous version and one on
 * the current version, rounds interleaved A B B A so drift weighs on both alike. Issue 13 and 19 allow the current
 * version at most 10 % fewer rows per second.
 * Run: {@code mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.PollUpgradeBenchmark} with
 * optional {@code -Dbench.rows=N} (rows per round, default 250,000), {@code -Dbench.rounds=N} (per version, default 4)
 * and {@code -Dbench.previous=0.1.0}.
 */
public final class PollUpgradeBenchmark {

    private static final int LIMIT = 1000;

    private PollUpgradeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("bench.rows", 250_000);
        int rounds = Integer.getInteger("bench.rounds", 4);
        String previous = System.getProperty("bench.previous", "0.1.0");
        String payload = ExtensionBenchmark.payload(1024);
        try (TestDatabase before = TestDatabase.withExtension(previous); TestDatabase after = TestDatabase.withExtension()) {
            String current = after.queryOne(String.class, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tide'");
            TestDatabase[] dbs = {before, after};
            for (TestDatabase db : dbs) {
                for (int r = 0; r < rounds; r++) {
                    db.execute("SELECT tide.outbox_create('o" + r + "')");
                    // outbox_publish's columns, in one statement; the current version's publish also stores size_bytes
                    db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, payload) SELECT 'o" + r + "', '"
                            + payload + "'::jsonb FROM generate_series(1, " + rows + ")");
                }
                if (db == after) {
                    db.execute("UPDATE tide.tide_outbox_messages SET size_bytes = pg_column_size(payload) + pg_column_size(headers)");
                }
                db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
            }
            System.out.printf(Locale.ROOT, "poll rate, %d rounds of %,d rows of 1 KiB per version, %d per batch, server %s:%d%n",
                    rounds, rows, LIMIT, before.server().host(), before.server().port());
            long[] delivered = new long[2];
            long[] nanos = new long[2];
            for (int r = 0; r < rounds; r++) {
                int[] order = r % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0};
                for (int v : order) {
                    RawRead.Figure f = RawRead.drain(dbs[v], "p", "o" + r, LIMIT);
                    if (f.rows() != rows || !f.problems().isEmpty()) {
                        throw new IllegalStateException("round " + r + ": " + f.rows() + " rows, " + f.problems());
                    }
                    delivered[v] += f.rows();
                    nanos[v] += f.nanos();
                    System.out.printf(Locale.ROOT, "round %d %-6s %,10.0f rows/s%n", r + 1, v == 0 ? previous : current,
                            f.rowsPerSecond());
                }
            }
            double was = delivered[0] / (nanos[0] / 1e9);
            double now = delivered[1] / (nanos[1] / 1e9);
            System.out.printf(Locale.ROOT, "poll: %s %,.0f rows/s, %s %,.0f rows/s, change %+.1f %% (limit -10 %%)%n",
                    previous, was, current, now, 100 * (now / was - 1));
        }
    }
}
