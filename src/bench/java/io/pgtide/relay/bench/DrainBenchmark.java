package io.pgtide.relay.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.pgtide.relay.Relay;
import io.pgtide.relay.batch.OutboxMessages;
import io.pgtide.relay.batch.OutboxRow;
import io.pgtide.relay.batch.TideConstants;
import io.pgtide.relay.sink.KafkaRecordKeys;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PropertyBindingSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Backlog drain, outbox → Kafka, 1 KiB JSON, one pipeline, in one run against the same PostgreSQL and broker:
 * (a) the relay — the shipped pipeline in a JVM of its own, its resident memory sampled; (b) the textbook Camel
 * route (camel-sql consumer on a connection pool, one exchange per row, an onConsume UPDATE marking each row); (c) the physical
 * limit — the raw JDBC rate of the same poll SQL, and the raw rate of a plain Kafka producer sending the same
 * records with the same settings; the limit is the smaller. Each contender runs two passes over backlogs of the
 * same size: the first in JVMs just started, the second in the same JVMs, warm. Prints each figure (msg/s, the
 * ratios, the goals) as soon as it is measured; a contender that fails is named with its cause and the others run on.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.DrainBenchmark
 *     [-Dbench.messages=200000 (a pass) -Dbench.textbookMessages=5000 -Dbench.batch=1000 -Dbench.jfr=/tmp/relay
 *     -Dbench.payload=note (or order: see Backlog.PAYLOAD_SQL)]</pre>
 */
public final class DrainBenchmark {

    private static final String TOPIC_SETTINGS_NOTE = "acks=all, idempotence, batch 256 KiB, the pipeline's linger";
    /** Rows per poll, for the relay and the raw JDBC loop; records per await for the batched producer. */
    private static final int BATCH = Integer.getInteger("bench.batch", 1000);

    /** One pass over a backlog of the same size: the relay's and the baselines' figures, either missing if it failed. */
    record Pass(RelayPass relay, Baselines baselines) {

        /** The smaller of the raw read and the raw producer, msg/s. */
        double limit() {
            return Math.min(baselines.jdbcRead(), baselines.producerStreaming());
        }

        /**
         * The most one batch in flight (ADR 6) allows with no relay work at all: each batch is read, then sent and
         * acknowledged, one after the other, at the rates the two raw loops measured.
         */
        double oneBatchInFlightBound() {
            return 1 / (1 / baselines.jdbcRead() + 1 / baselines.producerBatched());
        }

        /** The same bound with the relay's own send half (its messages through camel-kafka) in place of the plain producer. */
        double withRelaySendHalf() {
            return 1 / (1 / baselines.jdbcRead() + 1 / baselines.relaySendHalf());
        }

        /** The ratios of the relay to the baselines, once both are measured. */
        void printRatios() {
            if (relay == null || baselines == null) {
                return;
            }
            double rate = relay.rate();
            System.out.printf(Locale.ROOT, "      relay / limit %.0f %% (goal >= 50 %%); relay %,.0f msg/s (goal >= 50,000)%n",
                    100 * rate / limit(), rate);
            System.out.printf(Locale.ROOT, "      one batch in flight, read then send-a-batch with no relay work: %,.0f msg/s"
                    + " = %.0f %% of the limit; the relay reaches %.0f %% of that%n",
                    oneBatchInFlightBound(), 100 * oneBatchInFlightBound() / limit(), 100 * rate / oneBatchInFlightBound());
            System.out.printf(Locale.ROOT, "      one batch in flight, read then the relay's send half: %,.0f msg/s = %.0f %% of the limit;"
                    + " the relay reaches %.0f %% of that%n", withRelaySendHalf(), 100 * withRelaySendHalf() / limit(),
                    100 * rate / withRelaySendHalf());
        }
    }

    /**
     * The figures of one drain run: a first pass of each contender in JVMs that have just started, then a second
     * pass over a second backlog of the same size in the same JVMs, compiled and warm, as a relay that has been
     * running for a while drains a backlog. A figure whose contender failed is null.
     */
    record Figures(Pass cold, Pass warm, Double relayPeakRssMiB, Double textbook) {

        /** The pass the goals are judged on: the relay's steady state, against baselines measured the same way. */
        Pass judged() {
            return warm;
        }
    }

    private DrainBenchmark() {
    }

    public static void main(String[] args) {
        System.exit(BenchmarkMain.runWithBroker(
                broker -> run(broker, Integer.getInteger("bench.messages", 200_000))));
    }

