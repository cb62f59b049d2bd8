package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark of the extension's hot paths on the test server (127.0.0.1:5432 unless told otherwise, see
 * {@link io.pgtide.relay.testing.PgServer}), in a fresh database dropped at the end:
 * <ol>
 *   <li>publish cost: {@code tide.outbox_publish} against a plain INSERT into a plain table, same 1 KiB
 *       JSON payload, one row per transaction, with 1 and with 8 connections, rounds interleaved A B B A;</li>
 *   <li>poll rate: a relay loop of {@code tide.relay_poll} + {@code tide.relay_advance} draining a pre-filled
 *       outbox, checking every row is delivered once and in (tx, id) order.</li>
 * </ol>
 * Run: {@code mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.ExtensionBenchmark}
 * with optional {@code -Dbench.seconds=N} (measured time of each variant at each connection count, default 10),
 * {@code -Dbench.rounds=N} (rounds that time is split into, default 4: A B B A A B B A),
 * {@code -Dbench.warmupSeconds=N} (per variant and connection count, default 3) and
 * {@code -Dbench.pollRows=N} (rows drained by the poll loop, default 1,000,000).
 */
public final class ExtensionBenchmark {

    private static final String OUTBOX = "bench";
    private static final String POLL_OUTBOX = "bench2";
    private static final String PIPELINE = "bench-pipeline";
    private static final int POLL_LIMIT = 1000;
    private static final double RATIO_GOAL = 1.3;

    private static final String PUBLISH_SQL = "SELECT tide.outbox_publish('" + OUTBOX + "', ?::jsonb)";
    private static final String PLAIN_SQL = "INSERT INTO plain_outbox(payload) VALUES (?::jsonb)";

    private ExtensionBenchmark() {
    }

    /** One variant of the publish comparison. */
    private enum Variant {
        PUBLISH("outbox_publish"), PLAIN("plain insert");

        final String label;

        Variant(String label) {
            this.label = label;
        }
    }

    /** Rows done in a timed run and how long it took. */
    private record Run(long rows, long nanos) {
        double rate() {
            return rows / (nanos / 1e9);
        }
    }

    /**
     * The result of one connection count: both variants summed over their rounds, and the lowest and
     * highest cost ratio of the adjacent round pairs (A B, B A, ...), a measure of the noise.
     */
    private record PublishFigure(int connections, Run publish, Run plain, double minPairRatio, double maxPairRatio) {
        /** outbox_publish time per row over plain insert time per row. */
        double ratio() {
            return plain.rate() / publish.rate();
        }
    }

    /** The result of the poll loop. */
    private record PollFigure(long inserted, long delivered, long batches, long nanos, long advanceNanos,
                              long fillNanos, long vacuumNanos, List<String> problems) {
        double rowsPerSecond() {
            return delivered / (nanos / 1e9);
        }

        double batchesPerSecond() {
            return batches / (nanos / 1e9);
        }

        boolean ok() {
            return delivered == inserted && problems.isEmpty();
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 10);
        int roundsPerVariant = Integer.getInteger("bench.rounds", 4);
        int warmupSeconds = Integer.getInteger("bench.warmupSeconds", 3);
        long pollRows = Long.getLong("bench.pollRows", 1_000_000L);
        if (seconds < 1 || roundsPerVariant < 1 || warmupSeconds < 0 || pollRows < 1) {
            throw new IllegalArgumentException(
                    "bench.seconds >= 1, bench.rounds >= 1, bench.warmupSeconds >= 0, bench.pollRows >= 1");
        }
        double roundSeconds = (double) seconds / roundsPerVariant;
        String payload = payload(1024);
        long started = System.nanoTime();

        List<String> failures = new ArrayList<>();
        TestDatabase db = TestDatabase.withExtension();
        try {
            String version;
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE plain_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now())");
                st.execute("SELECT tide.outbox_create('" + OUTBOX + "')");
                st.execute("SELECT tide.outbox_create('" + POLL_OUTBOX + "')");
                try (ResultSet rs = st.executeQuery("SHOW server_version")) {
                    rs.next();
                    version = rs.getString(1);
                }
            }
            System.out.printf(Locale.ROOT, "pg_tide extension benchmark: PostgreSQL %s at %s:%d, database %s, %d CPUs,"
                            + " payload %d bytes, %d s per variant in %d rounds of %.2f s, warm-up %d s, poll rows %,d%n",
                    version, db.server().host(), db.server().port(), db.name(),
                    Runtime.getRuntime().availableProcessors(), payload.getBytes(StandardCharsets.UTF_8).length,
                    seconds, roundsPerVariant, roundSeconds, warmupSeconds, pollRows);
            System.out.println();

