package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Backlog drain, outbox → inbox in a second database on the same PostgreSQL server, with
 * examples/routes/orders-to-inbox.yaml as shipped: one tide.inbox_write per batch of up to 1000 events.
 * msg/s from the first advanced offset to the last row.
 * <pre>mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.PostgresInboxSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class PostgresInboxSinkBenchmark {

    private static final String PIPELINE = "orders-to-inbox";

    private PostgresInboxSinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 20_000);
        try (TestDatabase db = TestDatabase.withExtension(); TestDatabase target = TestDatabase.create()) {
            target.execute("CREATE EXTENSION pg_tide");
            target.execute("SELECT tide.inbox_create('orders')");
            Backlog.fill(db, messages);
            Path routes = Files.createTempDirectory("bench-routes");
            Files.writeString(routes.resolve(PIPELINE + ".yaml"), Files.readString(Path.of("examples/routes/" + PIPELINE + ".yaml"))
                    .replace("{{inbox.url:postgresql://localhost:5432/inbox}}", "postgresql://postgres:postgres@"
                            + target.server().host() + ":" + target.server().port() + "/" + target.name()));
            double rate = Backlog.drainRate(db, routes, PIPELINE);
            long stored = target.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders");
            System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> inbox in a second database, same server, 1 KiB JSON,"
                    + " one tide.inbox_write per batch%n");
            System.out.printf(Locale.ROOT, "  orders-to-inbox  %,7d msgs  %,8.0f msg/s  (%,d events in the inbox)%n",
                    messages, rate, stored);
        }
        System.exit(0);
    }
}
