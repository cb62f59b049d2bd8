package io.pgtide.relay.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19 point 6: a message that fails for a reason the relay does not classify (here an
 * IllegalArgumentException for one payload, before its POST) is a poison once its retries are exhausted. The
 * messages before it are delivered once, it goes to tide.relay_dlq alone and the pipeline moves on; a pipeline
 * that says {@code onPoison=hold} stops at it instead, with nothing dead-lettered. The sink is a real HTTP server
 * on loopback that counts the POSTs of each message.
 */
class PoisonMessageTest {

    private static final String PIPELINE = """
            - route:
                id: to-http
                from:
                  uri: "tide:orders?delay=100%s"
                  steps:
                    - split:
                        simple: "${body}"
                        stopOnException: true
                        steps:
                          - choice:
                              when:
                                - simple: "${body} contains 'poison'"
                                  steps:
                                    - throwException:
                                        exceptionType: java.lang.IllegalArgumentException
                                        message: "cannot send ${header.pg_tide_message_id}"
                          - removeHeaders: { pattern: "Camel*" }
                          - to:
                              uri: "http://127.0.0.1:%d/inbox"
                              parameters: { httpMethod: POST }
            """;

    private final Map<Long, AtomicInteger> posts = new ConcurrentHashMap<>();
    private HttpServer server;
    private TestDatabase db;
    private List<Long> ids;

    @BeforeEach
    void start() throws Exception {
        System.setProperty("pg-tide.redelivery.maximum", "2");
        System.setProperty("pg-tide.redelivery.delay", "50");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/inbox", exchange -> {
            posts.computeIfAbsent(Long.parseLong(exchange.getRequestHeaders().getFirst("pg_tide_id")),
                    id -> new AtomicInteger()).incrementAndGet();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        db = TestDatabase.withOutbox("orders");
        for (int n = 1; n <= 20; n++) {
            db.execute("SELECT tide.outbox_publish('orders', '" + (n == 12 ? "{\"poison\": true}" : "{\"n\": " + n + "}")
                    + "')");
        }
        ids = db.queryList(Long.class, "SELECT id FROM tide.tide_outbox_messages ORDER BY tx, id");
    }

    @AfterEach
    void stop() throws Exception {
        System.clearProperty("pg-tide.redelivery.maximum");
        System.clearProperty("pg-tide.redelivery.delay");
        server.stop(0);
        db.close();
    }

    @Test
    void anUnclassifiedPoisonIsDeadLetteredAloneAndTheMessagesAroundItAreDeliveredOnce(@TempDir Path routes)
            throws Exception {
        Files.writeString(routes.resolve("to-http.yaml"), PIPELINE.formatted("", server.getAddress().getPort()));
        long poison = ids.get(11);
        try (LogCapture log = LogCapture.open(); RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
            Pipelines.await(Duration.ofSeconds(30), "the offset past every message",
                    () -> Pipelines.offset(db, "to-http") == ids.get(19));
            Thread.sleep(1000);   // time for any re-send to show

            for (int i = 0; i < 20; i++) {
                int expected = i == 11 ? 0 : 1;
                AtomicInteger count = posts.get(ids.get(i));
                assertEquals(expected, count == null ? 0 : count.get(), "POSTs of message " + (i + 1));
            }
            assertEquals(List.of(poison), db.queryList(Long.class, "SELECT message_id FROM tide.relay_dlq"));
            String error = db.queryOne(String.class, "SELECT error FROM tide.relay_dlq");
            assertTrue(error.contains("IllegalArgumentException") && error.contains("orders:" + poison), error);
            assertEquals(3, db.queryOne(Integer.class, "SELECT attempts FROM tide.relay_dlq"), "1 attempt + 2 retries");
            assertEquals(1.0, Scrape.metrics(relay.managementUrl() + "/metrics").get(
                    "pg_tide_relay_poison_messages_total{action=\"dead_lettered\",outbox=\"orders\",pipeline=\"to-http\"}"));
            assertNotNull(log.find("WARN", "to-http", "orders:" + poison, "tide.relay_dlq"), "a line names pipeline and message");
        }
    }

    @Test
    void aPipelineThatHoldsStopsAtThePoisonWithNothingDeadLettered(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("to-http.yaml"), PIPELINE.formatted("&onPoison=hold", server.getAddress().getPort()));
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
            Pipelines.await(Duration.ofSeconds(30), "the poison to be held twice", () -> held(relay) >= 2);
            assertEquals(ids.get(10), Pipelines.offset(db, "to-http"), "the offset stops right before the poison");
            for (int i = 0; i < 20; i++) {
                AtomicInteger count = posts.get(ids.get(i));
                assertEquals(i < 11 ? 1 : 0, count == null ? 0 : count.get(), "POSTs of message " + (i + 1));
            }
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_dlq"), "nothing dead-lettered");
        }
    }

    private static double held(RelayHarness relay) throws Exception {
        return Scrape.metrics(relay.managementUrl() + "/metrics").getOrDefault(
                "pg_tide_relay_poison_messages_total{action=\"held\",outbox=\"orders\",pipeline=\"to-http\"}", 0.0);
    }
}
