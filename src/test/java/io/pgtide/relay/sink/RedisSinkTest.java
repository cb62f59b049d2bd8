package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Names.unique;
import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TcpProxy;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

/**
 * examples/routes/orders-to-redis.yaml against the machine's Redis: one XADD per message with the stable id,
 * key, headers and payload as entry fields; at-least-once through a connection cut and through error replies
 * (every XADD's reply is checked), order per key, and wrong credentials that fail only their own pipeline
 * with an error naming the url, password masked.
 */
class RedisSinkTest {

    private static final String EXAMPLE = "examples/routes/orders-to-redis.yaml";
    private static final String HOST = "127.0.0.1";
    private static final int PORT = 6379;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RedisClient redis;

    @BeforeAll
    static void connect() {
        redis = RedisClient.create("redis://" + HOST + ":" + PORT);
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }

    @Test
    void appendsIdsKeysHeadersAndPayloadsInOrder(@TempDir Path routes) throws Exception {
        String stream = unique("pg-tide-test:");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Deleted cleanup = () -> redis.del(stream)) {
            db.execute("SELECT tide.outbox_publish('orders', '{\"keyless\": true}')");
            writePipeline(routes, "orders-to-redis", stream, "redis://" + HOST + ":" + PORT);
            List<Long> committed = Producers.publish(db, "orders", 4, 600);
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-redis") == last);
            }
            List<StreamEntry> entries = read(stream);
            assertEquals(601, entries.size(), "each message appended once when nothing failed");
            OutboxRows rows = OutboxRows.of(db, "orders");
            StreamEntry keyless = entries.get(0);
            assertNull(keyless.getFields().get("key"), "a row without a key has no key field");
            assertEquals("{\"keyless\": true}", keyless.getFields().get("payload"));
            for (StreamEntry entry : entries.subList(1, entries.size())) {
                Map<String, String> fields = entry.getFields();
                long id = Long.parseLong(fields.get("id").substring("orders:".length()));
                Map<String, String> headers = JSON.readValue(fields.get("headers"), new TypeReference<>() { });
                assertEquals("orders:" + id, fields.get("id"), "the stable id is a field");
                assertEquals(rows.key.get(id), fields.get("key"));
                assertEquals(rows.payload.get(id), fields.get("payload"));
                assertEquals("order.created", headers.get("type"));
                assertEquals(rows.n.get(id), headers.get("n"));
                assertEquals(String.valueOf(id), headers.get("pg_tide_id"));
                assertEquals("orders:" + id, headers.get("pg_tide_message_id"));
                assertFalse(headers.keySet().stream().anyMatch(h -> h.startsWith("Camel")), "no Camel internals: " + headers);
            }
            List<Long> delivered = ids(entries);
            assertTrue(new HashSet<>(delivered).containsAll(committed));
            assertEquals(rows.order, delivered, "appended in (tx, id) order");
        }
    }

    @Test
    void aConnectionCutMidStreamLosesNothingAndHoldsTheOffset(@TempDir Path routes) throws Exception {
        String stream = unique("pg-tide-test:");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Deleted cleanup = () -> redis.del(stream);
             TcpProxy proxy = TcpProxy.to(HOST, PORT)) {
            writePipeline(routes, "orders-to-redis", stream, "redis://" + HOST + ":" + proxy.port());
            List<Long> committed = ConnectionCut.run(db, routes, "orders-to-redis", proxy, "Redis", Duration.ZERO,
                    () -> ids(read(stream)));
            List<Long> delivered = ids(read(stream));
            OutboxRows.assertNoneLost(committed, delivered);
            OutboxRows.of(db, "orders").assertOrderPerKey(delivered);
        }
    }

    /**
     * Redis answers every XADD with WRONGTYPE for a few seconds (the stream's key briefly holds a string; the
     * stream itself is parked under another key and put back): a sink that did not check each reply would count
     * the batch as delivered and move the offset past messages that are nowhere.
     */
    @Test
    void errorRepliesHoldTheOffsetAndTheBatchComesAgain(@TempDir Path routes) throws Exception {
        String stream = unique("pg-tide-test:");
        String parked = stream + ":parked";
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Deleted cleanup = () -> redis.del(stream, parked)) {
            writePipeline(routes, "orders-to-redis", stream, "redis://" + HOST + ":" + PORT);
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay");
                 Producers producers = Producers.background(db, "orders", 2, 100)) {
                await(Duration.ofSeconds(20), "first deliveries", () -> offset(db, "orders-to-redis") > 0);
                Thread.sleep(1000);

                // atomically: no XADD can land between the rename and the string
                redis.eval("redis.call('RENAME', KEYS[1], KEYS[2]); redis.call('SET', KEYS[1], 'not a stream')",
                        List.of(stream, parked), List.of());
                Thread.sleep(1500);
                long stalled = offset(db, "orders-to-redis");
                assertTrue(new HashSet<>(ids(read(parked))).containsAll(OutboxRows.of(db, "orders").upTo(stalled)),
                        "every message up to the offset was appended before the offset moved");
                Thread.sleep(3000);
                assertEquals(stalled, offset(db, "orders-to-redis"), "the offset does not move while XADD is refused");
                assertTrue(lastRow(db, "orders") > stalled, "messages kept coming while XADD was refused");
                redis.eval("redis.call('DEL', KEYS[1]); redis.call('RENAME', KEYS[2], KEYS[1])",
                        List.of(stream, parked), List.of());

                List<Long> committed = producers.stop();
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(40), "the offset to reach the last row once XADD works again",
                        () -> offset(db, "orders-to-redis") == last);
                List<Long> delivered = ids(read(stream));
                OutboxRows.assertNoneLost(committed, delivered);
                OutboxRows.of(db, "orders").assertOrderPerKey(delivered);
            }
        }
    }

    @Test
    void wrongCredentialsFailOnlyTheirPipelineAndTheErrorNamesTheUrlWithoutThePassword(@TempDir Path routes)
            throws Exception {
        String stream = unique("pg-tide-test:");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Deleted cleanup = () -> redis.del(stream);
             LogCapture log = LogCapture.open()) {
            writePipeline(routes, "orders-to-redis", stream, "redis://" + HOST + ":" + PORT);
            writePipeline(routes, "orders-to-nowhere", stream + ":nowhere",
                    "redis://relay:s3cret-pw@" + HOST + ":" + PORT);
            Producers.publish(db, "orders", 2, 200);
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the good pipeline to deliver", () -> offset(db, "orders-to-redis") == last);
                await(Duration.ofSeconds(20), "an error naming the url",
                        () -> log.contains("url redis://relay:***@" + HOST + ":" + PORT));
                String error = log.find("url redis://relay:***@");
                assertTrue(error.contains("WRONGPASS") && error.contains(stream + ":nowhere"), error);
                assertFalse(log.contains("s3cret-pw"), "the password never appears in the log");
                assertTrue(offset(db, "orders-to-nowhere") <= 0, "the bad pipeline delivered nothing");
                assertEquals(0, redis.exists(stream + ":nowhere") ? 1 : 0);
                // its batch is still in redelivery: do not wait out the backoff on shutdown
                relay.context().getRouteController().stopRoute("orders-to-nowhere", 1, TimeUnit.SECONDS);
            }
            assertEquals(200, read(stream).size());
        }
    }

    /** The example pipeline with its id (and so its bean name), stream and url swapped, as the relay would load it. */
    private static void writePipeline(Path folder, String pipeline, String stream, String url) throws Exception {
        String yaml = Files.readString(Path.of(EXAMPLE))
                .replace("orders-to-redis", pipeline)
                .replace("\"pg-tide:orders\"", "\"" + stream + "\"")
                .replace("{{redis.url:redis://localhost:6379}}", url);
        Files.writeString(folder.resolve(pipeline + ".yaml"), yaml);
    }

    private static List<StreamEntry> read(String stream) {
        List<StreamEntry> entries = redis.xrange(stream, (StreamEntryID) null, (StreamEntryID) null);
        assertNotNull(entries);
        return entries;
    }

    private static List<Long> ids(List<StreamEntry> entries) {
        return entries.stream().map(e -> Long.parseLong(e.getFields().get("id").substring("orders:".length()))).toList();
    }

    /** Deletes the test's keys on close. */
    @FunctionalInterface
    interface Deleted extends AutoCloseable {
        @Override
        void close();
    }
}
