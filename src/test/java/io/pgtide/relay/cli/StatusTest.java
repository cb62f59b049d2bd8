package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.testing.PipelineSamples;
import io.pgtide.relay.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** {@code pg-tide status}: pipelines, offsets, pending counts and lock holders, as the database has them. */
class StatusTest {

    @Test
    void printsEachPipelineAsTextAndJson() throws Exception {
        try (TestDatabase db = TestDatabase.withExtension();
             Database database = new Database(db.url(), "default", "status-test", 1);
             Connection holder = db.connect(); Statement st = holder.createStatement()) {
            db.execute("SELECT tide.outbox_create('orders')");
            for (int i = 0; i < 3; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            db.execute("SELECT count(*) FROM tide.relay_poll('held', 'orders')");
            db.execute("SELECT count(*) FROM tide.relay_poll('idle', 'orders')");
            st.execute("SET application_name = 'relay-x'");
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('held'))");

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
        try (TestDatabase db = TestDatabase.withExtension();
             Database database = new Database(db.url(), "default", "status-test", 1)) {
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

    private static String run(Database database, Path routes, boolean json) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Status.print(database, routes, json, new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }
}
