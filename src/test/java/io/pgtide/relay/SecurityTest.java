package io.pgtide.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Cli;
import io.pgtide.relay.testing.CnpgBootstrap;
import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay as the {@code relay_user} of examples/cnpg: no password, webhook secret or full database URL
 * in its logs, errors, metrics, health details or status output; pipeline and outbox names that try SQL
 * injection are refused or looked up as plain values, reported by name, and run nothing; a role without the grants is stopped at start-up by a
 * message naming the missing grant and the statement to run.
 */
class SecurityTest {

    /** Has the characters a URI must escape, so both its plain and its percent-escaped form are looked for. */
    private static final String PASSWORD = "pw:@%/" + Long.toHexString(System.nanoTime());
    private static final String SECRET = "whsec-" + Long.toHexString(System.nanoTime() ^ 0x5eed);
    private static final String INJECTED_ID = "x'); DROP TABLE victim; --";

    /** A pipeline file with the route id and the relay_poll arguments filled in, verbatim. */
    private static final String INJECTED_PIPELINE = """
            - route:
                id: "%s"
                routeConfigurationId: pg-tide
                routePolicy: "#pgTideLock"
                from:
                  uri: "sql:SELECT * FROM tide.relay_poll(%s)"
                  parameters: { useIterator: false, greedy: true, delay: 500 }
                  steps:
                    - to: "log:injected"
            """;

    private TestDatabase db;

    @BeforeEach
    void bootstrapLikeCloudNativePg() throws Exception {
        db = CnpgBootstrap.database("nobody_user");
        db.execute("ALTER ROLE relay_user PASSWORD '" + PASSWORD + "'");
        db.execute("SELECT tide.outbox_create('orders')");
        db.execute("CREATE TABLE victim (x int)");
        db.execute("INSERT INTO victim VALUES (1)");
    }

    @AfterEach
    void dropAll() throws Exception {
        db.close();
        CnpgBootstrap.dropRoles("relay_user", "nobody_user");
    }

