package io.pgtide.relay.bench;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Idle cost: a relay (a JVM of its own) running pipelines whose outboxes get nothing. Prints the relay's CPU
 * as a share of one core, the CPU of the database sessions it holds, and the transactions a second it runs,
 * soon after start-up and again some minutes later, once the JIT compiler is done.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.IdleBenchmark
 *     [-Dbench.pipelines=50 -Dbench.seconds=30 -Dbench.settleSeconds=15 -Dbench.steadySeconds=420
 *      -Dbench.delay=<poll delay ms>
 *      -Dbench.lockInterval=<ms>]</pre>
 */
public final class IdleBenchmark {

    /** One measured window: CPU as a fraction of one core, averaged over it. */
    record Window(double relayCore, double serverCore, double transactionsPerSecond) {
        void print(String when) {
            System.out.printf(Locale.ROOT, "  %s%n", when);
            System.out.printf(Locale.ROOT, "    relay JVM              %5.2f %% of a core%n", 100 * relayCore);
            System.out.printf(Locale.ROOT, "    its database sessions  %5.2f %% of a core, %.0f transactions/s%n",
                    100 * serverCore, transactionsPerSecond);
        }
    }

    /**
     * Two windows of the same relay: soon after start-up, while the JIT compiler still works through code that
     * idle rates run rarely, and once it is done (the steady state of a relay that idles for hours).
     */
    record Figures(int pipelines, int seconds, Window early, int steadyAfterSeconds, Window steady, double rssMiB) {
        double relayCore() {
            return steady.relayCore();
        }

        void print() {
            System.out.printf(Locale.ROOT, "%nidle cost: %d pipelines, nothing to deliver, %d s windows, RSS %.0f MiB%n",
                    pipelines, seconds, rssMiB);
            early.print("soon after start-up:");
            steady.print(String.format(Locale.ROOT, "%d s after start-up, compiled (goal <= 2 %% of a core):",
                    steadyAfterSeconds));
        }
    }

    private IdleBenchmark() {
    }

    public static void main(String[] args) {
        System.exit(BenchmarkMain.runWithBroker(broker -> measure(broker, Integer.getInteger("bench.pipelines", 50),
                Integer.getInteger("bench.seconds", 30)).print()));
    }

    static Figures measure(KafkaBroker broker, int pipelines, int seconds) throws Exception {
        Kafka.createTopic(broker.bootstrapServers(), "idle", 1);
        Path routes = Files.createTempDirectory("bench-idle");
        try (TestDatabase db = TestDatabase.withExtension()) {
            for (int i = 0; i < pipelines; i++) {
                db.execute("SELECT tide.outbox_create('idle-" + i + "')");
                Path file = Pipelines.kafkaPipeline(routes, "idle-" + i, "idle-" + i, "idle", broker.bootstrapServers());
                String delay = System.getProperty("bench.delay");
                if (delay != null) {
                    Files.writeString(file, Files.readString(file).replaceAll("delay: \\d+", "delay: " + delay));
                }
            }
            try (ChildRelay relay = ChildRelay.startAsShipped(db, routes, "idle", settings())) {
                long pid = relay.process().pid();
                Pipelines.await(Duration.ofSeconds(120), "every pipeline's first poll",
                        () -> db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_consumer_offsets") == pipelines);
                long started = System.nanoTime();
                Thread.sleep(Integer.getInteger("bench.settleSeconds", 15) * 1000L);
                Window early = window(db, pid, seconds);
                // at 25 polls a second the poll path reaches the optimising compiler's thresholds after some minutes
                int steadyAfter = Integer.getInteger("bench.steadySeconds", 420);
                Thread.sleep(Math.max(0, steadyAfter * 1000L - (System.nanoTime() - started) / 1_000_000));
                Window steady = window(db, pid, seconds);
                Profiling.dump(relay, "idle");
                return new Figures(pipelines, seconds, early, steadyAfter, steady, ProcessStats.rssMiB(pid));
            }
        }
    }

    private static Window window(TestDatabase db, long pid, int seconds) throws Exception {
        List<Long> sessions = sessions(db);
        double relayStart = ProcessStats.cpuSeconds(pid);
        double serverStart = cpuSeconds(sessions);
        long transactionsStart = transactions(db);
        long start = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Window((ProcessStats.cpuSeconds(pid) - relayStart) / elapsed, (cpuSeconds(sessions) - serverStart) / elapsed,
                (transactions(db) - transactionsStart) / elapsed);
    }

    /** -Dbench.lockInterval=<ms> tries another lock check interval; -Dbench.jfr records the relay. */
    private static Map<String, String> settings() {
        Map<String, String> env = new HashMap<>(Profiling.env("idle"));
        String lockInterval = System.getProperty("bench.lockInterval");
        if (lockInterval != null) {
            env.put(RelaySettings.LOCK_INTERVAL.name(), lockInterval);
        }
        return env;
    }

    /** The server processes of every session on the database but this one's. */
    private static List<Long> sessions(TestDatabase db) throws Exception {
        List<Long> pids = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")) {
            while (rs.next()) {
                pids.add(rs.getLong(1));
            }
        }
        return pids;
    }

    private static double cpuSeconds(List<Long> pids) {
        return pids.stream().mapToDouble(ProcessStats::cpuSeconds).sum();
    }

    private static long transactions(TestDatabase db) throws Exception {
        return db.queryOne(Long.class, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()");
    }
}
