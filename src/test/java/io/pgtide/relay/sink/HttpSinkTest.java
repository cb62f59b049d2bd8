package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP webhook pipelines of examples/routes/ against a real HTTP server on loopback that checks the
 * HMAC signature of every request and records what it accepted (answered 2xx) before answering.
 *
 * <p>The signing secret comes from the JVM system property {@code PG_TIDE_WEBHOOK_SECRET}: the signer
 * reads the environment variable of that name first and falls back to the property, and a test cannot set
 * environment variables in its own process. The test computes HMACs with javax.crypto itself, not with the
 * signer's code.
 */
class HttpSinkTest {

    static final String SECRET_VARIABLE = "PG_TIDE_WEBHOOK_SECRET";
    static final String URL_PLACEHOLDER = "{{webhook.url:http://localhost:8080/orders}}";
    static final String RESPONSE_TIMEOUT_PLACEHOLDER = "{{webhook.responseTimeout:10000}}";
    static final String SINGLE = "examples/routes/orders-to-webhook.yaml";
    private static final String BATCH = "examples/routes/orders-to-webhook-batch.yaml";
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String SECRET = "s3cr3t-" + Long.toHexString(System.nanoTime()) + "-\u00e9";
    private static String previousSecret;

    @BeforeAll
    static void secret() {
        assertNull(System.getenv(SECRET_VARIABLE), SECRET_VARIABLE + " must not be set in the test environment");
        previousSecret = System.setProperty(SECRET_VARIABLE, SECRET);
    }

    @AfterAll
    static void clearSecret() {
        if (previousSecret == null) {
            System.clearProperty(SECRET_VARIABLE);
        } else {
            System.setProperty(SECRET_VARIABLE, previousSecret);
        }
    }

    /** (1) A few hundred messages, one signed POST each, with the stable id, key, headers and exact payload bytes. */
    @Test
    void everyMessageIsPostedOnceSignedWithItsIdempotencyKeyHeadersAndExactPayload(@TempDir Path routes)
            throws Exception {
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withOutbox("orders")) {
            pipeline(routes, SINGLE, "orders-to-webhook", Map.of(URL_PLACEHOLDER, server.url("/orders")));
            List<Long> committed = Producers.publish(db, "orders", 3, 300);

            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-webhook") == last);
            }

