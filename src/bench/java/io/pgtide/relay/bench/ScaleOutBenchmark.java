package io.pgtide.relay.bench;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scale-out shape: the backlog drain with several pipelines over as many outboxes, on one relay, on two relays
 * started together on the same routes (they share the pipelines through the locks: whichever takes a lock
 * first runs that pipeline), and on two relays with half the pipeline files each. Prints the aggregate msg/s
 * and how the pipelines were split, to tell whether throughput adds up or stops at a shared bottleneck.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.ScaleOutBenchmark
 *     [-Dbench.messages=200000 -Dbench.pipelines=4]</pre>
 */
public final class ScaleOutBenchmark {

    /** Aggregate msg/s of one layout, and the lock holders' share of the pipelines. */
    record Run(int relays, double rate, Map<String, Long> pipelinesByRelay) {
    }

    record Figures(int pipelines, int messages, Run one, Run twoSharing, Run twoSplit) {
        void print() {
            System.out.printf(Locale.ROOT, "%nscale-out: %d pipelines over %d outboxes, %,d messages in all%n", pipelines,
                    pipelines, messages);
            System.out.printf(Locale.ROOT, "  1 relay, all pipelines          %,9.0f msg/s  pipelines per relay %s%n", one.rate(),
                    one.pipelinesByRelay().values());
            System.out.printf(Locale.ROOT, "  2 relays on the same routes     %,9.0f msg/s  pipelines per relay %s (%.2fx)%n",
                    twoSharing.rate(), twoSharing.pipelinesByRelay().values(), twoSharing.rate() / one.rate());
            System.out.printf(Locale.ROOT, "  2 relays, half the routes each  %,9.0f msg/s  pipelines per relay %s (%.2fx)%n",
                    twoSplit.rate(), twoSplit.pipelinesByRelay().values(), twoSplit.rate() / one.rate());
        }
    }

    private ScaleOutBenchmark() {
    }

    public static void main(String[] args) {
        System.exit(BenchmarkMain.runWithBroker(broker -> measure(broker, Integer.getInteger("bench.messages", 200_000),
                Integer.getInteger("bench.pipelines", 4)).print()));
    }

    static Figures measure(KafkaBroker broker, int messages, int pipelines) throws Exception {
        try (TestDatabase db = TestDatabase.withExtension()) {
            for (int i = 0; i < pipelines; i++) {
                db.execute("SELECT tide.outbox_create('scale-" + i + "')");
                db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers)"
                        + " SELECT 'scale-" + i + "', 'c' || (g % 97), " + Backlog.PAYLOAD_SQL + ", '{}'"
                        + " FROM generate_series(1, " + messages / pipelines + ") g");
                Kafka.createTopic(broker.bootstrapServers(), "scale-" + i, 1);
            }
            db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
            return new Figures(pipelines, messages, drain(db, broker, pipelines, 1, false),
                    drain(db, broker, pipelines, 2, false), drain(db, broker, pipelines, 2, true));
        }
    }

    /**
     * Every outbox drained from its start by new pipelines on {@code relays} relays, all on one routes folder or
     * each on its own share of the pipeline files; msg/s from the first advance to the end.
     */
    private static Run drain(TestDatabase db, KafkaBroker broker, int pipelines, int relays, boolean split)
            throws Exception {
        String prefix = "scale-" + relays + (split ? "-split-" : "-shared-");
        List<Path> folders = new ArrayList<>();
        for (int r = 0; r < (split ? relays : 1); r++) {
            folders.add(Files.createTempDirectory("bench-scale"));
        }
        for (int i = 0; i < pipelines; i++) {
            Pipelines.kafkaPipeline(folders.get(i % folders.size()), prefix + i, "scale-" + i, "scale-" + i,
                    broker.bootstrapServers());
        }
        long total = db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_messages WHERE outbox_name LIKE 'scale-%'");
        // each outbox was filled by one statement: its ids are one run, so an offset's id tells how far it is
        String delivered = "SELECT coalesce(sum(o.last_id - f.first + 1) FILTER (WHERE o.last_id >= f.first), 0)::bigint"
                + " FROM tide.relay_consumer_offsets o JOIN (" + firstIds(db) + ") f ON f.outbox_name = o.outbox_name"
                + " WHERE o.pipeline LIKE '" + prefix + "%'";
        List<ChildRelay> started = new ArrayList<>();
        try {
            for (int r = 0; r < relays; r++) {
                started.add(ChildRelay.startAsShipped(db, folders.get(r % folders.size()), "relay-" + r,
                        Profiling.env(prefix + r)));
            }
            long first = Backlog.waitAbove(db, delivered, 0);
            long start = System.nanoTime();
            Backlog.waitAbove(db, delivered, total - 1);
            double rate = (total - first) / ((System.nanoTime() - start) / 1e9);
            Map<String, Long> byRelay = new TreeMap<>();
            try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT split_part(owner, ' ', 2), count(*) FROM tide.relay_consumer_offsets WHERE pipeline LIKE '" + prefix + "%' GROUP BY 1")) {
                while (rs.next()) {
                    byRelay.put(String.valueOf(rs.getString(1)), rs.getLong(2));
                }
            }
            return new Run(relays, rate, byRelay);
        } finally {
            for (ChildRelay relay : started) {
                relay.close();
            }
        }
    }

    /** A query of each scale outbox's first id, as constants. */
    private static String firstIds(TestDatabase db) throws Exception {
        return db.queryOne(String.class, "SELECT string_agg(format('SELECT %L AS outbox_name, %s AS first', outbox_name,"
                + " first), ' UNION ALL ') FROM (SELECT outbox_name, min(id) AS first FROM tide.tide_outbox_messages"
                + " WHERE outbox_name LIKE 'scale-%' GROUP BY outbox_name) f");
    }
}
