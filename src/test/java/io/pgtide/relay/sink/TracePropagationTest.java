package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end tracing: a publisher puts its W3C context in a message's headers, and with {@code PG_TIDE_TRACING} the
 * relay's send span of that message is its child and its context is what a Kafka consumer and an HTTP receiver
 * get. A real OpenTelemetry SDK records the spans in memory; the broker and the HTTP server are real.
 */
class TracePropagationTest {

    @RegisterExtension
    static final KafkaAndWebhook SINKS = new KafkaAndWebhook();

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private OpenTelemetrySdk openTelemetry;

    @BeforeEach
    void sdk() {
        openTelemetry = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
    }

    @AfterEach
    void closeSdk() {
        openTelemetry.close();
    }

    /** A message published inside a span, one published with none, and one whose created_at is ahead of the relay's clock. */
    @Test
    void theRelaysSendSpanIsAChildOfThePublishersAndItsContextReachesKafkaAndHttp(@TempDir Path routes)
            throws Exception {
        try (TestDatabase db = TestDatabase.withExtension();
             HttpSinkTest.WebhookServer server = SINKS.webhook()) {
            Published traced = pipelinesAndMessages(db, routes, server, "traced");
            // a database clock an hour ahead of the relay's: the send span must not start before the row was written
            db.execute("UPDATE tide.tide_outbox_messages SET created_at = now() + interval '1 hour' WHERE id = "
                    + traced.untracedId);

            deliver(db, routes, Map.of(RelaySettings.TRACING.name(), "true"));

            ConsumerRecord<String, String> record = record(traced.topic, traced.tracedId);
            HttpSinkTest.WebhookServer.Request request = request(server, traced.tracedId);
            Map<Long, Instant> created = createdAt(db);
            for (String pipeline : List.of("orders-to-kafka", "orders-to-webhook")) {
                SpanData send = span(pipeline, traced.tracedId);
                assertEquals(SpanKind.PRODUCER, send.getKind());
                assertEquals(traced.publisher.getTraceId(), send.getTraceId(), pipeline + ": the publisher's trace");
                assertEquals(traced.publisher.getSpanId(), send.getParentSpanId(), pipeline + ": child of the publisher's span");
                assertFalse(startOf(send).isBefore(created.get(traced.tracedId)), pipeline + ": starts after created_at");
                assertTrue(send.hasEnded());

                SpanData own = span(pipeline, traced.untracedId);
                assertFalse(own.getParentSpanContext().isValid(), pipeline + ": a message with no context gets a root span");
                assertNotEquals(traced.publisher.getTraceId(), own.getTraceId());
                assertFalse(startOf(own).isBefore(created.get(traced.untracedId)),
                        pipeline + ": no earlier than a created_at ahead of the relay's clock: " + startOf(own) + " < "
                                + created.get(traced.untracedId));
            }
            assertEquals(traceparent(span("orders-to-kafka", traced.tracedId)), Kafka.header(record, "traceparent"),
                    "the Kafka record carries the relay span's context");
            assertEquals("shop=7", Kafka.header(record, "tracestate"), "tracestate goes on unchanged");
            assertEquals(traceparent(span("orders-to-webhook", traced.tracedId)), request.header("traceparent"),
                    "the HTTP request carries the relay span's context");
            assertEquals("shop=7", request.header("tracestate"));

            ConsumerRecord<String, String> plain = record(traced.topic, traced.untracedId);
            assertNull(Kafka.header(plain, "traceparent"), "a message published without a context is sent unchanged");
            assertEquals(payload(db, traced.untracedId), plain.value());
            assertNull(request(server, traced.untracedId).header("traceparent"));
        }
    }