    private String url(String role, String database) {
        return "postgresql://" + role + ":" + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8) + "@127.0.0.1:"
                + db.server().port() + "/" + database + "?application_name=pg-tide-security";
    }

    @Test
    void noPasswordSecretOrUrlInLogsErrorsMetricsOrStatus(@TempDir Path routes) throws Exception {
        for (int i = 0; i < 20; i++) {
            db.execute("SELECT tide.outbox_publish('orders', '{\"n\": " + i + "}', '{}', 'k')");
        }
        long last = Pipelines.lastRow(db, "orders");
        Files.copy(Path.of("examples/routes/orders-to-webhook.yaml"), routes.resolve("orders-to-webhook.yaml"));
        Files.writeString(routes.resolve("injected-outbox.yaml"), INJECTED_PIPELINE.formatted("injected-outbox",
                "'injected-outbox', 'orders''); DROP TABLE victim; --'"));
        Files.writeString(routes.resolve("injected-id.yaml"), INJECTED_PIPELINE.formatted(INJECTED_ID,
                "'" + INJECTED_ID.replace("'", "''") + "', 'orders'"));

        Set<String> accepted = ConcurrentHashMap.newKeySet();
        AtomicInteger requests = new AtomicInteger();
        HttpServer webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/orders", exchange -> {
            exchange.getRequestBody().readAllBytes();
            // the first answers fail, so the relay logs retries and a failed batch with the request's URL
            int status = requests.incrementAndGet() <= 8 ? 503 : 200;
            if (status == 200) {
                accepted.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        webhook.start();
        String url = url("relay_user", db.name());
        int metricsPort = FreePort.next();
        Map<String, String> env = new LinkedHashMap<>(Map.of(
                RelaySettings.POSTGRES_URL.name(), url,
                RelaySettings.METRICS_PORT.name(), String.valueOf(metricsPort),
                "PG_TIDE_WEBHOOK_SECRET", SECRET,
                "WEBHOOK_URL", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/orders",
                "PG_TIDE_REDELIVERY_MAXIMUM", "1"));
        try (ChildRelay relay = ChildRelay.start(db, routes, "secure", env)) {
            Pipelines.await(Duration.ofSeconds(90), "the webhook pipeline to deliver every message as relay_user",
                    () -> Pipelines.offset(db, "orders-to-webhook") == last);
            assertEquals(20, accepted.size(), "every message arrived");
            Pipelines.await(Duration.ofSeconds(30), "both injected names to be refused by name", () -> {
                String output = relay.output();
                return output.contains("outbox \"orders'); DROP TABLE victim; --\" does not exist")
                        && output.contains("invalid pipeline name '" + INJECTED_ID.replace("'", "''") + "'");
            });
            assertEquals(1L, db.queryOne(Long.class, "SELECT count(*) FROM victim"), "no injected statement ran");
            assertEquals(0L, db.queryOne(Long.class,
                    "SELECT count(*) FROM tide.relay_consumer_offsets WHERE pipeline <> 'orders-to-webhook'"));

            String management = "http://127.0.0.1:" + metricsPort;
            Map<String, String> seen = new LinkedHashMap<>();
            seen.put("the relay's log", relay.output());
            seen.put("/metrics", Scrape.get(management + "/metrics").body());
            seen.put("/observe/health", Scrape.get(management + "/observe/health").body());
            seen.put("/observe/health/ready", Scrape.get(management + "/observe/health/ready").body());
            seen.put("pg-tide status", Cli.run(Map.of(RelaySettings.POSTGRES_URL.name(), url), "status").output());
            seen.put("pg-tide status --json", Cli.run(Map.of(RelaySettings.POSTGRES_URL.name(), url), "status", "--json").output());
            seen.put("pg-tide run on a missing database",
                    Cli.run(Map.of(RelaySettings.POSTGRES_URL.name(), url("relay_user", "no_such_db")), "run").output());
            seen.put("pg_stat_activity", db.queryOne(String.class, "SELECT string_agg(concat_ws(' ', application_name,"
                    + " query), E'\\n') FROM pg_stat_activity WHERE usename = 'relay_user'"));
            assertTrue(seen.get("pg-tide status").contains("orders-to-webhook"), seen.get("pg-tide status"));
            assertTrue(seen.get("pg-tide run on a missing database").contains("no_such_db"));
            for (Map.Entry<String, String> text : seen.entrySet()) {
                for (String secret : List.of(PASSWORD, URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8), SECRET, url,
                        "relay_user:")) {
                    assertFalse(String.valueOf(text.getValue()).contains(secret), text.getKey() + " shows " + secret);
                }
            }
        } finally {
            webhook.stop(0);
        }
    }

    @Test
    void aRoleWithoutTheSchemaGrantIsStoppedByAMessageNamingIt() throws Exception {
        db.execute("CREATE ROLE nobody_user LOGIN PASSWORD '" + PASSWORD + "'");
        Cli.Result result = Cli.run(Map.of(RelaySettings.POSTGRES_URL.name(), url("nobody_user", db.name())), "run");
        assertEquals(1, result.exit(), result.output());
        assertEquals(1, result.output().lines().count(), result.output());
        assertTrue(result.output().contains("role nobody_user lacks USAGE ON SCHEMA tide")
                && result.output().contains("GRANT USAGE ON SCHEMA tide TO nobody_user;"), result.output());
        assertFalse(result.output().contains(PASSWORD));
    }

    @Test
    void aRevokedFunctionOrViewIsNamedWithTheGrantToRun() throws Exception {
        db.execute("REVOKE EXECUTE ON FUNCTION tide.relay_poll(text, text, integer, text, bigint, integer, integer) FROM PUBLIC");
        db.execute("REVOKE SELECT ON tide.consumer_lag FROM relay_user");
        Cli.Result result = Cli.run(Map.of(RelaySettings.POSTGRES_URL.name(), url("relay_user", db.name())), "run");
        assertEquals(1, result.exit(), result.output());
        assertTrue(result.output().contains("role relay_user lacks EXECUTE ON FUNCTION tide.relay_poll(text,text,integer,text,bigint,integer,integer),"
                + " SELECT ON tide.consumer_lag"), result.output());
        assertTrue(result.output().contains("GRANT EXECUTE ON FUNCTION tide.relay_poll(text,text,integer,text,bigint,integer,integer) TO relay_user;"
                + " GRANT SELECT ON tide.consumer_lag TO relay_user;"), result.output());
    }
}
