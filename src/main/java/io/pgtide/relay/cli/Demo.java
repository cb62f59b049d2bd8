package io.pgtide.relay.cli;

import io.pgtide.relay.Relay;
import io.pgtide.relay.config.PostgresUrl;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.db.SchemaCheck;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code pg-tide demo}: a relay with something to relay. Without a database URL it starts an embedded
 * PostgreSQL; it creates outbox {@code orders}, publishes a sample order every half second, and runs the
 * pipelines of {@code examples/demo} (a log sink; {@link DemoFolder}) until Ctrl-C. Ctrl-C stops the relay first,
 * then the embedded server, so that no session of the relay sees its server go away.
 */
final class Demo {

    /** Ctrl-C stops the embedded server too: the publisher's lost connection is expected then. */
    private static final AtomicBoolean STOPPING = new AtomicBoolean();
    /** The relay's own stop is bounded by camel.main.shutdownTimeout (30 s): the server waits a little longer. */
    private static final long SERVER_STOP_WAIT_SECONDS = 40;
    /** The embedded PostgreSQL's archive, in the binaries jar of demo-lib/. */
    private static final String EMBEDDED_BINARIES = "/postgres-linux-x86_64.txz";

    private Demo() {
    }

    static void run(RelaySettings given) throws Exception {
        Map<String, String> overrides = new HashMap<>();
        String routes = given.get(RelaySettings.ROUTES.name());
        overrides.put(RelaySettings.ROUTES.name(), routes != null ? routes
                : DemoFolder.find(System.getProperty(DemoFolder.HOME), Path.of("")).toString());
        CountDownLatch relayStopped = new CountDownLatch(1);
        EmbeddedPostgres embedded = null;
        if (!given.hasPostgresUrl()) {
            if (Demo.class.getResource(EMBEDDED_BINARIES) == null) {
                throw new SettingException("this installation has no embedded PostgreSQL for the demo (demo-lib/ of the"
                        + " build; the image leaves it out): set " + RelaySettings.POSTGRES_URL.name() + " to a database");
            }
            System.out.println("pg-tide demo: starting an embedded PostgreSQL (first start unpacks it, a few seconds)...");
            // stopped by the hook below, after the relay: its own hook would stop it while the relay still runs
            embedded = EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
            overrides.put(RelaySettings.POSTGRES_URL.name(), embedded.getJdbcUrl("postgres", "postgres"));
        }
        EmbeddedPostgres server = embedded;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopServer(server, relayStopped), "pg-tide-demo-stop"));
        try {
            relay(overrides);
        } finally {
            relayStopped.countDown();
        }
    }

    /** At exit, once the relay has stopped (or after a while, if it cannot): the embedded server, if any. */
    private static void stopServer(EmbeddedPostgres server, CountDownLatch relayStopped) {
        STOPPING.set(true);
        if (server == null) {
            return;
        }
        try {
            relayStopped.await(SERVER_STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            System.err.println("pg-tide demo: stopping the embedded PostgreSQL failed: " + e.getMessage());
        }
    }

    private static void relay(Map<String, String> overrides) throws Exception {
        RelaySettings settings = new RelaySettings(name -> overrides.containsKey(name)
                ? overrides.get(name) : RelaySettings.fromEnvironment().get(name));
        PostgresUrl url = settings.postgresUrl();
        System.out.println("pg-tide demo: database " + url);
        try (Database database = new Database(url, settings.group(), settings.instance(), settings.value(RelaySettings.POOL_SIZE))) {
            try (Connection connection = database.pool().getConnection();
                 Statement st = connection.createStatement()) {
                SchemaCheck.ensureInstalled(connection);
                st.execute("SELECT tide.outbox_create('orders')");
            }
            Thread publisher = new Thread(() -> publish(database), "demo-publisher");
            publisher.setDaemon(true);
            publisher.start();
            System.out.println("pg-tide demo: publishing an order every 0.5 s to outbox 'orders'; pipelines from "
                    + settings.routesDirectory() + "; Ctrl-C stops");
            System.out.println("pg-tide demo: metrics at http://localhost:" + settings.value(RelaySettings.METRICS_PORT)
                    + "/metrics, readiness at /observe/health/ready; in another terminal: "
                    + "PG_TIDE_RELAY_POSTGRES_URL='" + url.jdbcUrl() + "?user=postgres' " + launcher() + " status");
            new Relay(settings, database).run();
            publisher.interrupt();
            publisher.join(2000);
            System.out.println("pg-tide demo: stopped");
        }
    }

    /** The launcher as the user can type it: the installation's when it is known. */
    private static String launcher() {
        String home = System.getProperty(DemoFolder.HOME);
        return home == null ? "target/pg-tide/bin/pg-tide" : Path.of(home, "bin", "pg-tide").toString();
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
