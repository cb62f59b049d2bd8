package io.pgtide.relay.bench;

import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Locale;

/**
 * Backlog drain, outbox → inbox in a second database on the same PostgreSQL server, with
 * examples/routes/orders-to-inbox.yaml as shipped: one tide.inbox_write per batch of up to 1000 events.
 * msg/s from the first advanced offset to the last row.
 * <pre>mvn -q -B test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.PostgresInboxSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class PostgresInboxSinkBenchmark {

    private static final String PIPELINE = "orders-to-inbox";
    private static final String PAYLOAD_SQL = "jsonb_build_object('order', g, 'customer', 'c' || (g % 97),"
            + " 'note', repeat('x', 960))";

    private PostgresInboxSinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 20_000);
        try (TestDatabase db = TestDatabase.withExtension(); TestDatabase target = TestDatabase.create()) {
            target.execute("CREATE EXTENSION pg_tide");
            target.execute("SELECT tide.inbox_create('orders')");
            db.execute("SELECT tide.outbox_create('orders')");
            db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers)"
                    + " SELECT 'orders', 'c' || (g % 97), " + PAYLOAD_SQL + ", '{\"type\": \"order.created\"}'"
                    + " FROM generate_series(1, " + messages + ") g");
            db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
            Path routes = Files.createTempDirectory("bench-routes");
            Files.writeString(routes.resolve(PIPELINE + ".yaml"), Files.readString(Path.of("examples/routes/" + PIPELINE + ".yaml"))
                    .replace("{{inbox.url:postgresql://localhost:5432/inbox}}", "postgresql://postgres:postgres@"
                            + target.server().host() + ":" + target.server().port() + "/" + target.name()));
            long last = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");
            String offset = "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = '" + PIPELINE + "'";
            double rate;
            try (RelayHarness relay = RelayHarness.start(db, routes, "bench")) {
                long firstBatchEnd = waitFor(db, offset, 0);
                long start = System.nanoTime();
                waitFor(db, offset, last - 1);
                rate = (last - firstBatchEnd) / ((System.nanoTime() - start) / 1e9);
            }
            long stored = target.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders");
            System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> inbox in a second database, same server, 1 KiB JSON,"
                    + " one tide.inbox_write per batch%n");
            System.out.printf(Locale.ROOT, "  orders-to-inbox  %,7d msgs  %,8.0f msg/s  (%,d events in the inbox)%n",
                    messages, rate, stored);
        }
        System.exit(0);
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
