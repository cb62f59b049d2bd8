package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Outbox → HTTP webhook whose every answer takes {@code bench.latencyMs} (50 ms: a receiver in another region),
 * messages over {@code bench.keys} keys (64): the webhook example as shipped, serial (no keyGroups) against
 * keyGroups=64 and against 4 partitions with key groups (the same 64 keys in flight at most), in the same run. Serial
 * is bounded by one round trip per message (about 20 msg/s at 50 ms); key groups by the round trip per key. Prints each figure as soon as it is measured, and the ratio.
 * <pre>mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.KeyGroupsBenchmark [-Dbench.latencyMs=50] [-Dbench.keys=64] [-Dbench.messages=10000]</pre>
 */
public final class KeyGroupsBenchmark {

    private static final String EXAMPLE = "examples/routes/orders-to-webhook.yaml";
    private static final String SOURCE = "uri: tide:orders?keyGroups=16";
    private static final String CONNECTIONS = "connectionsPerRoute: 16";

    private KeyGroupsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int latency = Integer.getInteger("bench.latencyMs", 50);
        int keys = Integer.getInteger("bench.keys", 64);
        int messages = Integer.getInteger("bench.messages", 10_000);
        System.setProperty("PG_TIDE_WEBHOOK_SECRET", "bench-secret");   // the signer's fallback when the variable is unset
        System.out.printf(Locale.ROOT, "outbox -> HTTP webhook answering after %d ms, %d keys%n", latency, keys);
        // serial: batches of 40 so that the rate is measured over several of them in a few seconds
        double serial = run("uri: tide:orders?batchSize=40", CONNECTIONS, 200, keys, latency);
        System.out.printf(Locale.ROOT, "  serial (one message after the other)  %,8.1f msg/s%n", serial);
        double groups = run("uri: tide:orders?keyGroups=" + keys, "connectionsPerRoute: " + keys, messages, keys, latency);
        System.out.printf(Locale.ROOT, "  keyGroups=%-3d                         %,8.1f msg/s  (%.0fx serial)%n", keys, groups,
                groups / serial);
        // the same keys in flight, over 4 partitions: their batches overlap instead of waiting for one another. The
        // hash does not split 64 keys 16/16/16/16, so each partition may send all of its keys at once; the partitions'
        // routes share the HTTP client's connections to the one receiver
        double partitioned = run("uri: tide:orders?partitions=4&keyGroups=" + keys, "connectionsPerRoute: " + keys,
                messages, keys, latency, 4);
        System.out.printf(Locale.ROOT, "  partitions=4, keyGroups=%-3d           %,8.1f msg/s  (%.0fx serial)%n", keys,
                partitioned, partitioned / serial);
    }

    private static double run(String source, String connections, int messages, int keys, int latency) throws Exception {
        return run(source, connections, messages, keys, latency, 1);
    }

    private static double run(String source, String connections, int messages, int keys, int latency, int partitions)
            throws Exception {
        Vertx vertx = Vertx.vertx();
        try (TestDatabase db = TestDatabase.withExtension()) {
            int port = vertx.createHttpServer()
                    .requestHandler(request -> request.body().onSuccess(body ->
                            vertx.setTimer(latency, timer -> request.response().setStatusCode(200).end())))
                    .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
            Backlog.fill(db, 0);
            db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload)"
                    + " SELECT 'orders', 'k' || (g % " + keys + "), " + Backlog.PAYLOAD_SQL + " FROM generate_series(1, "
                    + messages + ") g");
            Path routes = Files.createTempDirectory("bench-routes");
            Files.writeString(routes.resolve("orders-to-webhook.yaml"), Files.readString(Path.of(EXAMPLE))
                    .replace(SOURCE, source).replace(CONNECTIONS, connections)
                    .replace("{{webhook.url:http://localhost:8080/orders}}", "http://127.0.0.1:" + port + "/orders"));
            return partitions == 1 ? Backlog.drainRate(db, routes, "orders-to-webhook")
                    : Backlog.drainRate(db, routes, "orders-to-webhook", partitions);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
