package io.pgtide.relay.cli;

import io.pgtide.relay.Relay;
import io.pgtide.relay.config.PostgresUrl;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.db.SchemaCheck;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code pg-tide demo}: a relay with something to relay. Without a database URL it starts an embedded
 * PostgreSQL; it creates outbox {@code orders}, publishes a sample order every half second, and runs the
 * pipelines of {@code examples/demo} (a log sink) until Ctrl-C.
 */
final class Demo {

    /** Ctrl-C stops the embedded server too: the publisher's lost connection is expected then. */
    private static final AtomicBoolean STOPPING = new AtomicBoolean();

    private Demo() {
    }

    static void run(RelaySettings given) throws Exception {
        EmbeddedPostgres embedded = null;
        Map<String, String> overrides = new HashMap<>();
        if (!given.hasPostgresUrl()) {
            System.out.println("pg-tide demo: starting an embedded PostgreSQL (first start unpacks it, a few seconds)...");
            embedded = EmbeddedPostgres.builder().start();
            overrides.put(RelaySettings.POSTGRES_URL, embedded.getJdbcUrl("postgres", "postgres"));
        }
        overrides.putIfAbsent(RelaySettings.ROUTES, System.getProperty(RelaySettings.ROUTES, "examples/demo"));
        RelaySettings settings = new RelaySettings(name -> overrides.containsKey(name)
                ? overrides.get(name) : RelaySettings.fromEnvironment().get(name));
        PostgresUrl url = settings.postgresUrl();
        System.out.println("pg-tide demo: database " + url);
        try (Database database = new Database(url, settings.group(), settings.instance(), settings.poolSize())) {
            try (Connection connection = database.pool().getConnection();
                 Statement st = connection.createStatement()) {
                SchemaCheck.ensureInstalled(connection);
                st.execute("SELECT tide.outbox_create('orders')");
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> STOPPING.set(true)));
            Thread publisher = new Thread(() -> publish(database), "demo-publisher");
            publisher.setDaemon(true);
            publisher.start();
            System.out.println("pg-tide demo: publishing an order every 0.5 s to outbox 'orders'; pipelines from "
                    + settings.routesDirectory() + "; Ctrl-C stops");
            System.out.println("pg-tide demo: metrics at http://localhost:" + settings.metricsPort()
                    + "/metrics, readiness at /observe/health/ready; in another terminal: "
                    + "PG_TIDE_RELAY_POSTGRES_URL='" + url.jdbcUrl() + "?user=postgres' target/pg-tide/bin/pg-tide status");
            new Relay(settings, database).run();
            publisher.interrupt();
            publisher.join(2000);
            System.out.println("pg-tide demo: stopped");
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    private static void publish(Database database) {
        String[] customers = {"ada", "grace", "linus", "barbara"};
        // a session of its own: the relay's pool closes with the relay, before this thread is told to stop
        try (Connection connection = database.openSession("pg_tide demo publisher");
             PreparedStatement ps = connection.prepareStatement(
                     "SELECT tide.outbox_publish('orders', ?::jsonb, ?::jsonb, ?)")) {
            for (int order = 1; !Thread.currentThread().isInterrupted(); order++) {
                String customer = customers[order % customers.length];
                int cents = ThreadLocalRandom.current().nextInt(100, 10_000);
                ps.setString(1, "{\"order\": " + order + ", \"customer\": \"" + customer + "\", \"cents\": " + cents + "}");
                ps.setString(2, "{\"type\": \"order.created\"}");
                ps.setString(3, customer);
                ps.execute();
                Thread.sleep(500);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            if (!STOPPING.get()) {
                System.err.println("pg-tide demo: publisher stopped: " + e.getMessage());
            }
        }
    }
}