            assertEquals(0, server.badSignatures(), "every request carries a valid signature");
            List<WebhookServer.Request> accepted = server.accepted();
            assertEquals(300, accepted.size(), "one POST per message, each once when nothing failed");
            Map<Long, Row> rows = rows(db);
            List<Long> delivered = new ArrayList<>();
            for (WebhookServer.Request request : accepted) {
                long id = Long.parseLong(request.header("pg_tide_id"));
                Row row = rows.get(id);
                delivered.add(id);
                assertEquals("POST", request.method());
                assertEquals("/orders", request.path());
                assertEquals("orders:" + id, request.header("Idempotency-Key"), "Idempotency-Key = the stable id");
                assertEquals("orders:" + id, request.header("pg_tide_message_id"));
                assertEquals(row.key(), request.header("pg_tide_key"));
                assertEquals("order.created", request.header("type"), "the outbox headers go as HTTP headers");
                assertEquals(row.n(), request.header("n"));
                assertTrue(request.header("Content-Type").startsWith("application/json"), request.header("Content-Type"));
                assertArrayEquals(row.payload().getBytes(StandardCharsets.UTF_8), request.body(),
                        "the body is the payload's exact UTF-8 bytes");
                assertEquals(List.of(), request.headerNames().stream()
                        .filter(h -> h.toLowerCase(Locale.ROOT).startsWith("camel")).toList(), "no Camel* header is sent");
            }
            assertEquals(Set.copyOf(committed), Set.copyOf(delivered));
            assertKeyOrder(db, server);
        }
    }

    /**
     * (2) + (3) The webhook fails for about 3 s in mid-stream (first a request that is never answered, then
     * 500s): the offset stops and never passes a message the server did not accept, nothing committed is
     * lost, and for each key the messages first arrive in (tx, id) order.
     */
    @Test
    void anOutageOfTheWebhookLosesNothingAndKeepsOrder(@TempDir Path routes) throws Exception {
        AtomicLong outageStart = new AtomicLong();
        AtomicBoolean hung = new AtomicBoolean();
        AtomicInteger rejected = new AtomicInteger();
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withExtension()) {
            server.answer(request -> {
                if (outageStart.get() == 0 && server.acceptedCount() >= 100) {
                    outageStart.compareAndSet(0, System.nanoTime());
                }
                long start = outageStart.get();
                if (start == 0 || System.nanoTime() - start > 3_000_000_000L) {
                    return 200;
                }
                if (hung.compareAndSet(false, true)) {
                    return WebhookServer.HANG;         // only the response timeout frees the relay from this one
                }
                rejected.incrementAndGet();
                return 500;
            });
            db.execute("SELECT tide.outbox_create('orders')");
            pipeline(routes, SINGLE, "orders-to-webhook", Map.of(URL_PLACEHOLDER, server.url("/orders"),
                    RESPONSE_TIMEOUT_PLACEHOLDER, "1000"));
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay");
                 OffsetWatch watch = OffsetWatch.start(db, "orders-to-webhook", server);
                 Producers producers = Producers.background(db, "orders", 2, 100)) {
                await(Duration.ofSeconds(30), "the outage to begin", () -> outageStart.get() != 0);
                Thread.sleep(500);
                long stalled = offset(db, "orders-to-webhook");
                Thread.sleep(2_000);
                assertEquals(stalled, offset(db, "orders-to-webhook"), "the offset does not move while the webhook fails");
                assertTrue(lastRow(db, "orders") > stalled, "messages kept coming during the outage");

                List<Long> committed = producers.stop();
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(40), "the offset to reach the last row after the outage",
                        () -> offset(db, "orders-to-webhook") == last);
                watch.check();

                assertTrue(hung.get(), "a request was left unanswered");
                assertTrue(rejected.get() > 0, "requests were answered 500");
                assertEquals(0, server.badSignatures());
                List<Long> delivered = server.acceptedIds();
                OutboxRows.assertNoneLost(committed, delivered);
                assertKeyOrder(db, server);
                assertTrue(watch.checks() > 20, "the offset was checked " + watch.checks() + " times");
                assertEquals(List.of(), watch.violations(), "the offset passed messages the webhook had not accepted");
            }
        }
    }

    /**
     * (3) One message is refused until the relay's retries for its batch run out (6 attempts, about 15 s):
     * nothing of its key after it is posted before it (stopOnException within its key group; other keys go on),
     * the batch is polled and sent again (duplicates), and the offset never passes it early.
     */
    @Test
    void aMessageRefusedUntilItsRetriesRunOutIsNotOvertaken(@TempDir Path routes) throws Exception {
        Map<Long, AtomicInteger> attempts = new ConcurrentHashMap<>();
        AtomicLong refused = new AtomicLong(-1);
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withExtension()) {
            server.answer(request -> {
                long id = Long.parseLong(request.header("pg_tide_id"));
                int attempt = attempts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                if (refused.get() == -1 && attempts.size() == 30) {
                    refused.compareAndSet(-1, id);
                }
                return id == refused.get() && attempt <= 6 ? 500 : 200;
            });
            db.execute("SELECT tide.outbox_create('orders')");
            pipeline(routes, SINGLE, "orders-to-webhook", Map.of(URL_PLACEHOLDER, server.url("/orders")));
            List<Long> committed = Producers.publish(db, "orders", 3, 300);   // one batch of 300
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay");
                 OffsetWatch watch = OffsetWatch.start(db, "orders-to-webhook", server)) {
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(45), "the offset to reach the last row", () -> offset(db, "orders-to-webhook") == last);
                watch.check();
                assertEquals(List.of(), watch.violations(), "the offset passed messages the webhook had not accepted");
            }
            assertTrue(attempts.get(refused.get()).get() >= 7, "the refused message was retried past its batch's retries");
            List<Long> delivered = server.acceptedIds();
            assertTrue(delivered.size() > committed.size(), "the failed batch was polled and sent again (duplicates)");
            assertEquals(Set.copyOf(committed), Set.copyOf(delivered), "nothing lost");
            assertKeyOrder(db, server);     // nothing of the refused message's key overtook it
        }
    }

    /**
     * The batch pipeline: one signed POST per polled batch, a JSON array of {id, key, headers, payload}
     * with the payload as JSON; the same Idempotency-Key and bytes when a rejected batch is sent again.
     */
    @Test
    void theBatchPipelinePostsOneSignedJsonArrayPerBatch(@TempDir Path routes) throws Exception {
        AtomicInteger requests = new AtomicInteger();
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withExtension()) {
            server.answer(request -> requests.incrementAndGet() <= 2 ? 503 : 200);
            db.execute("SELECT tide.outbox_create('orders')");
            pipeline(routes, BATCH, "orders-to-webhook-batch", Map.of(URL_PLACEHOLDER, server.url("/orders")));
            List<Long> committed = Producers.publish(db, "orders", 4, 2_100);
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(30), "the offset to reach the last row",
                        () -> offset(db, "orders-to-webhook-batch") == last);
            }

            assertEquals(0, server.badSignatures());
            List<WebhookServer.Request> all = server.requests();
            assertEquals(List.of(503, 503, 200), all.subList(0, 3).stream().map(WebhookServer.Request::status).toList());
            for (int i = 1; i < 3; i++) {
                assertEquals(all.get(0).header("Idempotency-Key"), all.get(i).header("Idempotency-Key"),
                        "a retried batch keeps its Idempotency-Key");
                assertArrayEquals(all.get(0).body(), all.get(i).body(), "a retried batch sends the same bytes");
            }
            List<WebhookServer.Request> accepted = server.accepted();
            assertEquals(3, accepted.size(), "2,100 messages: three POSTs of up to 1,000");
            Map<Long, Row> rows = rows(db);
            List<Long> delivered = new ArrayList<>();
            for (WebhookServer.Request request : accepted) {
                assertTrue(request.header("Content-Type").startsWith("application/json"));
                assertNull(request.header("pg_tide_id"), "per-message headers stay inside the elements");
                assertEquals(List.of(), request.headerNames().stream()
                        .filter(h -> h.toLowerCase(Locale.ROOT).startsWith("camel")).toList(), "no Camel* header is sent");
                JsonNode array = JSON.readTree(request.body());
                assertTrue(array.isArray() && array.size() > 0 && array.size() <= 1000, "size " + array.size());
                assertEquals(array.get(0).get("id").asText() + ".." + array.get(array.size() - 1).get("id").asText(),
                        request.header("Idempotency-Key"), "Idempotency-Key = <first id>..<last id>");
                for (JsonNode element : array) {
                    assertEquals(Set.of("id", "key", "headers", "payload"), fieldNames(element));
                    long id = Long.parseLong(element.get("id").asText().substring("orders:".length()));
                    Row row = rows.get(id);
                    delivered.add(id);
                    assertEquals("orders:" + id, element.get("id").asText());
                    assertEquals(row.key(), element.get("key").asText());
                    assertEquals(Map.of("type", "order.created", "n", row.n()),
                            JSON.convertValue(element.get("headers"), Map.class), "the row's headers, nothing else");
                    assertTrue(element.get("payload").isObject(), "the payload is JSON, not a string");
                    assertEquals(JSON.readTree(row.payload()), element.get("payload"));
                }
            }
            assertEquals(2_100, delivered.size(), "each message once");
            assertEquals(Set.copyOf(committed), Set.copyOf(delivered));
            assertEquals(orderedIds(db), delivered, "elements in (tx, id) order across the batches");
        }
    }

    /**
     * (4) A missing secret and an unknown host: those pipelines fail with errors that name the variable
     * and the host, never send an unsigned request, never move their offsets, never log the secret; the
     * good pipeline in the same relay keeps delivering.
     */
    @Test
    void aMissingSecretAndAnUnknownHostAreNamedWhileAnotherPipelineDelivers(@TempDir Path routes) throws Exception {
        String missingVariable = "PG_TIDE_WEBHOOK_SECRET_NOT_SET_" + Long.toHexString(System.nanoTime()).toUpperCase(Locale.ROOT);
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withOutbox("orders");
             LogCapture logs = LogCapture.open()) {
            pipeline(routes, SINGLE, "orders-to-webhook", Map.of(URL_PLACEHOLDER, server.url("/orders")));
            pipeline(routes, SINGLE, "orders-no-secret", Map.of(URL_PLACEHOLDER, server.url("/no-secret"),
                    "'" + SECRET_VARIABLE + "'", "'" + missingVariable + "'"));
            pipeline(routes, SINGLE, "orders-bad-host", Map.of(URL_PLACEHOLDER, "http://nosuchhost.invalid:8080/orders"));
            Producers.publish(db, "orders", 2, 200);
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(20), "both errors in the log", () ->
                        logs.contains("environment variable " + missingVariable) && logs.contains("nosuchhost.invalid"));
                Producers.publish(db, "orders", 2, 100);                  // more after the failures began
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(20), "the good pipeline to deliver everything",
                        () -> offset(db, "orders-to-webhook") == last);
                // the batch's retries run out after ~15 s: the final error names the file and line of the step
                await(Duration.ofSeconds(30), "both pipelines to exhaust their retries", () ->
                        logs.contains("Exhausted", "orders-no-secret.yaml") && logs.contains("Exhausted", "orders-bad-host.yaml"));
                assertTrue(offset(db, "orders-no-secret") <= 0, "the pipeline without a secret did not advance");
                assertTrue(offset(db, "orders-bad-host") <= 0, "the pipeline with an unknown host did not advance");
                // the failing pipelines are retrying their next batch: do not wait ~15 s for it at shutdown
                relay.context().getShutdownStrategy().setTimeout(2);
            }
            assertEquals(300, server.accepted().size());
            assertEquals(0, server.requests().stream().filter(r -> r.path().equals("/no-secret")).count(),
                    "no request is sent without a signature");
            String secretLine = logs.find("environment variable " + missingVariable);
            assertTrue(secretLine.contains("webhook signing secret is missing"), secretLine);
            String hostLine = logs.find("nosuchhost.invalid");
            assertTrue(hostLine.contains("UnknownHostException"), hostLine);
            String secretFinal = logs.find("Exhausted", "orders-no-secret.yaml");
            assertTrue(secretFinal.contains("environment variable " + missingVariable), secretFinal);
            assertTrue(secretFinal.matches("(?s).*orders-no-secret\\.yaml:\\d+.*"), "names file and line: " + secretFinal);
            String hostFinal = logs.find("Exhausted", "orders-bad-host.yaml");
            assertTrue(hostFinal.contains("UnknownHostException: nosuchhost.invalid"), hostFinal);
            // Camel's history names the sink only when the send ran in the batch's thread, not in a key group's
            String hostState = logs.find("Pipeline orders-bad-host: its sink http://nosuchhost.invalid:8080/orders");
            assertNotNull(hostState, "the relay's own line names the failing sink");
            assertTrue(hostState.contains("UnknownHostException: nosuchhost.invalid"), "names the endpoint: " + hostState);
            assertFalse(hostFinal.contains("Stacktrace") || hostFinal.contains("\tat "), "no stack trace: " + hostFinal);
            assertFalse(logs.contains(SECRET), "the secret never appears in the log");
        }
    }

    // ---- pipeline files and database helpers ------------------------------------------------------------

    /** The example file with the pipeline id and the given texts swapped, written to the routes folder. */
    static Path pipeline(Path folder, String example, String pipeline, Map<String, String> swaps) throws IOException {
        String exampleId = Path.of(example).getFileName().toString().replace(".yaml", "");
        String yaml = Files.readString(Path.of(example)).replace(exampleId, pipeline);
        for (Map.Entry<String, String> swap : swaps.entrySet()) {
            assertTrue(yaml.contains(swap.getKey()), example + " has " + swap.getKey());
            yaml = yaml.replace(swap.getKey(), swap.getValue());
        }
        Path file = folder.resolve(pipeline + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    record Row(long id, String key, String payload, String n) {
    }

    private static Map<Long, Row> rows(TestDatabase db) throws SQLException {
        Map<Long, Row> rows = new HashMap<>();
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT id, key, payload::text, headers->>'n' FROM tide.tide_outbox_messages");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.put(rs.getLong(1), new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
            }
        }
        return rows;
    }

    /** Every row's id in delivery order, (tx, id). */
    private static List<Long> orderedIds(TestDatabase db) throws SQLException {
        return db.queryList(Long.class, "SELECT id FROM tide.tide_outbox_messages WHERE outbox_name = 'orders' ORDER BY tx, id");
    }

    /** The ids in the order they were first seen: redeliveries aside. */
    static List<Long> firstOccurrences(List<Long> ids) {
        return new ArrayList<>(new LinkedHashSet<>(ids));
    }

    /** For each key, the first arrivals of its messages are in the key's (tx, id) order. */
    static void assertKeyOrder(TestDatabase db, WebhookServer server) throws SQLException {
        Map<Long, Row> rows = rows(db);
        Map<String, List<Long>> expected = new TreeMap<>();
        for (long id : orderedIds(db)) {
            expected.computeIfAbsent(rows.get(id).key(), k -> new ArrayList<>()).add(id);
        }
        Map<String, List<Long>> arrived = new TreeMap<>();
        for (long id : firstOccurrences(server.acceptedIds())) {
            arrived.computeIfAbsent(rows.get(id).key(), k -> new ArrayList<>()).add(id);
        }
        assertEquals(10, expected.size(), "keys k0..k9");
        for (Map.Entry<String, List<Long>> key : expected.entrySet()) {
            assertEquals(key.getValue(), arrived.get(key.getKey()), "order of key " + key.getKey());
        }
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    // ---- the offset invariant, checked while the relay runs ---------------------------------------------

    /**
     * Every 50 ms: reads the pipeline's offset and the rows at or before it in (tx, id) order (one
     * statement), then the ids the server has accepted so far; every such row must be among them. The
     * server records a message before it answers 2xx, so a row the relay saw acknowledged is recorded.
     */
    static final class OffsetWatch implements AutoCloseable {
        private final TestDatabase db;
        private final String pipeline;
        private final WebhookServer server;
        private final List<String> violations = new CopyOnWriteArrayList<>();
        private final AtomicInteger checks = new AtomicInteger();
        private final ExecutorService thread = Executors.newSingleThreadExecutor();
        private final AtomicBoolean running = new AtomicBoolean(true);

        private OffsetWatch(TestDatabase db, String pipeline, WebhookServer server) {
            this.db = db;
            this.pipeline = pipeline;
            this.server = server;
        }

        static OffsetWatch start(TestDatabase db, String pipeline, WebhookServer server) {
            OffsetWatch watch = new OffsetWatch(db, pipeline, server);
            watch.thread.submit(() -> {
                while (watch.running.get()) {
                    watch.check();
                    Thread.sleep(50);
                }
                return null;
            });
            return watch;
        }

        void check() throws SQLException {
            List<Long> passed = new ArrayList<>();
            long offset = 0;
            try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                    "SELECT o.last_id, m.id FROM tide.relay_consumer_offsets o JOIN tide.tide_outbox_messages m"
                            + " ON m.outbox_name = o.outbox_name AND (m.tx, m.id) <= (o.last_tx, o.last_id)"
                            + " WHERE o.pipeline = ?")) {
                ps.setString(1, pipeline);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        offset = rs.getLong(1);
                        passed.add(rs.getLong(2));
                    }
                }
            }
            Set<Long> accepted = new HashSet<>(server.acceptedIds());
            passed.removeAll(accepted);
            if (!passed.isEmpty()) {
                violations.add("offset " + offset + " passed unaccepted " + passed);
            }
            checks.incrementAndGet();
        }

        int checks() {
            return checks.get();
        }

        List<String> violations() {
            return violations;
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            thread.shutdown();
            thread.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    // ---- the webhook server -----------------------------------------------------------------------------

    /**
     * A webhook receiver on 127.0.0.1 (ephemeral port): checks {@code X-Pg-Tide-Signature} of every
     * request against its own HMAC-SHA256 of the body (401 when it does not match), answers with the
     * status the test chooses (or never, {@link #HANG}), and records each request before answering.
     */
    static final class WebhookServer implements AutoCloseable {

        /** An answer that never comes (until the server closes). */
        public static final int HANG = -1;

        /** One request as received, with the status it was answered. */
        public record Request(int number, String method, String path, Map<String, String> headers, byte[] body,
                              boolean signed, int status) {
            public String header(String name) {
                return headers.get(name);
            }

            public Set<String> headerNames() {
                return headers.keySet();
            }
        }

        private final HttpServer server;
        private final ExecutorService threads = Executors.newFixedThreadPool(8);
        private final byte[] secret;
        private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
        private final List<Request> accepted = Collections.synchronizedList(new ArrayList<>());
        private final List<Long> acceptedIds = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger numbers = new AtomicInteger();
        private final AtomicInteger badSignatures = new AtomicInteger();
        private final CountDownLatch closed = new CountDownLatch(1);
        private volatile Function<Request, Integer> answer = request -> 200;

        private WebhookServer(byte[] secret) throws IOException {
            this.secret = secret;
            this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            server.setExecutor(threads);
            server.createContext("/", this::handle);
            server.start();
        }

        static WebhookServer start(byte[] secret) throws IOException {
            return new WebhookServer(secret);
        }

        public String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + path;
        }

        /** Chooses the status of each correctly signed request. */
        public void answer(Function<Request, Integer> answer) {
            this.answer = answer;
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                byte[] body = in.readAllBytes();
                Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, String.join(",", values)));
                boolean signed = MessageDigest.isEqual(expectedSignature(body).getBytes(StandardCharsets.US_ASCII),
                        String.valueOf(headers.get("X-Pg-Tide-Signature")).getBytes(StandardCharsets.US_ASCII));
                Request request = new Request(numbers.incrementAndGet(), exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath(), headers, body, signed, 0);
                int status = signed ? answer.apply(request) : 401;
                if (!signed) {
                    badSignatures.incrementAndGet();
                }
                if (status == HANG) {
                    closed.await(60, TimeUnit.SECONDS);
                    return;
                }
                Request answered = new Request(request.number(), request.method(), request.path(), headers,
                        request.body(), signed, status);
                requests.add(answered);
                // recorded before the answer leaves: anything the relay saw acknowledged is in the lists
                if (status >= 200 && status < 300) {
                    accepted.add(answered);
                    String id = headers.get("pg_tide_id");
                    if (id != null) {
                        acceptedIds.add(Long.parseLong(id));
                    }
                }
                exchange.sendResponseHeaders(status, -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private String expectedSignature(byte[] body) {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                StringBuilder hex = new StringBuilder("sha256=");
                for (byte b : mac.doFinal(body)) {
                    hex.append(String.format("%02x", b));
                }
                return hex.toString();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        public List<Request> requests() {
            synchronized (requests) {
                return new ArrayList<>(requests);
            }
        }

        public List<Request> accepted() {
            synchronized (accepted) {
                return new ArrayList<>(accepted);
            }
        }

        /** pg_tide_id of every accepted single-message request, in arrival order. */
        public List<Long> acceptedIds() {
            synchronized (acceptedIds) {
                return new ArrayList<>(acceptedIds);
            }
        }

        public int acceptedCount() {
            return acceptedIds.size();
        }

        public int badSignatures() {
            return badSignatures.get();
        }

        @Override
        public void close() {
            closed.countDown();
            server.stop(0);
            threads.shutdownNow();
        }
    }
}
