package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.testing.LockHolder;
import io.pgtide.relay.testing.PipelineSamples;
import io.pgtide.relay.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * The commands that read and change what the database has of pipelines: {@code pg-tide status} (pipelines, offsets,
 * pending counts and lock holders, and the route files refused) and {@code pg-tide forget <pipeline>} (an abandoned
 * registration goes; a running pipeline is refused and kept).
 */
class PipelineCommandsTest {

    @Test
    void printsEachPipelineAsTextAndJson() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Database database = database(db);
             LockHolder relayX = registerTwoAndHoldOne(db, "held", "idle")) {
            db.execute("SELECT count(*) FROM tide.relay_poll('stopped', 'orders')");
            db.execute("SELECT tide.relay_pause('stopped')");

            String text = run(database, PipelineSamples.FOLDER, false);
            assertTrue(text.matches("(?s).*held\\s+orders\\s+running\\s+0:0\\s+3\\s.*relay-x \\(pid \\d+\\).*"), text);
            assertTrue(text.matches("(?s).*idle\\s+orders\\s+unowned\\s+0:0\\s+3\\s.*"), text);
            assertTrue(text.matches("(?s).*stopped\\s+orders\\s+paused\\s+0:0\\s+3\\s.*"), text);

            JsonNode json = new ObjectMapper().readTree(run(database, PipelineSamples.FOLDER, true)).get("pipelines");
            assertEquals(3, json.size());
            assertEquals("postgres", json.get(2).get("paused_by").asText());
            assertEquals("held", json.get(0).get("pipeline").asText());
            assertEquals(3, json.get(0).get("pending").asLong());
            assertTrue(json.get(0).get("lock_holder").asText().startsWith("relay-x (pid "));
            assertTrue(json.get(1).get("lock_holder").isNull());
            assertEquals("running unowned paused", json.get(0).get("state").asText() + " " + json.get(1).get("state").asText()
                    + " " + json.get(2).get("state").asText());
        }
    }

    @Test
    void namesEachRouteFileTheRelayRefusesWithItsLine() throws Exception {
        try (TestDatabase db = TestDatabase.withExtension(); Database database = database(db)) {
            String text = run(database, PipelineSamples.BROKEN, false);
            assertTrue(text.contains("route files in " + PipelineSamples.BROKEN + ": " + PipelineSamples.REFUSALS.size()
                    + ", "), text);
            PipelineSamples.REFUSALS.forEach((file, problem) -> assertTrue(text.lines().anyMatch(
                    line -> line.startsWith("  " + PipelineSamples.BROKEN.resolve(file) + ":") && line.contains(problem)),
                    file + " refused in:\n" + text));

            JsonNode files = new ObjectMapper().readTree(run(database, PipelineSamples.GOOD.getParent(), true)).get("route_files");
            assertEquals(0, files.get("problems").size(), files.toString());
            assertTrue(run(database, Path.of("no-such-folder"), false).contains("no folder no-such-folder here (PG_TIDE_ROUTES)"));
        }
    }

    @Test
    void unregistersAPipelineNoRelayRunsAndRefusesOneThatRuns() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Database database = database(db);
             LockHolder relayX = registerTwoAndHoldOne(db, "running", "gone")) {
            StringBuilder out = new StringBuilder();
            assertEquals(1, forget(database, "running", out));
            assertEquals("pg-tide forget: pipeline \"running\" is running (held by relay-x (pid " + pid(db, "relay-x")
                    + ")): remove its file from every relay first", out.toString().strip());

            out.setLength(0);
            assertEquals(0, forget(database, "gone", out));
            assertEquals("pg-tide forget: pipeline \"gone\" of outbox \"orders\" unregistered (its offset was 0:0); a"
                    + " pipeline of that name would start again from the oldest message kept", out.toString().strip());

            out.setLength(0);
            assertEquals(1, forget(database, "gone", out));
            assertEquals("pg-tide forget: no pipeline \"gone\" is registered in this relay group", out.toString().strip());

            assertEquals("running", db.queryOne(String.class, "SELECT string_agg(pipeline, ',') FROM tide.relay_consumer_offsets"));
            assertEquals(Boolean.FALSE, db.queryOne(Boolean.class,
                    "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid <> " + pid(db, "relay-x")
                            + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"),
                    "forget released the lock it took");
        }
    }

    private static String run(Database database, Path routes, boolean json) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Status.print(database, routes, json, new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int forget(Database database, String pipeline, StringBuilder text) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = Forget.run(database, pipeline, new PrintStream(out, true, StandardCharsets.UTF_8));
        text.append(out.toString(StandardCharsets.UTF_8));
        return exit;
    }

    private static int pid(TestDatabase db, String applicationName) throws Exception {
        return db.queryOne(Integer.class, "SELECT pid FROM pg_stat_activity WHERE application_name = ?", applicationName);
    }

    private static Database database(TestDatabase db) {
        return new Database(db.url(), "default", "commands-test", 1);
    }

    /**
     * Publishes 3 messages to outbox orders and registers two pipelines at its start, the first locked by a session
     * named relay-x as a running relay would hold it; closing the result ends that session.
     */
    private static LockHolder registerTwoAndHoldOne(TestDatabase db, String held, String free) throws SQLException {
        db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)");
        db.execute("SELECT count(*) FROM tide.relay_poll('" + held + "', 'orders')");
        db.execute("SELECT count(*) FROM tide.relay_poll('" + free + "', 'orders')");
        return LockHolder.hold(db, held, "relay-x");
    }
}