    @Test
    void withTracingOffThereAreNoSpansAndTheRelayAddsNoTraceHeader(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withExtension();
             HttpSinkTest.WebhookServer server = SINKS.webhook()) {
            Published published = pipelinesAndMessages(db, routes, server, "untraced");

            deliver(db, routes, Map.of());

            assertEquals(List.of(), spans.getFinishedSpanItems(), "no spans");
            String publishers = "00-" + published.publisher.getTraceId() + "-" + published.publisher.getSpanId() + "-01";
            assertEquals(publishers, Kafka.header(record(published.topic, published.tracedId), "traceparent"),
                    "the publisher's header, as it was published");
            assertEquals(publishers, request(server, published.tracedId).header("traceparent"));
            assertNull(Kafka.header(record(published.topic, published.untracedId), "traceparent"));
            assertNull(request(server, published.untracedId).header("traceparent"));
        }
    }

    private record Published(String topic, SpanContext publisher, long tracedId, long untracedId) {
    }

    /** A Kafka and a webhook pipeline over outbox orders, and two messages: one published inside a span, one not. */
    private Published pipelinesAndMessages(TestDatabase db, Path routes, HttpSinkTest.WebhookServer server, String topic)
            throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        Kafka.createTopic(SINKS.bootstrapServers(), topic, 1);
        Pipelines.kafkaPipeline(routes, "orders-to-kafka", "orders", topic, SINKS.bootstrapServers());
        HttpSinkTest.pipeline(routes, HttpSinkTest.SINGLE, "orders-to-webhook",
                Map.of(HttpSinkTest.URL_PLACEHOLDER, server.url("/orders")));
        // the request that published the order was itself called by a service that set a tracestate
        SpanContext caller = SpanContext.createFromRemoteParent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                TraceFlags.getSampled(), TraceState.builder().put("shop", "7").build());
        Span publisher = openTelemetry.getTracer("shop").spanBuilder("place order")
                .setParent(Context.root().with(Span.wrap(caller))).startSpan();
        long traced;
        try (Scope scope = publisher.makeCurrent(); Connection c = db.connect()) {
            traced = publishInCurrentSpan(c, "{\"order\": 1}", "customer-1");
        } finally {
            publisher.end();
        }
        long untraced = db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{\"order\": 2}', "
                + "'{\"type\": \"order.created\"}', 'customer-2')");
        spans.reset();
        return new Published(topic, publisher.getSpanContext(), traced, untraced);
    }

    /** The README's snippet: the current span's W3C context into the message's headers, in the same transaction. */
    private long publishInCurrentSpan(Connection connection, String payload, String key) throws Exception {
        Map<String, String> context = new HashMap<>();
        openTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), context, Map::put);
        try (PreparedStatement publish = connection.prepareStatement("SELECT tide.outbox_publish('orders', ?::jsonb,"
                + " jsonb_strip_nulls(jsonb_build_object('type', 'order.created', 'traceparent', ?::text, 'tracestate', ?::text)), ?)")) {
            publish.setString(1, payload);
            publish.setString(2, context.get("traceparent"));
            publish.setString(3, context.get("tracestate"));
            publish.setString(4, key);
            try (ResultSet rs = publish.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private void deliver(TestDatabase db, Path routes, Map<String, String> settings) throws Exception {
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay", settings, openTelemetry)) {
            long last = Pipelines.lastRow(db, "orders");
            Pipelines.await(Duration.ofSeconds(30), "both pipelines to deliver every message",
                    () -> Pipelines.offset(db, "orders-to-kafka") == last && Pipelines.offset(db, "orders-to-webhook") == last);
        }
    }

    private static ConsumerRecord<String, String> record(String topic, long id) {
        return Kafka.readAll(SINKS.bootstrapServers(), topic, 2, Duration.ofSeconds(20)).stream()
                .filter(r -> Long.toString(id).equals(Kafka.header(r, "pg_tide_id"))).findFirst().orElseThrow();
    }

    private static HttpSinkTest.WebhookServer.Request request(HttpSinkTest.WebhookServer server, long id) {
        return server.accepted().stream().filter(r -> Long.toString(id).equals(r.header("pg_tide_id"))).findFirst()
                .orElseThrow();
    }

    private SpanData span(String pipeline, long id) {
        List<SpanData> found = spans.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals("send " + pipeline))
                .filter(s -> ("orders:" + id).equals(s.getAttributes().get(AttributeKey.stringKey("messaging.message.id"))))
                .toList();
        assertEquals(1, found.size(), "one send span of message " + id + " by " + pipeline + ": " + found);
        return found.get(0);
    }

    private static String traceparent(SpanData span) {
        return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-01";
    }

    private static Instant startOf(SpanData span) {
        return Instant.EPOCH.plusNanos(span.getStartEpochNanos());
    }

    private static Map<Long, Instant> createdAt(TestDatabase db) throws Exception {
        Map<Long, Instant> created = new HashMap<>();
        try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT id, created_at FROM tide.tide_outbox_messages")) {
            while (rs.next()) {
                created.put(rs.getLong(1), rs.getTimestamp(2).toInstant());
            }
        }
        return created;
    }

    private static String payload(TestDatabase db, long id) throws Exception {
        return db.queryOne(String.class, "SELECT payload::text FROM tide.tide_outbox_messages WHERE id = ?", id);
    }
}