            // 1. publish cost
            List<PublishFigure> figures = new ArrayList<>();
            long[] clientRows = new long[Variant.values().length];
            System.out.printf("%-8s %-6s %-15s %10s %8s %10s%n", "conns", "round", "variant", "rows", "seconds", "rows/s");
            for (int connections : new int[] {1, 8}) {
                figures.add(publishCost(db, connections, roundsPerVariant, roundSeconds, warmupSeconds, payload,
                        clientRows));
            }
            checkPublishedRows(db, clientRows, failures);
            System.out.println();

            // 2. poll rate
            PollFigure poll = pollRate(db, pollRows, payload);
            if (!poll.ok()) {
                failures.add("poll: delivered " + poll.delivered() + " of " + poll.inserted() + " rows"
                        + (poll.problems().isEmpty() ? "" : ", " + String.join("; ", poll.problems())));
            }

            // the table and the summary lines
            System.out.printf("%-16s %22s %22s %11s %17s%n", "figure", "outbox_publish rows/s", "plain insert rows/s",
                    "cost ratio", "pair ratios");
            for (PublishFigure f : figures) {
                System.out.printf(Locale.ROOT, "%-16s %22.0f %22.0f %11.2f %17s%n", "publish " + f.connections() + " conn",
                        f.publish().rate(), f.plain().rate(), f.ratio(),
                        String.format(Locale.ROOT, "%.2f .. %.2f", f.minPairRatio(), f.maxPairRatio()));
            }
            System.out.printf("%-16s %22s %22s %11s%n", "", "rows/s", "batches/s", "delivered");
            System.out.printf(Locale.ROOT, "%-16s %22.0f %22.1f %11s%n", "poll " + POLL_LIMIT + "/batch",
                    poll.rowsPerSecond(), poll.batchesPerSecond(), poll.delivered() + "/" + poll.inserted());
            System.out.println();
            for (PublishFigure f : figures) {
                System.out.printf(Locale.ROOT,
                        "publish %d conn: outbox_publish %.0f rows/s, plain insert %.0f rows/s, cost ratio %.2f (goal <= %.1f)%s%n",
                        f.connections(), f.publish().rate(), f.plain().rate(), f.ratio(), RATIO_GOAL,
                        f.ratio() <= RATIO_GOAL ? "" : " ABOVE GOAL");
            }
            System.out.printf(Locale.ROOT,
                    "poll: %.0f rows/s, %.1f batches/s of %d (%,d rows in %.2f s, %.0f%% of it in relay_advance;"
                            + " fill %.1f s, vacuum analyze %.1f s), delivered %,d of %,d %s%n",
                    poll.rowsPerSecond(), poll.batchesPerSecond(), POLL_LIMIT, poll.delivered(), poll.nanos() / 1e9,
                    100.0 * poll.advanceNanos() / poll.nanos(), poll.fillNanos() / 1e9, poll.vacuumNanos() / 1e9,
                    poll.delivered(), poll.inserted(),
                    poll.ok() ? "OK" : "FAIL");
            for (String problem : poll.problems()) {
                System.out.println("FAIL poll: " + problem);
            }
        } finally {
            db.close();
        }
        System.out.printf(Locale.ROOT, "total run time %.1f s%n", (System.nanoTime() - started) / 1e9);
        if (!failures.isEmpty()) {
            throw new IllegalStateException("benchmark checks failed: " + String.join("; ", failures));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // publish
    // ---------------------------------------------------------------------------------------------

    private static PublishFigure publishCost(TestDatabase db, int connections, int roundsPerVariant,
                                             double roundSeconds, int warmupSeconds, String payload,
                                             long[] clientRows) throws Exception {
        List<Connection> sessions = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try (Connection admin = db.connect()) {
            for (int i = 0; i < connections; i++) {
                Connection c = db.connect();
                c.setAutoCommit(true);
                sessions.add(c);
            }
            checkpoint(admin); // each connection count starts from a clean slate; later checkpoints fall where they fall
            if (warmupSeconds > 0) {
                for (Variant v : Variant.values()) {
                    Run warm = timed(pool, sessions, v, payload, warmupSeconds);
                    clientRows[v.ordinal()] += warm.rows();
                    System.out.printf(Locale.ROOT, "%-8d %-6s %-15s %10d %8.2f %10.0f%n", connections, "warm",
                            v.label, warm.rows(), warm.nanos() / 1e9, warm.rate());
                }
            }
            // A B, B A, A B, ...: drift (table growth, checkpoints, autovacuum, other load) weighs on both alike
            long[] rows = new long[2];
            long[] nanos = new long[2];
            double minPair = Double.MAX_VALUE;
            double maxPair = 0;
            for (int pair = 0; pair < roundsPerVariant; pair++) {
                Variant first = pair % 2 == 0 ? Variant.PUBLISH : Variant.PLAIN;
                Variant second = pair % 2 == 0 ? Variant.PLAIN : Variant.PUBLISH;
                Run[] runs = new Run[2];
                for (Variant v : new Variant[] {first, second}) {
                    Run run = timed(pool, sessions, v, payload, roundSeconds);
                    runs[v.ordinal()] = run;
                    rows[v.ordinal()] += run.rows();
                    nanos[v.ordinal()] += run.nanos();
                    clientRows[v.ordinal()] += run.rows();
                    System.out.printf(Locale.ROOT, "%-8d %-6d %-15s %10d %8.2f %10.0f%n", connections, pair + 1,
                            v.label, run.rows(), run.nanos() / 1e9, run.rate());
                }
                double ratio = runs[Variant.PLAIN.ordinal()].rate() / runs[Variant.PUBLISH.ordinal()].rate();
                minPair = Math.min(minPair, ratio);
                maxPair = Math.max(maxPair, ratio);
            }
            return new PublishFigure(connections, new Run(rows[0], nanos[0]), new Run(rows[1], nanos[1]),
                    minPair, maxPair);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
            for (Connection c : sessions) {
                c.close();
            }
        }
    }

    /** Every session runs the variant, one row per transaction, for the given time; all start together. */
    private static Run timed(ExecutorService pool, List<Connection> sessions, Variant variant, String payload,
                             double seconds) throws Exception {
        int n = sessions.size();
        CyclicBarrier start = new CyclicBarrier(n + 1);
        long[] startAt = new long[1];
        List<Future<long[]>> results = new ArrayList<>();
        for (Connection session : sessions) {
            results.add(pool.submit(() -> {
                String sql = variant == Variant.PUBLISH ? PUBLISH_SQL : PLAIN_SQL;
                try (PreparedStatement ps = session.prepareStatement(sql)) {
                    ps.setString(1, payload);
                    start.await();
                    long deadline = startAt[0] + (long) (seconds * 1e9);
                    long rows = 0;
                    while (System.nanoTime() < deadline) {
                        if (variant == Variant.PUBLISH) {
                            try (ResultSet rs = ps.executeQuery()) {
                                if (!rs.next() || rs.getLong(1) <= 0) {
                                    throw new IllegalStateException("outbox_publish returned no id");
                                }
                            }
                        } else if (ps.executeUpdate() != 1) {
                            throw new IllegalStateException("plain insert did not insert one row");
                        }
                        rows++;
                    }
                    return new long[] {rows, System.nanoTime()};
                }
            }));
        }
        startAt[0] = System.nanoTime();
        start.await(); // the barrier publishes startAt to the workers
        long rows = 0;
        long end = startAt[0];
        for (Future<long[]> f : results) {
            long[] r;
            try {
                r = f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException(variant.label + " failed: " + e.getCause(), e.getCause());
            }
            rows += r[0];
            end = Math.max(end, r[1]);
        }
        return new Run(rows, end - startAt[0]);
    }

    private static void checkpoint(Connection admin) throws SQLException {
        try (Statement st = admin.createStatement()) {
            st.execute("CHECKPOINT");
        }
    }

    /** The tables hold exactly what the clients counted. */
    private static void checkPublishedRows(TestDatabase db, long[] clientRows, List<String> failures)
            throws SQLException {
        long published = db.queryOne(Long.class,
                "SELECT count(*) FROM tide.tide_outbox_messages WHERE outbox_name = '" + OUTBOX + "'");
        long plain = db.queryOne(Long.class, "SELECT count(*) FROM plain_outbox");
        boolean ok = published == clientRows[Variant.PUBLISH.ordinal()] && plain == clientRows[Variant.PLAIN.ordinal()];
        System.out.printf("rows in the tables: outbox %s %d (clients counted %d), plain_outbox %d (clients counted %d) %s%n",
                OUTBOX, published, clientRows[Variant.PUBLISH.ordinal()], plain, clientRows[Variant.PLAIN.ordinal()],
                ok ? "OK" : "FAIL");
        if (!ok) {
            failures.add("publish: row counts differ from what the clients counted");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // poll
    // ---------------------------------------------------------------------------------------------

    private static PollFigure pollRate(TestDatabase db, long pollRows, String payload) throws SQLException {
        long fillStart = System.nanoTime();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO tide.tide_outbox_messages (outbox_name, payload)"
                     + " SELECT '" + POLL_OUTBOX + "', ?::jsonb FROM generate_series(1, ?)")) {
            ps.setString(1, payload);
            ps.setLong(2, pollRows);
            long inserted = ps.executeUpdate();
            if (inserted != pollRows) {
                throw new IllegalStateException("filled " + inserted + " rows, not " + pollRows);
            }
        }
        long fillNanos = System.nanoTime() - fillStart;
        long vacuumStart = System.nanoTime();
        db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
        long vacuumNanos = System.nanoTime() - vacuumStart;
        System.out.printf(Locale.ROOT, "poll: filled outbox %s with %,d rows in %.1f s, VACUUM ANALYZE %.1f s%n",
                POLL_OUTBOX, pollRows, fillNanos / 1e9, vacuumNanos / 1e9);

        RawRead.Figure read = RawRead.drain(db, PIPELINE, POLL_OUTBOX, POLL_LIMIT);
        return new PollFigure(pollRows, read.rows(), read.batches(), read.nanos(), read.advanceNanos(), fillNanos,
                vacuumNanos, read.problems());
    }

    // ---------------------------------------------------------------------------------------------

    /** A JSON object of exactly {@code size} bytes (ASCII), shaped like an order event. */
    static String payload(int size) {
        String head = "{\"type\":\"order.created\",\"order_id\":\"ord-000000123456\",\"customer_id\":\"cus-0042\","
                + "\"currency\":\"EUR\",\"total_cents\":129900,\"items\":[{\"sku\":\"SKU-1\",\"qty\":2},"
                + "{\"sku\":\"SKU-2\",\"qty\":1}],\"note\":\"";
        String tail = "\"}";
        int pad = size - head.length() - tail.length();
        if (pad < 0) {
            throw new IllegalArgumentException("payload size " + size + " too small");
        }
        StringBuilder sb = new StringBuilder(size).append(head);
        for (int i = 0; i < pad; i++) {
            sb.append((char) ('a' + i % 26));
        }
        return sb.append(tail).toString();
    }
}
