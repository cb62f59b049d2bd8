package io.pgtide.relay.bench;

import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Steady-state latency outbox → Kafka: messages published one per transaction at a fixed rate, and for each
 * the time from its publishing commit to the broker appending the record (the topic stamps records with
 * LogAppendTime; acks=all on one broker acknowledges at that append). Prints p50/p99/max for the shipped
 * pipeline (woken by the outbox's notifications) and for the same pipeline polling on its delay only.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.LatencyBenchmark
 *     [-Dbench.rate=1000 -Dbench.seconds=60 -Dbench.baselineSeconds=15 -Dbench.publishers=8 -Dbench.perTx=1
 *      -Dbench.warmupSeconds=5]</pre>
 */
public final class LatencyBenchmark {

    /** Publishing sessions, each committing one message per transaction at its share of the rate. */
    private static final int PRODUCERS = Integer.getInteger("bench.publishers", 8);
    /** Messages per publishing transaction. */
    private static final int PER_TX = Integer.getInteger("bench.perTx", 1);
    /** Seconds published before the measured ones, so that the relay's start and first compilations are not counted. */
    private static final int WARMUP_SECONDS = Integer.getInteger("bench.warmupSeconds", 5);

    /** Latencies in milliseconds over the messages of one run, and where its time went. */
    record Figures(int messages, double seconds, long p50, long p99, long max, Load load) {
        String line(String what) {
            return String.format(Locale.ROOT, "  %-34s %,7d msgs in %3.0f s (%,6.0f msg/s)  p50 %4d ms  p99 %4d ms"
                    + "  max %5d ms%n%s", what, messages, seconds, messages / seconds, p50, p99, max, load.line());
        }
    }

    private LatencyBenchmark() {
    }

    public static void main(String[] args) {
        int rate = Integer.getInteger("bench.rate", 1000);
        int seconds = Integer.getInteger("bench.seconds", 60);
        int baselineSeconds = Integer.getInteger("bench.baselineSeconds", 15);
        System.exit(BenchmarkMain.runWithBroker(broker -> print(rate, measure(broker, rate, seconds, true),
                measure(broker, rate, baselineSeconds, false))));
    }

    static void print(int rate, Figures woken, Figures polled) {
        System.out.printf(Locale.ROOT, "%nsteady-state latency, commit -> Kafka acknowledgement, %,d msg/s asked for, %d"
                + " publishers, %d per transaction%n", rate, PRODUCERS, PER_TX);
        System.out.println(woken.line("woken by LISTEN/NOTIFY (shipped)"));
        System.out.println(polled.line("polling on its delay only"));
        System.out.printf(Locale.ROOT, "  goal p99 <= 100 ms: %s%n", woken.p99() <= 100 ? "met" : "NOT met");
    }

    /** One run on a fresh database: the shipped pipeline, with or without its wake-up scheduler. */
    static Figures measure(KafkaBroker broker, int rate, int seconds, boolean wakeup) throws Exception {
        String topic = "latency-" + (wakeup ? "woken" : "polled");
        Kafka.createTopic(broker.bootstrapServers(), topic, 1, Map.of("message.timestamp.type", "LogAppendTime"));
        Path routes = Files.createTempDirectory("bench-latency");
        Path file = Pipelines.kafkaPipeline(routes, "latency", "orders", topic, broker.bootstrapServers());
        if (!wakeup) {
            Files.writeString(file, Files.readString(file).replaceAll("(?m)^\\s*scheduler: .*\\n", ""));
        }
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            try (RelayHarness relay = RelayHarness.start(db, routes, "latency")) {
                Pipelines.await(Duration.ofSeconds(30), "the pipeline's first poll", () -> Pipelines.offset(db, "latency") >= 0);
                int warmup = publish(db, rate, WARMUP_SECONDS).size();
                Load.Sample before = Load.Sample.take(relay.metricsPort());
                Map<Long, Long> committedAt = publish(db, rate, seconds);
                Load.Sample after = Load.Sample.take(relay.metricsPort());
                // the publishers may fall behind the rate asked for: the figures are for the rate they reached
                double published = (after.nanos() - before.nanos()) / 1e9;
                long last = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(60), "every message", () -> Pipelines.offset(db, "latency") == last);
                long[] latencies = latencies(broker, topic, warmup + committedAt.size(), committedAt);
                return new Figures(latencies.length, published, percentile(latencies, 0.50),
                        percentile(latencies, 0.99), latencies[latencies.length - 1], Load.between(before, after));
            }
        }
    }

    /** Publishes {@code rate} messages a second for {@code seconds} from a few sessions; the wall-clock time of each commit by id. */
    private static Map<Long, Long> publish(TestDatabase db, int rate, int seconds) throws Exception {
        Map<Long, Long> committedAt = new ConcurrentHashMap<>();
        long intervalNanos = 1_000_000_000L * PRODUCERS * PER_TX / rate;
        int perProducer = rate * seconds / PRODUCERS / PER_TX;
        ExecutorService threads = Executors.newFixedThreadPool(PRODUCERS);
        List<Future<?>> work = new ArrayList<>();
        long start = System.nanoTime();
        for (int p = 0; p < PRODUCERS; p++) {
            long offset = intervalNanos * p / PRODUCERS;
            work.add(threads.submit(() -> {
                try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(PacedPublish.STATEMENT)) {
                    c.setAutoCommit(PER_TX == 1);
                    for (int n = 0; n < perProducer; n++) {
                        long[] ids = PacedPublish.transaction(c, ps, start + offset + n * intervalNanos, n, PER_TX, 16);
                        long committed = System.currentTimeMillis();
                        for (long id : ids) {
                            committedAt.put(id, committed);
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : work) {
            f.get();
        }
        threads.shutdown();
        return committedAt;
    }

    /** Sorted milliseconds from commit to the broker's append time of each measured record (of all the topic's). */
    private static long[] latencies(KafkaBroker broker, String topic, int records, Map<Long, Long> committedAt) {
        long[] latencies = Kafka.readAll(broker.bootstrapServers(), topic, records, Duration.ofSeconds(60)).stream()
                .filter(r -> committedAt.containsKey(id(r)))
                .mapToLong(r -> r.timestamp() - committedAt.get(id(r)))
                .toArray();
        Arrays.sort(latencies);
        return latencies;
    }

    private static long id(ConsumerRecord<String, String> record) {
        return Long.parseLong(Kafka.header(record, "pg_tide_id"));
    }

    private static long percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
