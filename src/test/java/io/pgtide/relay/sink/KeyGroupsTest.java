package io.pgtide.relay.sink;

import static io.pgtide.relay.sink.HttpSinkTest.URL_PLACEHOLDER;
import static io.pgtide.relay.sink.HttpSinkTest.assertKeyOrder;
import static io.pgtide.relay.sink.HttpSinkTest.pipeline;
import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.sink.HttpSinkTest.WebhookServer;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key groups ({@code tide:orders?keyGroups=16}, the webhook example): the messages of several keys are in flight at
 * once, each key's in (tx, id) order, and a key whose message keeps failing holds the batch while the other keys'
 * messages are delivered once.
 */
class KeyGroupsTest {

    private static final String EXAMPLE = "examples/routes/orders-to-webhook.yaml";
    private static final String SECRET = "key-groups-" + Long.toHexString(System.nanoTime());

    @BeforeAll
    static void secret() {
        System.setProperty(HttpSinkTest.SECRET_VARIABLE, SECRET);
    }

    @AfterAll
    static void clearSecret() {
        System.clearProperty(HttpSinkTest.SECRET_VARIABLE);
    }

    @Test
    void severalKeysAreInFlightAtOnceEachInOrder(@TempDir Path routes) throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withExtension()) {
            server.answer(request -> {
                mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inFlight.decrementAndGet();
                }
                return 200;
            });
            db.execute("SELECT tide.outbox_create('orders')");
            pipeline(routes, EXAMPLE, "orders-to-webhook", Map.of(URL_PLACEHOLDER, server.url("/orders")));
            List<Long> committed = Producers.publish(db, "orders", 3, 400);
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-webhook") == last);
            }
            assertEquals(400, server.acceptedIds().size(), "one POST per message: nothing failed, nothing twice");
            assertEquals(Set.copyOf(committed), Set.copyOf(server.acceptedIds()));
            assertKeyOrder(db, server);
            assertTrue(mostInFlight.get() > 1, "several keys were in flight at once (at most " + mostInFlight + ")");
        }
    }

    @Test
    void aFailingKeyHoldsTheBatchWhileTheOtherKeysAreDeliveredOnce(@TempDir Path routes) throws Exception {
        AtomicBoolean down = new AtomicBoolean(true);
        try (WebhookServer server = WebhookServer.start(SECRET.getBytes(StandardCharsets.UTF_8));
             TestDatabase db = TestDatabase.withExtension()) {
            // the receiver of key k3 is unavailable: an outage, retried, never dead-lettered
            server.answer(request -> down.get() && "k3".equals(request.header("pg_tide_key")) ? 503 : 200);
            db.execute("SELECT tide.outbox_create('orders')");
            pipeline(routes, EXAMPLE, "orders-to-webhook", Map.of(URL_PLACEHOLDER, server.url("/orders")));
            Producers.publish(db, "orders", 3, 300);
            List<Long> k3 = db.queryList(Long.class, "SELECT id FROM tide.tide_outbox_messages WHERE key = 'k3' ORDER BY tx, id");
            int others = 300 - k3.size();
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(20), "the other keys' messages", () -> server.acceptedIds().size() == others);
                Thread.sleep(1_000);
                List<Long> accepted = server.acceptedIds();
                assertEquals(others, accepted.size(), "each message of the other keys delivered once");
                assertEquals(others, new HashSet<>(accepted).size(), "none twice");
                assertTrue(accepted.stream().noneMatch(k3::contains), "no message of k3 got through");
                assertEquals(Set.of(k3.get(0)), server.requests().stream().filter(r -> "k3".equals(r.header("pg_tide_key")))
                        .map(r -> Long.parseLong(r.header("pg_tide_id"))).collect(Collectors.toSet()),
                        "only k3's first message was tried: its later ones wait behind it");
                assertEquals(0L, offset(db, "orders-to-webhook"), "the offset holds until every key is acknowledged");

                down.set(false);
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-webhook") == last);
            }
            assertTrue(server.acceptedIds().containsAll(k3), "k3 delivered once its receiver is back");
            assertKeyOrder(db, server);
        }
    }
}
