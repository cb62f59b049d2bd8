package io.pgtide.relay.bench;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Hours of steady load, outbox → Kafka: publishers at a fixed rate, the shipped Kafka pipeline, and a retention of
 * 0 hours, so that the relay's sweep deletes what every pipeline has passed all the time. One line a minute:
 * publish and delivery rates, commit → broker append p50/p99/max (the topic stamps LogAppendTime; acks=all on one
 * broker acknowledges at that append), the outbox table's size, its index's, dead tuples, and the relay's mean
 * batch time (poll to offset advance); sizes are the largest of the minute's samples, one every 10 s. At the end:
 * lost and duplicated messages. Goal: after the first minutes, size flat within ±20 %, no upward trend in p99, nothing lost. {@code -Dbench.partitionXids=N} runs it on partitioned
 * storage (ADR 14), partitions of N transaction ids dropped by the same schedule; sizes then sum every partition.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.SoakBenchmark
 *     [-Dbench.rate=2000] [-Dbench.minutes=30] [-Dbench.publishers=8] [-Dbench.perTx=1] [-Dbench.sweepSeconds=30]
 *     [-Dbench.partitionXids=60000]</pre>
 */
public final class SoakBenchmark {

    private static final String TOPIC = "soak";
    private static final String PIPELINE = "soak";
    /** How often the storage is measured; a minute's line shows the largest of its samples (partition drops saw-tooth). */
    private static final long SAMPLE_MILLIS = 10_000;

    private final TestDatabase db;
    private final AtomicBoolean publishing = new AtomicBoolean(true);
    private final AtomicBoolean consuming = new AtomicBoolean(true);
    /** Per id, the commit time (positive) or the append time (negative) of whichever was seen first. */
    private final Map<Long, Long> halfSeen = new ConcurrentHashMap<>();
    private final BitSet published = new BitSet();
    private final BitSet delivered = new BitSet();
    private final AtomicLong duplicates = new AtomicLong();
    private volatile Minute minute = new Minute();

    /** What one minute saw: messages published and delivered, and the latency of each delivered one. */
    private static final class Minute {
        final AtomicLong published = new AtomicLong();
        final List<Long> latencies = new ArrayList<>();

        synchronized void latency(long millis) {
            latencies.add(millis);
        }

        synchronized long[] sorted() {
            return latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        }
    }

    private SoakBenchmark(TestDatabase db) {
        this.db = db;
    }

    public static void main(String[] args) throws Exception {
        int rate = Integer.getInteger("bench.rate", 2000);
        int minutes = Integer.getInteger("bench.minutes", 30);
        int publishers = Integer.getInteger("bench.publishers", 8);
        int perTx = Integer.getInteger("bench.perTx", 1);
        String sweep = System.getProperty("bench.sweepSeconds", "30");
        Long partitionXids = Long.getLong("bench.partitionXids"); // null: plain storage
        try (KafkaBroker broker = KafkaBroker.start(); TestDatabase db = TestDatabase.withExtension()) {
            Kafka.createTopic(broker.bootstrapServers(), TOPIC, 1, Map.of("message.timestamp.type", "LogAppendTime"));
            db.execute("SELECT tide.outbox_create('orders', 0, " + partitionXids + ")");
            Path routes = Files.createTempDirectory("bench-soak");
            Pipelines.kafkaPipeline(routes, PIPELINE, "orders", TOPIC, broker.bootstrapServers());
            try (RelayHarness relay = RelayHarness.start(db, routes, "soak", Map.of(RelaySettings.SWEEP_INTERVAL.name(), sweep))) {
                // without autovacuum the swept rows' space is never reused: the table grows whatever the sweep does
                System.out.printf(Locale.ROOT, "soak outbox -> Kafka: %,d msg/s from %d publishers (%d per tx), %d min,"
                        + " retention 0 h, sweep every %s s, %s, PostgreSQL %s, autovacuum %s%n", rate,
                        publishers, perTx, minutes, sweep,
                        partitionXids == null ? "plain storage" : "partitions of " + partitionXids + " ids", db.queryOne(String.class, "SHOW server_version"),
                        db.queryOne(String.class, "SHOW autovacuum"));
                new SoakBenchmark(db).run(broker, relay, rate, minutes, publishers, perTx);
            }
        }
        System.exit(0);
    }

