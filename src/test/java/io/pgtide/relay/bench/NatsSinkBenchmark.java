package io.pgtide.relay.bench;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StreamConfiguration;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Backlog drain through examples/routes/orders-to-nats.yaml into a JetStream file stream on the machine's NATS
 * server (one synchronous, acknowledged publish per message). Prints msg/s from the first advanced offset to
 * the last row. Also holds the drain measurement the other sink benchmarks share.
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.NatsSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class NatsSinkBenchmark {

    /** About 1 KiB of JSON per message, as in DrainBenchmark. */
    static final String PAYLOAD_SQL = "jsonb_build_object('order', g, 'customer', 'c' || (g % 97), 'note', repeat('x', 960))";

    private NatsSinkBenchmark() {
    }

    public static void main(String[] args) {
        // exit explicitly, also on failure: client threads (paho, jnats) would keep exec:java waiting
        try {
            run(Integer.getInteger("bench.messages", 20_000));
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(int messages) throws Exception {
        String name = "pgtidebench" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        String subject = "pg-tide-bench." + name;
        try (Connection nats = Nats.connect("nats://127.0.0.1:4222"); TestDatabase db = TestDatabase.withExtension()) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(name).subjects(subject)
                    .duplicateWindow(Duration.ofMinutes(2)).build());
            try {
                Path routes = pipeline("examples/routes/orders-to-nats.yaml", "nats:orders", "nats:" + subject,
                        "{{nats.servers:localhost:4222}}", "127.0.0.1:4222");
                double rate = drain(db, routes, "orders-to-nats", messages);
                long stored = jsm.getStreamInfo(name).getStreamState().getMsgCount();
                report("outbox -> NATS JetStream (file stream, sync publish + ack, Nats-Msg-Id)", messages, rate,
                        stored + " messages in the stream");
            } finally {
                jsm.deleteStream(name);
            }
        }
    }

    /** The example pipeline in a fresh routes folder with two texts replaced (the target and the address). */
    static Path pipeline(String example, String target, String benchTarget, String address, String benchAddress)
            throws Exception {
        Path routes = Files.createTempDirectory("bench-routes");
        Files.writeString(routes.resolve("bench.yaml"), Files.readString(Path.of(example))
                .replace(target, benchTarget).replace(address, benchAddress));
        return routes;
    }

    /**
     * Inserts a backlog of {@code messages} rows in one statement, starts a relay on the routes folder and
     * returns msg/s of the pipeline from its first advanced offset to the last row.
     */
    static double drain(TestDatabase db, Path routes, String pipeline, int messages) throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers)"
                + " SELECT 'orders', 'c' || (g % 97), " + PAYLOAD_SQL + ", '{\"type\": \"order.created\"}'"
                + " FROM generate_series(1, " + messages + ") g");
        db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
        long last = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");
        String offset = "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = '" + pipeline + "'";
        try (RelayHarness relay = RelayHarness.start(db, routes, "bench")) {
            long firstBatchEnd = waitFor(db, offset, 0);
            long start = System.nanoTime();
            waitFor(db, offset, last - 1);
            return (last - firstBatchEnd) / ((System.nanoTime() - start) / 1e9);
        }
    }

    static void report(String what, int messages, double rate, String check) {
        System.out.printf(Locale.ROOT, "%nbacklog drain %s, 1 KiB JSON%n", what);
        System.out.printf(Locale.ROOT, "  %,d msgs  %,.0f msg/s  (%s)%n", messages, rate, check);
    }

    /** Polls a count-like query until it exceeds {@code above}; returns the value seen. */
    private static long waitFor(TestDatabase db, String sql, long above) throws SQLException, InterruptedException {
        for (long deadline = System.nanoTime() + 600_000_000_000L; System.nanoTime() < deadline; Thread.sleep(20)) {
            Long value = db.queryOne(Long.class, sql);
            if (value != null && value > above) {
                return value;
            }
        }
        throw new IllegalStateException("timed out: " + sql);
    }
}