    /**
     * Measures the contenders one after the other and prints each figure as soon as it is measured; a contender that
     * fails is named with its cause, and the others still run.
     */
    static Figures run(KafkaBroker broker, int messages) throws Exception {
        int textbookMessages = Integer.getInteger("bench.textbookMessages", Math.min(messages, 5_000));
        System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> Kafka, 1 KiB JSON (bench.payload=%s), one pipeline,"
                + " %,d messages a pass%n", System.getProperty("bench.payload", "note"), messages);
        try (TestDatabase db = TestDatabase.withExtension()) {
            Backlog.fill(db, messages);
            System.out.printf(Locale.ROOT, "  first pass, JVMs just started:%n");
            Baselines coldBaselines = attempt("(c) baselines, first pass", () -> baselines(db, broker, messages));
            RelayRun relay = attempt("(a) pg_tide relay", () -> relay(db, broker, messages, Map.of(), true));
            Pass cold = new Pass(relay == null ? null : relay.cold(), coldBaselines);
            Pass warm = new Pass(relay == null ? null : relay.warm(), null);
            if (relay != null) {
                System.out.printf(Locale.ROOT, "  first pass, ratios:%n");
                cold.printRatios();
                warm = new Pass(relay.warm(), attempt("(c) baselines, second pass",
                        () -> baselines(db, broker, messages)));
                System.out.printf(Locale.ROOT, "  second pass, ratios:%n");
                warm.printRatios();
                System.out.printf(Locale.ROOT, "  relay peak RSS %.0f MiB over both passes (goal <= 300)%n", relay.peakRssMiB());
            } else {
                System.out.printf(Locale.ROOT, "  no second pass: the relay appends its backlog%n");
            }
            Double textbook = attempt("(b) textbook route", () -> textbook(db, broker, textbookMessages));
            if (textbook != null) {
                System.out.printf(Locale.ROOT, "  (b) textbook route      %,9d msgs %,9.0f msg/s%n", textbookMessages, textbook);
                if (warm.relay() != null) {
                    System.out.printf(Locale.ROOT, "  relay / textbook %.1fx (goal >= 20x)%n", warm.relay().rate() / textbook);
                }
            }
            return new Figures(cold, warm, relay == null ? null : relay.peakRssMiB(), textbook);
        }
    }

    /** Runs one contender; when it fails, says which and why and returns null so that the others still run. */
    private static <T> T attempt(String contender, Callable<T> measurement) {
        try {
            return measurement.call();
        } catch (Exception e) {
            System.out.printf(Locale.ROOT, "  %s failed: %s%n", contender, e);
            return null;
        }
    }

    /**
     * The baselines over the backlog the relay has not read yet: the raw JDBC loop reads it (its own offset), the
     * plain producer sends as many records, streaming and then a batch at a time, and the relay's send half sends them
     * a batch at a time. Each figure is printed as it is measured.
     */
    private static Baselines baselines(TestDatabase db, KafkaBroker broker, int messages) throws Exception {
        double jdbcRead = RawRead.drain(db, "raw-read", "orders", BATCH).rowsPerSecond();
        System.out.printf(Locale.ROOT, "  (c) raw JDBC poll+advance         %,9.0f msg/s (same SQL, no sink)%n", jdbcRead);
        String payload = db.queryOne(String.class, "SELECT payload::text FROM tide.tide_outbox_messages ORDER BY id LIMIT 1");
        double streaming = rawProducer(broker, payload, messages, messages);
        System.out.printf(Locale.ROOT, "      raw Kafka producer            %,9.0f msg/s (same records, %s, no database)%n",
                streaming, TOPIC_SETTINGS_NOTE);
        double batched = rawProducer(broker, payload, messages, BATCH);
        System.out.printf(Locale.ROOT, "      raw producer, %d then acks  %,9.0f msg/s (the relay's send-a-batch, await"
                + " its acks pattern)%n", BATCH, batched);
        double sendHalf = relaySendHalf(broker, payload, messages);
        System.out.printf(Locale.ROOT, "      the relay's send half alone   %,9.0f msg/s (rows made messages by the relay's code, sent"
                + " through camel-kafka with the pipeline's settings, %d then acks)%n", sendHalf, BATCH);
        return new Baselines(jdbcRead, streaming, batched, sendHalf);
    }

    /** One pass of the baselines, msg/s. */
    record Baselines(double jdbcRead, double producerStreaming, double producerBatched, double relaySendHalf) {
    }

    /** One pass of the relay: msg/s and its CPU per message. */
    record RelayPass(double rate, double cpuMicrosPerMessage) {
    }

    private static final AtomicInteger RELAY_RUNS = new AtomicInteger();

    /** The relay's two passes and its peak resident memory over both. */
    record RelayRun(RelayPass cold, RelayPass warm, double peakRssMiB) {
    }

    /**
     * The shipped pipeline in a relay JVM of its own, with more settings for its environment: the backlog there, then
     * a second one of the same size appended while it runs; each pass is timed from its first advanced batch to its
     * last row, and with {@code print} printed as soon as it is measured.
     */
    static RelayRun relay(TestDatabase db, KafkaBroker broker, int messages, Map<String, String> settings, boolean print)
            throws Exception {
        // a topic of its own per run: a benchmark may run the relay several times on one broker
        String topic = "bench-relay-" + RELAY_RUNS.incrementAndGet();
        Kafka.createTopic(broker.bootstrapServers(), topic, 1);
        Path routes = Files.createTempDirectory("bench-routes");
        Path file = Pipelines.kafkaPipeline(routes, "orders-to-kafka", "orders", topic, broker.bootstrapServers());
        Files.writeString(file, Files.readString(file).replace("'orders')", "'orders', " + BATCH + ")"));
        Map<String, String> env = new HashMap<>(Profiling.env("drain"));
        env.putAll(settings);
        try (ChildRelay relay = ChildRelay.startAsShipped(db, routes, "bench", env)) {
            long pid = relay.process().pid();
            PeakRss peak = new PeakRss(pid);
            peak.start();
            RelayPass cold = pass(db, pid, 0);
            if (print) {
                System.out.printf(Locale.ROOT, "  (a) pg_tide relay                 %,9.0f msg/s  %.0f us of relay CPU per message%n",
                        cold.rate(), cold.cpuMicrosPerMessage());
            }
            long coldEnd = Pipelines.lastRow(db, "orders");
            Backlog.append(db, messages);
            RelayPass warm = pass(db, pid, coldEnd);
            peak.interrupt();
            if (print) {
                System.out.printf(Locale.ROOT, "  second pass, the same JVMs warm (the goals are judged here):%n");
                System.out.printf(Locale.ROOT, "  (a) pg_tide relay                 %,9.0f msg/s  %.0f us of relay CPU per message%n",
                        warm.rate(), warm.cpuMicrosPerMessage());
            }
            Profiling.dump(relay, "drain");
            return new RelayRun(cold, warm, peak.max);
        }
    }

    /** The relay's rate and CPU, from the first batch advanced past {@code after} to the outbox's last row. */
    private static RelayPass pass(TestDatabase db, long pid, long after) throws Exception {
        String offset = "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = 'orders-to-kafka'";
        long last = Pipelines.lastRow(db, "orders");
        long firstBatchEnd = Backlog.waitAbove(db, offset, after);
        double cpuStart = ProcessStats.cpuSeconds(pid);
        long start = System.nanoTime();
        Backlog.waitAbove(db, offset, last - 1);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = ProcessStats.cpuSeconds(pid) - cpuStart;
        long drained = last - firstBatchEnd;
        return new RelayPass(drained / seconds, cpu * 1e6 / drained);
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
     * msg/s of a plain Kafka producer sending the pipeline's records (the backlog's first payload, its key and headers), with the
     * pipeline's producer settings, {@code perAwait} records at a time before flushing and awaiting their
     * acknowledgements.
     */
    static double rawProducer(KafkaBroker broker, String payload, int messages, int perAwait) throws Exception {
        String topic = "bench-raw-" + perAwait + "-" + System.nanoTime();
        Kafka.createTopic(broker.bootstrapServers(), topic, 1);
        Map<String, Object> config = Map.of("bootstrap.servers", broker.bootstrapServers(),
                "acks", pipelineSetting("requestRequiredAcks"), "enable.idempotence", pipelineSetting("enableIdempotence"),
                "batch.size", pipelineSetting("producerBatchSize"), "linger.ms", pipelineSetting("lingerMs"));
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            long start = System.nanoTime();
            List<Future<RecordMetadata>> acks = new ArrayList<>(perAwait);
            for (int sent = 0; sent < messages; sent++) {
                String key = "c" + (sent % 97);
                String id = Long.toString(sent + 1);
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, payload);
                // the headers the relay's records carry: the row's own, then the relay's
                record.headers().add("type", utf8("order.created"));
                record.headers().add(TideConstants.ID, utf8(id));
                record.headers().add(TideConstants.KEY, utf8(key));
                record.headers().add(TideConstants.MESSAGE_ID, utf8("orders:" + id));
                record.headers().add(TideConstants.OUTBOX, utf8("orders"));
                acks.add(producer.send(record));
                if (acks.size() == perAwait || sent == messages - 1) {
                    producer.flush(); // as the relay's producer does when it awaits a batch
                    for (Future<RecordMetadata> ack : acks) {
                        ack.get();
                    }
                    acks.clear();
                }
            }
            return messages / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The relay's camel.component.kafka.* defaults, from its application.properties, by option name. */
    private static Map<String, Object> kafkaDefaults() throws IOException {
        Properties defaults = new Properties();
        try (InputStream in = Relay.class.getResourceAsStream("/application.properties")) {
            defaults.load(in);
        }
        Map<String, Object> options = new HashMap<>();
        String prefix = "camel.component.kafka.";
        defaults.stringPropertyNames().stream().filter(name -> name.startsWith(prefix))
                .forEach(name -> options.put(name.substring(prefix.length()), defaults.getProperty(name)));
        return options;
    }

    /**
     * msg/s of the relay's send half with no database and no route: batches of outbox rows made messages by the
     * relay's own processors and sent through camel-kafka, with the relay's component defaults and the pipeline's
     * endpoint settings; each batch is acknowledged before the next is made.
     */
    static double relaySendHalf(KafkaBroker broker, String payload, int messages) throws Exception {
        String topic = "bench-send-half-" + System.nanoTime();
        Kafka.createTopic(broker.bootstrapServers(), topic, 1);
        try (CamelContext camel = new DefaultCamelContext()) {
            KafkaComponent kafka = new KafkaComponent();
            PropertyBindingSupport.build().withCamelContext(camel).withTarget(kafka)
                    .withProperties(kafkaDefaults()).withMandatory(true).bind();
            camel.addComponent("kafka", kafka);
            camel.start();
            StringBuilder uri = new StringBuilder("kafka:" + topic + "?brokers=" + broker.bootstrapServers());
            for (String setting : PIPELINE_PRODUCER_SETTINGS) {
                uri.append('&').append(setting).append('=').append(pipelineSetting(setting));
            }
            Endpoint endpoint = camel.getEndpoint(uri.toString());
            Processor messagesOfRows = new OutboxMessages();
            Processor recordKeys = new KafkaRecordKeys();
            try (ProducerTemplate template = camel.createProducerTemplate()) {
                long start = System.nanoTime();
                for (int sent = 0; sent < messages; sent += BATCH) {
                    List<OutboxRow> rows = new ArrayList<>(BATCH);
                    for (int id = sent + 1; id <= Math.min(sent + BATCH, messages); id++) {
                        rows.add(new OutboxRow("send-half", "orders", id, Long.toString(1000 + id), "c" + (id % 97), payload,
                                "{\"type\": \"order.created\"}", "2026-12-05 18:35:31.123456+00", "orders:" + id));
                    }
                    Exchange batch = endpoint.createExchange();
                    batch.getMessage().setBody(rows);
                    messagesOfRows.process(batch);
                    recordKeys.process(batch);
                    template.send(endpoint, batch);
                    if (batch.getException() != null) {
                        throw batch.getException();
                    }
                }
                return messages / ((System.nanoTime() - start) / 1e9);
            }
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The shipped pipeline's Kafka producer parameters, which the baselines use too. */
    private static final List<String> PIPELINE_PRODUCER_SETTINGS =
            List.of("requestRequiredAcks", "enableIdempotence", "producerBatchSize", "lingerMs");

    /** A parameter of the shipped pipeline's Kafka endpoint, as written in routes/orders-to-kafka.yaml. */
    private static String pipelineSetting(String name) throws IOException {
        Matcher setting = Pattern.compile(name + ": \"?([^\"\\s#]+)")
                .matcher(Files.readString(Path.of("routes/orders-to-kafka.yaml")));
        if (!setting.find()) {
            throw new IllegalStateException("routes/orders-to-kafka.yaml has no " + name);
        }
        return setting.group(1);
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
        // a pool, as an application has: camel-sql takes a connection from the DataSource for every onConsume UPDATE,
        // and a new PostgreSQL connection per row held this route to about 25 msg/s
        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(db.jdbcUrl());
        dataSource.setUsername("postgres");
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
            dataSource.close();
        }
    }
}