    private void run(KafkaBroker broker, RelayHarness relay, int rate, int minutes, int publishers, int perTx)
            throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(publishers + 1);
        Future<?> consumer = threads.submit(() -> consume(broker.bootstrapServers()));
        List<Future<?>> work = new ArrayList<>();
        long start = System.nanoTime();
        for (int p = 0; p < publishers; p++) {
            long txNanos = 1_000_000_000L * publishers * perTx / rate;
            long first = start + txNanos * p / publishers;
            work.add(threads.submit(() -> publish(first, txNanos, perTx)));
        }
        System.out.println("  min  published/s delivered/s   p50 ms   p99 ms   max ms   table MiB  index MiB  dead tuples"
                + "  batch ms   (storage: the largest of the minute's samples, one every 10 s)");
        double[] batch = batchTotals(relay);
        long deliveredBefore = 0;
        for (int m = 1; m <= minutes; m++) {
            long[] largest = new long[3];
            for (long end = start + m * 60_000_000_000L; System.nanoTime() < end; ) {
                Thread.sleep(Math.max(0, Math.min(SAMPLE_MILLIS, (end - System.nanoTime()) / 1_000_000)));
                long[] size = storage();
                if (size[0] + size[1] > largest[0] + largest[1]) {
                    largest = size;
                }
            }
            Minute ended = minute;
            minute = new Minute();
            long deliveredNow = deliveredCount();
            double[] batchNow = batchTotals(relay);
            print(m, ended, largest, deliveredNow - deliveredBefore, (batchNow[0] - batch[0]) / Math.max(1, batchNow[1] - batch[1]));
            deliveredBefore = deliveredNow;
            batch = batchNow;
        }
        publishing.set(false);
        for (Future<?> f : work) {
            f.get();
        }
        long last = Pipelines.lastRow(db, "orders");
        Pipelines.await(Duration.ofSeconds(120), "every message delivered", () -> Pipelines.offset(db, PIPELINE) >= last);
        Pipelines.await(Duration.ofSeconds(60), "every record consumed", () -> deliveredCount() >= publishedCount());
        consuming.set(false);
        consumer.get();
        threads.shutdown();
        BitSet lost;
        synchronized (published) {
            lost = (BitSet) published.clone();
        }
        synchronized (delivered) {
            lost.andNot(delivered);
        }
        System.out.printf(Locale.ROOT, "  end: %,d published, %,d delivered, %,d lost, %,d duplicates%n", publishedCount(),
                deliveredCount(), lost.cardinality(), duplicates.get());
    }

    private void print(int m, Minute ended, long[] largest, long deliveredInMinute, double batchSeconds) {
        long[] sorted = ended.sorted();
        System.out.printf(Locale.ROOT, "  %3d  %,11.0f %,11.0f %8d %8d %8d %11.1f %10.1f %12d %9.1f%n", m,
                ended.published.get() / 60.0, deliveredInMinute / 60.0, percentile(sorted, 0.50),
                percentile(sorted, 0.99), sorted.length == 0 ? -1 : sorted[sorted.length - 1],
                largest[0] / 1048576.0, largest[1] / 1048576.0, largest[2], batchSeconds * 1000);
    }

    /** The outbox's storage now, every partition of the partitioned form included: table bytes, index bytes, dead tuples. */
    private long[] storage() throws Exception {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT sum(pg_relation_size(s.relid)), sum(pg_indexes_size(s.relid)), sum(s.n_dead_tup)"
                        + " FROM pg_stat_user_tables s WHERE s.relid = 'tide.tide_outbox_messages'::regclass"
                        + " OR s.relid IN (SELECT relid FROM pg_partition_tree('tide.tide_outbox_partitioned') WHERE isleaf)");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
        }
    }

    private Void publish(long first, long txNanos, int perTx) throws Exception {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(PacedPublish.STATEMENT)) {
            c.setAutoCommit(perTx == 1);
            for (long n = 0; publishing.get(); n++) {
                long[] ids = PacedPublish.transaction(c, ps, first + n * txNanos, n, perTx, 64);
                long committed = System.currentTimeMillis();
                Minute now = minute;
                for (long id : ids) {
                    synchronized (published) {
                        published.set((int) id);
                    }
                    now.published.incrementAndGet();
                    meet(id, committed, 0, now);
                }
            }
        }
        return null;
    }

    private Void consume(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "soak-" + System.nanoTime());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            while (consuming.get()) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    long id = Long.parseLong(Kafka.header(record, "pg_tide_id"));
                    boolean first;
                    synchronized (delivered) {
                        first = !delivered.get((int) id);
                        delivered.set((int) id);
                    }
                    if (first) {
                        meet(id, 0, record.timestamp(), minute);
                    } else {
                        duplicates.incrementAndGet();
                    }
                }
            }
        }
        return null;
    }

    /** The commit and the append of one message meet here, in either order; the latency goes to the minute. */
    private void meet(long id, long committedAt, long appendedAt, Minute into) {
        halfSeen.compute(id, (key, seen) -> {
            if (seen == null) {
                return committedAt != 0 ? committedAt : -appendedAt;
            }
            long commit = committedAt != 0 ? committedAt : seen;
            long append = appendedAt != 0 ? appendedAt : -seen;
            into.latency(append - commit);
            return null;
        });
    }

    private long publishedCount() {
        synchronized (published) {
            return published.cardinality();
        }
    }

    private long deliveredCount() {
        synchronized (delivered) {
            return delivered.cardinality();
        }
    }

    /** The relay's batch timer: total seconds and count, over every pipeline. */
    private static double[] batchTotals(RelayHarness relay) throws Exception {
        double sum = 0;
        double count = 0;
        for (Map.Entry<String, Double> sample : Scrape.metrics(relay.managementUrl() + "/metrics").entrySet()) {
            if (sample.getKey().startsWith("pg_tide_relay_batch_duration_seconds_sum")) {
                sum += sample.getValue();
            } else if (sample.getKey().startsWith("pg_tide_relay_batch_duration_seconds_count")) {
                count += sample.getValue();
            }
        }
        return new double[] {sum, count};
    }

    private static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
