package io.pgtide.relay.bench;

import io.pgtide.relay.testing.Backlog;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Future;
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
 * Backlog drain, outbox → Kafka, in one run against the same PostgreSQL and broker: the relay's shipped
 * pipeline against the textbook Camel route (camel-sql consumer, one exchange per row, an onConsume
 * UPDATE marking each row). Prints msg/s of each and the ratio.
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.DrainBenchmark [-Dbench.messages=100000]</pre>
 */
public final class DrainBenchmark {

    private DrainBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 100_000);
        int textbookMessages = Integer.getInteger("bench.textbookMessages", Math.min(messages, 20_000));
        try (KafkaBroker broker = KafkaBroker.start(); TestDatabase db = TestDatabase.withExtension()) {
            double producer = rawProducer(broker, messages);
            double relay = relay(db, broker, messages);
            double textbook = textbook(db, broker, textbookMessages);
            System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> Kafka, 1 KiB JSON%n");
            System.out.printf(Locale.ROOT, "  pg_tide relay     %,9d msgs  %,10.0f msg/s%n", messages, relay);
            System.out.printf(Locale.ROOT, "  textbook route    %,9d msgs  %,10.0f msg/s%n", textbookMessages, textbook);
            System.out.printf(Locale.ROOT, "  plain producer    %,9d msgs  %,10.0f msg/s (same broker and producer settings,"
                    + " no database: the sink's limit; relay at %.0f %% of it)%n", messages, producer, 100 * relay / producer);
            System.out.printf(Locale.ROOT, "  ratio relay/textbook %.1fx (goals: >= 50,000 msg/s, >= 20x)%n",
                    relay / textbook);
        }
        System.exit(0);
    }

    /** msg/s of the shipped pipeline draining a backlog, from its first advanced batch to the last row. */
    static double relay(TestDatabase db, KafkaBroker broker, int messages) throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload)"
                + " SELECT 'orders', 'c' || (g % 97), " + Backlog.PAYLOAD_SQL + " FROM generate_series(1, " + messages + ") g");
        db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
        Kafka.createTopic(broker.bootstrapServers(), "bench-relay", 1);
        Path routes = Files.createTempDirectory("bench-routes");
        Files.writeString(routes.resolve("bench.yaml"), Files.readString(Path.of("routes/orders-to-kafka.yaml"))
                .replace("'orders')", "'orders', " + Integer.getInteger("bench.batch", 1000) + ")")
                .replace("kafka:orders", "kafka:bench-relay")
                .replace("{{kafka.brokers:localhost:9092}}", broker.bootstrapServers()));
        long last = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");
        try (RelayHarness relay = RelayHarness.start(db, routes, "bench")) {
            long firstBatchEnd = Backlog.waitAbove(db, "SELECT last_id FROM tide.relay_consumer_offsets", 0);
            long start = System.nanoTime();
            Backlog.waitAbove(db, "SELECT last_id FROM tide.relay_consumer_offsets", last - 1);
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Double> metrics = Scrape.metrics(relay.managementUrl() + "/metrics");
            double batches = metrics.get("pg_tide_relay_batch_duration_seconds_count{pipeline=\"orders-to-kafka\"}");
            double inRoute = metrics.get("pg_tide_relay_batch_duration_seconds_sum{pipeline=\"orders-to-kafka\"}");
            System.out.printf(Locale.ROOT, "  relay: %.0f batches, %.1f ms per batch in all, %.1f ms of it from exchange"
                    + " start to offset advanced%n", batches, seconds * 1000 / batches, inRoute * 1000 / batches);
            return (last - firstBatchEnd) / seconds;
        }
    }

    /** msg/s of a plain Kafka producer sending records like the pipeline's, with the pipeline's producer settings. */
    static double rawProducer(KafkaBroker broker, int messages) throws Exception {
        Kafka.createTopic(broker.bootstrapServers(), "bench-raw", 1);
        Map<String, Object> config = Map.of("bootstrap.servers", broker.bootstrapServers(), "acks", "all",
                "enable.idempotence", "true", "batch.size", 262144, "linger.ms", 5);
        String payload = "{\"order\": 1, \"customer\": \"c1\", \"note\": \"" + "x".repeat(960) + "\"}";
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            long start = System.nanoTime();
            for (int sent = 0; sent < messages; sent += 1000) {
                // like the relay: a batch of 1000 sent, then every acknowledgement awaited
                List<Future<RecordMetadata>> acks = new ArrayList<>(1000);
                for (int i = 0; i < 1000; i++) {
                    ProducerRecord<String, String> record = new ProducerRecord<>("bench-raw", "c" + (i % 97), payload);
                    record.headers().add("pg_tide_message_id", ("orders:" + (sent + i)).getBytes(StandardCharsets.UTF_8));
                    acks.add(producer.send(record));
                }
                for (Future<RecordMetadata> ack : acks) {
                    ack.get();
                }
            }
            return messages / ((System.nanoTime() - start) / 1e9);
        }
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
