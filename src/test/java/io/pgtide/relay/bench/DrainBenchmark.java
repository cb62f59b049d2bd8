package io.pgtide.relay.bench;

import io.pgtide.relay.testing.Backlog;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.ProcessStats;
import io.pgtide.relay.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Backlog drain, outbox → Kafka, 1 KiB JSON, one pipeline, in one run against the same PostgreSQL and broker:
 * (a) the relay — the shipped pipeline in a JVM of its own, its resident memory sampled; (b) the textbook Camel
 * route (camel-sql consumer, one exchange per row, an onConsume UPDATE marking each row); (c) the physical
 * limit — the raw JDBC rate of the same poll SQL, and the raw rate of a plain Kafka producer sending the same
 * records with the same settings; the limit is the smaller. Prints msg/s, the ratios and the goals.
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.DrainBenchmark
 *     [-Dbench.messages=200000 -Dbench.textbookMessages=20000 -Dbench.batch=1000 -Dbench.jfr=/tmp/relay]</pre>
 */
public final class DrainBenchmark {

    private static final String TOPIC_SETTINGS_NOTE = "acks=all, idempotence, batch 256 KiB, the pipeline's linger";

    /** The figures of one drain run; rates in msg/s. */
    record Figures(int messages, double relay, double relayPeakRssMiB, double relayCpuMicrosPerMessage,
                   int textbookMessages, double textbook, double jdbcRead, double producerStreaming,
                   double producerBatched) {
        double limit() {
            return Math.min(jdbcRead, producerStreaming);
        }

        void print() {
            System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> Kafka, 1 KiB JSON, one pipeline%n");
            System.out.printf(Locale.ROOT, "  (a) pg_tide relay       %,9d msgs %,9.0f msg/s  peak RSS %.0f MiB,"
                    + " %.0f us of relay CPU per message%n", messages, relay, relayPeakRssMiB, relayCpuMicrosPerMessage);
            System.out.printf(Locale.ROOT, "  (b) textbook route      %,9d msgs %,9.0f msg/s%n", textbookMessages, textbook);
            System.out.printf(Locale.ROOT, "  (c) raw JDBC poll+advance         %,9.0f msg/s (same SQL, no sink)%n", jdbcRead);
            System.out.printf(Locale.ROOT, "      raw Kafka producer            %,9.0f msg/s (same records, %s, no database)%n",
                    producerStreaming, TOPIC_SETTINGS_NOTE);
            System.out.printf(Locale.ROOT, "      raw producer, 1000 then acks  %,9.0f msg/s (the relay's send-a-batch, await"
                    + " its acks pattern)%n", producerBatched);
            System.out.printf(Locale.ROOT, "  relay / textbook %.1fx (goal >= 20x); relay / limit %.0f %% (goal >= 50 %%);"
                    + " relay %,.0f msg/s (goal >= 50,000); peak RSS %.0f MiB (goal <= 300)%n",
                    relay / textbook, 100 * relay / limit(), relay, relayPeakRssMiB);
        }
    }

