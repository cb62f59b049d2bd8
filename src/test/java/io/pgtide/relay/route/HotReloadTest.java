package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Edits of the routes folder while the relay runs: edited, broken, new and deleted pipeline files. */
class HotReloadTest {

    private TestDatabase db;
    private RelayHarness relay;
    @TempDir
    Path routes;

    /** A pipeline whose sink records which version of the file delivered each message. */
    static String pipeline(String id, String version) {
        return PipelineYaml.perMessage(id, "orders", ("sql:INSERT INTO delivered (pipeline, version, id) VALUES ('%s', '%s',"
                + " :#${header.pg_tide_id}::bigint)?dataSource=#pgTide").formatted(id, version));
    }

    @BeforeEach
    void start() throws Exception {
        db = TestDatabase.withOutbox("orders");
        db.execute("CREATE TABLE delivered (pipeline text, version text, id bigint)");
        Files.writeString(routes.resolve("a.yaml"), pipeline("a", "v1"));
        Files.writeString(routes.resolve("b.yaml"), pipeline("b", "v1"));
        relay = RelayHarness.start(db, routes, "reloader", Map.of(RelaySettings.RELOAD_INTERVAL.name(), "300"));
        publishAndAwait("v1", "v1");
    }

    @AfterEach
    void stop() throws Exception {
        relay.close();
        db.close();
    }

    /** Publishes one message and waits until pipelines a and b delivered it with the given versions. */
    private void publishAndAwait(String versionA, String versionB) throws Exception {
        long id = db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{}')");
        await("a " + versionA + " and b " + versionB + " to deliver message " + id, () ->
                count("a", versionA, id) == 1 && (versionB == null || count("b", versionB, id) == 1));
    }

    /** Waits until the pipeline runs the given version of its file. */
    private void awaitRunning(String pipeline, String version) throws Exception {
        Model model = relay.context().getCamelContextExtension().getContextPlugin(Model.class);
        await(pipeline + " " + version + " to run", () -> {
            RouteDefinition definition = model.getRouteDefinition(pipeline);
            return definition != null && definition.toString().contains("'" + version + "'")
                    && relay.context().getRouteController().getRouteStatus(pipeline).isStarted();
        });
    }

    private long count(String pipeline, String version, long id) throws Exception {
        return db.queryOne(Long.class, "SELECT count(*) FROM delivered WHERE pipeline = ? AND version = ? AND id = ?",
                pipeline, version, id);
    }

    private void await(String what, Pipelines.Check check) throws Exception {
        Pipelines.await(Duration.ofSeconds(15), what, check, () -> "delivered: " + db.queryOne(String.class,
                "SELECT string_agg(pipeline || version || ':' || coalesce(id::text, 'null'), ' ') FROM delivered")
                + "; routes: " + relay.context().getRoutes().stream().map(r -> r.getId() + "="
                + relay.context().getRouteController().getRouteStatus(r.getId())).toList()
                + "; offsets: " + db.queryOne(String.class, "SELECT string_agg(pipeline || ':' || last_id, ' ') FROM tide.relay_consumer_offsets"));
    }

    @Test
    void anEditedFileRestartsOnlyThatPipelineWithTheNewDefinition() throws Exception {
        CamelContext context = relay.context();
        long bStarted = context.getRoute("b").getUptimeMillis();
        Files.writeString(routes.resolve("a.yaml"), pipeline("a", "v2"));
        awaitRunning("a", "v2");
        publishAndAwait("v2", "v1");
        assertTrue(context.getRoute("b").getUptimeMillis() >= bStarted, "pipeline b was not restarted");
    }

    @Test
    void aBrokenEditIsReportedAndThePreviousVersionKeepsRunning() throws Exception {
        Files.writeString(routes.resolve("a.yaml"), pipeline("a", "v2").replace("steps:", "stepz:"));
        await("the broken file to be reported", () -> !relay.relay().routeFolder().failures().isEmpty());
        String reason = relay.relay().routeFolder().failures().get(0).reason();
        assertTrue(reason.contains("a.yaml") && reason.matches("(?s).*line \\d+.*"), reason);
        publishAndAwait("v1", "v1");
        Files.writeString(routes.resolve("a.yaml"), pipeline("a", "v3"));
        awaitRunning("a", "v3");
        publishAndAwait("v3", "v1");
        assertTrue(relay.relay().routeFolder().failures().isEmpty(), "the fixed file is no longer reported");
    }

    @Test
    void aNewFileStartsAPipeline() throws Exception {
        Files.writeString(routes.resolve("c.yaml"), pipeline("c", "v1"));
        long id = db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{}')");
        await("the new pipeline c to deliver", () -> count("c", "v1", id) == 1);
    }

    @Test
    void aDeletedFileStopsItsPipelineAndReleasesItsLock() throws Exception {
        assertTrue(Locks.held(db, "reloader", "b"));
        Files.delete(routes.resolve("b.yaml"));
        await("pipeline b to be removed", () -> relay.context().getRoute("b") == null);
        await("b's lock to be released", () -> !Locks.held(db, "reloader", "b"));
        publishAndAwait("v1", null);
        long id = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");
        assertEquals(0, count("b", "v1", id), "a deleted pipeline delivers nothing");
        assertFalse(relay.owns("b"));
    }
}
