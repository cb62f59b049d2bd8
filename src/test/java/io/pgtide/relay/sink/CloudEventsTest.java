package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.http.HttpMessageFactory;
import io.cloudevents.kafka.KafkaMessageFactory;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * CloudEvents per pipeline, structured and binary, to a real Kafka broker and a real HTTP server on loopback; the
 * CloudEvents SDK reads what each consumer got, as a consumer would. Every message is delivered twice (its
 * pipeline's registration is forgotten and the relay restarted), and both copies are the same event.
 */
class CloudEventsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MESSAGES = 20;

    @RegisterExtension
    static final KafkaAndWebhook SINKS = new KafkaAndWebhook();

    /** What a pipeline's events say, besides what each row decides (id, time, data). */
    private record Expected(String pipeline, String source, String type) {
    }

    @Test
    void eachModeReachesKafkaAndHttpAsTheSameEventOnEveryDelivery(@TempDir Path routes) throws Exception {
        Expected kafkaStructured = new Expected("kafka-structured", "/shop/orders", "order.created");
        Expected kafkaBinary = new Expected("kafka-binary", "/pg_tide/orders", "pg_tide.message");
        Expected httpStructured = new Expected("http-structured", "/pg_tide/orders", "order.created");
        Expected httpBinary = new Expected("http-binary", "urn:shop:orders", "order.created");
        try (TestDatabase db = TestDatabase.withOutbox("orders");
             HttpSinkTest.WebhookServer server = SINKS.webhook()) {
            kafka(routes, kafkaStructured, "cloudEvents=structured&ceSource=/shop/orders&ceType=header:type");
            kafka(routes, kafkaBinary, "cloudEvents=binary");
            http(routes, server, httpStructured, "cloudEvents=structured&ceType=header:type");
            http(routes, server, httpBinary, "cloudEvents=binary&ceSource=urn:shop:orders&ceType=header:type");
            Producers.publish(db, "orders", 2, MESSAGES);
            Map<Long, Row> rows = rows(db);

            deliverEverything(db, routes);
            for (Expected pipeline : List.of(kafkaStructured, kafkaBinary, httpStructured, httpBinary)) {
                db.execute("SELECT tide.relay_unregister('" + pipeline.pipeline() + "', 'orders')");
            }
            deliverEverything(db, routes);

            List<ConsumerRecord<String, byte[]>> structured = records(kafkaStructured.pipeline());
            List<ConsumerRecord<String, byte[]>> binary = records(kafkaBinary.pipeline());
            assertEquals(2 * MESSAGES, structured.size());
            assertEquals(2 * MESSAGES, binary.size());
            sameEventOnEachDelivery(kafkaStructured.pipeline(), structured.stream()
                    .map(r -> KafkaMessageFactory.createReader(r).toEvent()).toList());
            sameEventOnEachDelivery(kafkaBinary.pipeline(), binary.stream()
                    .map(r -> KafkaMessageFactory.createReader(r).toEvent()).toList());
            for (ConsumerRecord<String, byte[]> record : structured) {
                assertEquals("application/cloudevents+json",
                        new String(record.headers().lastHeader("content-type").value(), StandardCharsets.UTF_8));
                Row row = check(KafkaMessageFactory.createReader(record).toEvent(), kafkaStructured, rows);
                assertEquals(row.key(), record.key(), "the record key is the row's key");
            }
            for (ConsumerRecord<String, byte[]> record : binary) {
                Row row = check(KafkaMessageFactory.createReader(record).toEvent(), kafkaBinary, rows);
                assertEquals(row.key(), record.key(), "the record key is the row's key");
                assertArrayEquals(row.payload().getBytes(StandardCharsets.UTF_8), record.value(),
                        "binary mode sends the payload as it is");
            }
            Map<String, List<HttpSinkTest.WebhookServer.Request>> requests = server.accepted().stream()
                    .collect(Collectors.groupingBy(HttpSinkTest.WebhookServer.Request::path));
            assertEquals(2 * MESSAGES, requests.get("/" + httpStructured.pipeline()).size());
            assertEquals(2 * MESSAGES, requests.get("/" + httpBinary.pipeline()).size());
            sameEventOnEachDelivery(httpStructured.pipeline(),
                    requests.get("/" + httpStructured.pipeline()).stream().map(CloudEventsTest::event).toList());
            sameEventOnEachDelivery(httpBinary.pipeline(),
                    requests.get("/" + httpBinary.pipeline()).stream().map(CloudEventsTest::event).toList());
            for (HttpSinkTest.WebhookServer.Request request : requests.get("/" + httpStructured.pipeline())) {
                assertTrue(request.header("Content-Type").startsWith("application/cloudevents+json"),
                        request.header("Content-Type"));
                check(event(request), httpStructured, rows);
            }
            for (HttpSinkTest.WebhookServer.Request request : requests.get("/" + httpBinary.pipeline())) {
                Row row = check(event(request), httpBinary, rows);
                assertEquals("orders:" + row.id(), request.header("ce-id"));
                assertArrayEquals(row.payload().getBytes(StandardCharsets.UTF_8), request.body());
            }
        }
    }

    private static void kafka(Path routes, Expected pipeline, String options) throws Exception {
        Kafka.createTopic(SINKS.bootstrapServers(), pipeline.pipeline(), 1);
        Pipelines.kafkaPipeline(routes, pipeline.pipeline(), "orders?" + options, pipeline.pipeline(),
                SINKS.bootstrapServers());
    }

    private static void http(Path routes, HttpSinkTest.WebhookServer server, Expected pipeline, String options)
            throws Exception {
        HttpSinkTest.pipeline(routes, HttpSinkTest.SINGLE, pipeline.pipeline(), Map.of(
                HttpSinkTest.URL_PLACEHOLDER, server.url("/" + pipeline.pipeline()),
                "uri: tide:orders?keyGroups=16", "uri: \"tide:orders?keyGroups=16&" + options + "\""));
    }

    private static void deliverEverything(TestDatabase db, Path routes) throws Exception {
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
            long last = Pipelines.lastRow(db, "orders");
            Pipelines.await(Duration.ofSeconds(30), "every pipeline to deliver every message", () -> {
                for (String pipeline : List.of("kafka-structured", "kafka-binary", "http-structured", "http-binary")) {
                    if (Pipelines.offset(db, pipeline) != last) {
                        return false;
                    }
                }
                return true;
            });
        }
    }

    /** The event's attributes and data against its row; the row. Both deliveries of a row pass the same checks. */
    private static Row check(CloudEvent event, Expected pipeline, Map<Long, Row> rows) throws Exception {
        assertEquals(SpecVersion.V1, event.getSpecVersion());
        assertNotNull(event.getId(), pipeline.pipeline());
        assertTrue(event.getId().startsWith("orders:"), event.getId());
        Row row = rows.get(Long.parseLong(event.getId().substring("orders:".length())));
        assertNotNull(row, "the id is a message's stable id: " + event.getId());
        assertEquals(URI.create(pipeline.source()), event.getSource(), pipeline.pipeline());
        assertEquals(pipeline.type(), event.getType(), pipeline.pipeline());
        assertEquals(row.created(), event.getTime().toInstant(), pipeline.pipeline() + ": time is the row's created_at");
        assertEquals("application/json", event.getDataContentType(), pipeline.pipeline());
        assertEquals(JSON.readTree(row.payload()), JSON.readTree(event.getData().toBytes()), pipeline.pipeline());
        return row;
    }

    private static CloudEvent event(HttpSinkTest.WebhookServer.Request request) {
        Map<String, String> headers = new HashMap<>();
        request.headers().forEach((name, value) -> headers.put(name.toLowerCase(Locale.ROOT), value));
        return HttpMessageFactory.createReader(headers, request.body()).toEvent();
    }

    private static List<ConsumerRecord<String, byte[]>> records(String topic) {
        Map<String, Object> config = Map.of("bootstrap.servers", SINKS.bootstrapServers(), "enable.auto.commit", "false");
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                     new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (records.size() < 2 * MESSAGES && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    /** Each message arrived twice (two relay runs, two polls), and both copies are the same event. */
    private static void sameEventOnEachDelivery(String pipeline, List<CloudEvent> events) {
        Map<String, List<CloudEvent>> byId = events.stream().collect(Collectors.groupingBy(CloudEvent::getId));
        assertEquals(MESSAGES, byId.size(), pipeline);
        byId.forEach((id, copies) -> {
            assertEquals(2, copies.size(), pipeline + ": " + id + " delivered twice");
            assertEquals(copies.get(0), copies.get(1), pipeline + ": a redelivered message is the same event");
        });
    }

    private record Row(long id, String key, String payload, Instant created) {
    }

    private static Map<Long, Row> rows(TestDatabase db) throws Exception {
        Map<Long, Row> rows = new HashMap<>();
        try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT id, key, payload::text, created_at FROM tide.tide_outbox_messages")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), new Row(rs.getLong(1), rs.getString(2), rs.getString(3),
                        rs.getTimestamp(4).toInstant()));
            }
        }
        return rows;
    }
}