    private DrainBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        try (KafkaBroker broker = KafkaBroker.start()) {
            measure(broker, Integer.getInteger("bench.messages", 200_000)).print();
        }
        System.exit(0);
    }

    static Figures measure(KafkaBroker broker, int messages) throws Exception {
        int textbookMessages = Integer.getInteger("bench.textbookMessages", Math.min(messages, 20_000));
        int batch = Integer.getInteger("bench.batch", 1000);
        try (TestDatabase db = TestDatabase.withExtension()) {
            Backlog.fill(db, messages);
            double jdbcRead = RawRead.drain(db, "raw-read", "orders", batch).rowsPerSecond();
            double producerStreaming = rawProducer(broker, messages, messages);
            double producerBatched = rawProducer(broker, messages, batch);
            RelayRun relay = relay(db, broker, batch);
            double textbook = textbook(db, broker, textbookMessages);
            return new Figures(messages, relay.rate(), relay.peakRssMiB(), relay.cpuMicrosPerMessage(), textbookMessages,
                    textbook, jdbcRead, producerStreaming, producerBatched);
        }
    }

    /** The relay's drain: msg/s, its peak resident memory and its CPU per message. */
    record RelayRun(double rate, double peakRssMiB, double cpuMicrosPerMessage) {
    }

    /** The shipped pipeline in a relay JVM of its own, from its first advanced batch to the last row. */
    static RelayRun relay(TestDatabase db, KafkaBroker broker, int batch) throws Exception {
        Kafka.createTopic(broker.bootstrapServers(), "bench-relay", 1);
        Path routes = Files.createTempDirectory("bench-routes");
        Path file = Pipelines.kafkaPipeline(routes, "orders-to-kafka", "orders", "bench-relay", broker.bootstrapServers());
        Files.writeString(file, Files.readString(file).replace("'orders')", "'orders', " + batch + ")"));
        long last = Pipelines.lastRow(db, "orders");
        String offset = "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = 'orders-to-kafka'";
        try (ChildRelay relay = ChildRelay.startAsShipped(db, routes, "bench", Profiling.env("drain"))) {
            long pid = relay.process().pid();
            PeakRss peak = new PeakRss(pid);
            peak.start();
            long firstBatchEnd = Backlog.waitAbove(db, offset, 0);
            double cpuStart = ProcessStats.cpuSeconds(pid);
            long start = System.nanoTime();
            Backlog.waitAbove(db, offset, last - 1);
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpu = ProcessStats.cpuSeconds(pid) - cpuStart;
            peak.interrupt();
            Profiling.dump(relay, "drain");
            long drained = last - firstBatchEnd;
            return new RelayRun(drained / seconds, peak.max, cpu * 1e6 / drained);
        }
    }

    /** Samples a process's resident memory every 100 ms and keeps the highest. */
    private static final class PeakRss extends Thread {
        private final long pid;
        private volatile double max;

        PeakRss(long pid) {
            super("peak-rss");
            this.pid = pid;
            setDaemon(true);
        }

        @Override
        public void run() {
            while (!isInterrupted()) {
                max = Math.max(max, ProcessStats.rssMiB(pid));
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /**
     * msg/s of a plain Kafka producer sending records like the pipeline's, with the pipeline's producer settings,
     * {@code perAwait} records at a time before awaiting their acknowledgements.
     */
    static double rawProducer(KafkaBroker broker, int messages, int perAwait) throws Exception {
        String topic = "bench-raw-" + perAwait;
        Kafka.createTopic(broker.bootstrapServers(), topic, 1);
        Map<String, Object> config = Map.of("bootstrap.servers", broker.bootstrapServers(), "acks", "all",
                "enable.idempotence", "true", "batch.size", 262144, "linger.ms", lingerMs());
        String payload = "{\"order\": 1, \"customer\": \"c1\", \"note\": \"" + "x".repeat(960) + "\"}";
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            long start = System.nanoTime();
            List<Future<RecordMetadata>> acks = new ArrayList<>(perAwait);
            for (int sent = 0; sent < messages; sent++) {
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, "c" + (sent % 97), payload);
                record.headers().add("pg_tide_message_id", ("orders:" + sent).getBytes(StandardCharsets.UTF_8));
                record.headers().add("type", "order.created".getBytes(StandardCharsets.UTF_8));
                acks.add(producer.send(record));
                if (acks.size() == perAwait || sent == messages - 1) {
                    for (Future<RecordMetadata> ack : acks) {
                        ack.get();
                    }
                    acks.clear();
                }
            }
            return messages / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The shipped pipeline's lingerMs, so the plain producer runs with the same setting. */
    private static int lingerMs() throws IOException {
        Matcher linger = Pattern.compile("lingerMs: (\\d+)").matcher(Files.readString(Path.of("routes/orders-to-kafka.yaml")));
        return linger.find() ? Integer.parseInt(linger.group(1)) : 5;
    }

    /** msg/s of the one-exchange-per-row route with an UPDATE per row, from its first marked row. */
    static double textbook(TestDatabase db, KafkaBroker broker, int messages) throws Exception {
        db.execute("CREATE TABLE textbook_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL,"
                + " processed boolean NOT NULL DEFAULT false)");
        db.execute("CREATE INDEX ON textbook_outbox (id) WHERE NOT processed");
        db.execute("INSERT INTO textbook_outbox (payload) SELECT " + Backlog.PAYLOAD_SQL + " FROM generate_series(1, " + messages
                + ") g");
        db.execute("VACUUM ANALYZE textbook_outbox");
        Kafka.createTopic(broker.bootstrapServers(), "bench-textbook", 1);
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(db.jdbcUrl());
        dataSource.setUser("postgres");
        dataSource.setPassword("postgres");
        CamelContext camel = new DefaultCamelContext();
        camel.getRegistry().bind("textbook", dataSource);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("sql:SELECT id, payload::text AS payload FROM textbook_outbox WHERE NOT processed ORDER BY id LIMIT 1000"
                        + "?dataSource=#textbook&greedy=true&delay=500"
                        + "&onConsume=UPDATE textbook_outbox SET processed = true WHERE id = :#id")
                        .setBody(simple("${body[payload]}"))
                        .to("kafka:bench-textbook?brokers=" + broker.bootstrapServers()
                                + "&requestRequiredAcks=all&enableIdempotence=true");
            }
        });
        camel.start();
        try {
            String processed = "SELECT count(*) FROM textbook_outbox WHERE processed";
            long first = Backlog.waitAbove(db, processed, 0);
            long start = System.nanoTime();
            Backlog.waitAbove(db, processed, messages - 1);
            return (messages - first) / ((System.nanoTime() - start) / 1e9);
        } finally {
            camel.stop();
        }
    }
}
