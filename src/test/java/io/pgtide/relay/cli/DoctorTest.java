package io.pgtide.relay.cli;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.config.PostgresUrl;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.testing.CnpgBootstrap;
import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pg-tide doctor}: a healthy setup passes every check; a stopped database, a revoked grant and an open
 * transaction holding delivery back are each named with their fix, and the exit code says so.
 */
class DoctorTest {

    private static final String LOG_PIPELINE = """
            - route:
                id: orders-to-log
                from:
                  uri: tide:orders?delay=200
                  steps:
                    - to: "log:delivered?level=DEBUG"
            """;

    private record Run(int exit, String text) {
    }

    @Test
    void aHealthySetupPassesEveryCheck(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("orders-to-log.yaml"), LOG_PIPELINE);
        try (TestDatabase db = TestDatabase.withOutbox("orders");
             Database database = new Database(db.url(), "default", "doctor-test", 1)) {
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 5)");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay-a")) {
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(20), "the pipeline to deliver", () -> offset(db, "orders-to-log") == last);

                Run text = doctor(routes, database, false);
                assertEquals(0, text.exit(), text.text());
                assertTrue(text.text().lines().skip(1).limit(8).allMatch(line -> line.startsWith("ok ")), text.text());
                assertTrue(text.text().contains("pipeline orders-to-log (group default)") && text.text().contains(
                        "held by pg_tide relay-a orders-to-log (pid "), text.text());
                assertTrue(text.text().strip().endsWith("0 check(s) failed, 0 warning(s)"), text.text());

                JsonNode json = new ObjectMapper().readTree(doctor(routes, database, true).text());
                assertEquals(0, json.get("failed").asInt());
                for (String check : new String[] {"route files", "database", "extension", "grants", "open transactions",
                        "pipeline orders-to-log (group default)", "dead letters", "clock"}) {
                    assertTrue(verdictOf(json, check).equals("ok"), check + " in " + json.toPrettyString());
                }
            }
        }
    }

    @Test
    void aStoppedDatabaseFailsInOneLineWithoutThePassword(@TempDir Path routes) throws Exception {
        PostgresUrl nowhere = PostgresUrl.parse(RelaySettings.POSTGRES_URL.name(),
                "postgresql://app:secret-pw@127.0.0.1:" + FreePort.next() + "/app");
        try (Database database = new Database(nowhere, "default", "doctor-test", 1)) {
            Run run = doctor(routes, database, false);
            assertEquals(1, run.exit(), run.text());
            assertTrue(run.text().lines().anyMatch(line -> line.startsWith("FAIL    database ")
                    && line.contains("refused: no PostgreSQL listens there") && line.contains(RelaySettings.POSTGRES_URL.name())),
                    run.text());
            assertTrue(run.text().contains("skipped"), run.text());
            assertFalse(run.text().contains("secret-pw"), "the password is never printed: " + run.text());
        }
    }

    @Test
    void namesARevokedGrantAnUnownedPipelineAndAPausedOne(@TempDir Path routes) throws Exception {
        CnpgBootstrap.dropRoles("relay_user");
        try (TestDatabase db = TestDatabase.withExtension()) {
            CnpgBootstrap.apply(db);
            db.execute("SELECT tide.outbox_create('orders')");
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)");
            db.execute("SELECT count(*) FROM tide.relay_poll('orders-to-log', 'orders')");
            db.execute("SELECT count(*) FROM tide.relay_poll('orders-held', 'orders')");
            db.execute("SELECT tide.relay_pause('orders-held')");
            db.execute("REVOKE SELECT ON tide.relay_consumer_offsets FROM relay_user");
            PostgresUrl asRelay = PostgresUrl.parse(RelaySettings.POSTGRES_URL.name(), "postgresql://relay_user:strong-password@"
                    + db.url().hostsAndPorts() + "/" + db.name());
            try (Database database = new Database(asRelay, "default", "doctor-test", 1)) {
                Run run = doctor(routes, database, false);
                assertEquals(1, run.exit(), run.text());
                assertTrue(run.text().contains("FAIL    grants") && run.text().contains(
                        "role relay_user lacks SELECT ON tide.relay_consumer_offsets"), run.text());
                assertTrue(run.text().contains("fix: As the owner of schema tide, run: GRANT SELECT ON"
                        + " tide.relay_consumer_offsets TO relay_user;"), run.text());
                assertTrue(run.text().contains("FAIL    pipeline orders-to-log (group default)")
                        && run.text().contains("no relay holds it: 3 pending on outbox orders"), run.text());
                assertTrue(run.text().contains("warn    pipeline orders-held (group default)")
                        && run.text().contains("fix: pg-tide resume orders-held"), "a paused pipeline is not a failure: "
                        + run.text());
                assertFalse(run.text().contains("strong-password"), run.text());
            }
        } finally {
            CnpgBootstrap.dropRoles("relay_user");
        }
    }

    @Test
    void namesTheOpenTransactionThatHoldsDeliveryBack(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders");
             Database database = new Database(db.url(), "default", "doctor-test", 1);
             Connection open = db.connect(); Statement st = open.createStatement()) {
            st.execute("SET application_name = 'slow-checkout'");
            open.setAutoCommit(false);
            st.execute("SELECT tide.outbox_publish('orders', '{\"order\": 1}')");
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 4)");
            int pid = db.queryOne(Integer.class, "SELECT pid FROM pg_stat_activity WHERE application_name = 'slow-checkout'");

            Run held = doctor(routes, database, false);
            assertEquals(1, held.exit(), held.text());
            assertTrue(held.text().lines().anyMatch(line -> line.startsWith("FAIL    open transactions")
                    && line.contains("committed messages wait (4 of outbox orders)")
                    && line.contains("pid " + pid + " \"slow-checkout\"")), held.text());
            assertTrue(held.text().contains("SELECT pg_terminate_backend(" + pid + ")"), held.text());

            open.commit();
            Run ended = doctor(routes, database, true);
            assertEquals("ok", verdictOf(new ObjectMapper().readTree(ended.text()), "open transactions"), ended.text());
        }
    }

    private static String verdictOf(JsonNode report, String check) {
        for (JsonNode finding : report.get("checks")) {
            if (finding.get("check").asText().equals(check)) {
                return finding.get("verdict").asText();
            }
        }
        return "absent";
    }

    private static Run doctor(Path routes, Database database, boolean json) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = Doctor.run(routes, database, json, new PrintStream(out, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8));
    }
}
