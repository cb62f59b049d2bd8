package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload never leaves a pipeline stopped while the relay says it runs: after copies, deletions, edits, broken
 * edits and fixes of pipeline files, every pipeline whose file stands delivers, and the lock_held series of
 * /metrics are exactly the pipelines that run.
 */
class ReloadSequenceTest {

    private static final String RELOAD_MS = "150";

    private TestDatabase db;
    private RelayHarness relay;
    @TempDir
    Path routes;

    /** A short-form pipeline whose sink records which pipeline delivered each message. */
    static String pipeline(String id) {
        return """
                - route:
                    id: %1$s
                    from:
                      uri: tide:orders?delay=200
                      steps:
                        - split:
                            simple: "${body}"
                            stopOnException: true
                            steps:
                              - to: "sql:INSERT INTO delivered (pipeline, id) VALUES ('%1$s', :#${header.pg_tide_id}::bigint)?dataSource=#pgTide"
                """.formatted(id);
    }

    /** The same pipeline written out in full, as before the short form. */
    static String fullForm(String id, String polled) {
        return pipeline(id).replace("    from:\n      uri: tide:orders?delay=200\n", """
                    routeConfigurationId: pg-tide
                    routePolicy: "#pgTideLock"
                    from:
                      uri: "sql:SELECT * FROM tide.relay_poll('%s', 'orders')"
                      parameters: { useIterator: false, greedy: true, delay: 200 }
                """.formatted(polled));
    }

    @BeforeEach
    void start() throws Exception {
        db = TestDatabase.withOutbox("orders");
        db.execute("CREATE TABLE delivered (pipeline text, id bigint)");
        Files.writeString(routes.resolve("a.yaml"), fullForm("a", "a"));
        relay = RelayHarness.start(db, routes, "reloader", Map.of(RelaySettings.RELOAD_INTERVAL.name(), RELOAD_MS));
    }

    @AfterEach
    void stop() throws Exception {
        relay.close();
        db.close();
    }

    @Test
    void aCopyWithOnlyItsIdChangedIsRefusedAndDeletingItLeavesTheOriginalDelivering() throws Exception {
        assertDelivering(Set.of("a"));
        Files.writeString(routes.resolve("copy.yaml"), fullForm("a-copy", "a"));
        awaitRefused("copy.yaml", "polls pipeline \"a\" but the route id is \"a-copy\"");
        assertDelivering(Set.of("a"));
        Files.writeString(routes.resolve("same-id.yaml"), pipeline("a"));
        awaitRefused("same-id.yaml", "route id \"a\" is already defined by " + routes.resolve("a.yaml"));
        assertDelivering(Set.of("a"));
        Files.delete(routes.resolve("copy.yaml"));
        Files.delete(routes.resolve("same-id.yaml"));
        Pipelines.await(Duration.ofSeconds(10), "the refusals to go with their files",
                () -> relay.relay().routeFolder().failures().isEmpty());
        assertDelivering(Set.of("a"));
    }

    @Test
    void aFileRefusedForAClashRunsOnceTheFileItClashedWithIsGone() throws Exception {
        try (LogCapture log = LogCapture.open()) {
            Files.writeString(routes.resolve("b.yaml"), pipeline("a"));
            awaitRefused("b.yaml", "already defined by");
            Files.writeString(routes.resolve("c.yaml"), pipeline("c"));
            Pipelines.await(Duration.ofSeconds(10), "c to run", () -> relay.relay().routeFolder().routeFiles().containsKey("c"));
            assertEquals(1, log.count("Route file refused", "b.yaml"), "one error line while b.yaml stays the same");
        }
        Files.delete(routes.resolve("a.yaml"));
        Pipelines.await(Duration.ofSeconds(10), "b.yaml to run in a.yaml's place",
                () -> relay.relay().routeFolder().failures().isEmpty()
                        && routes.resolve("b.yaml").equals(relay.relay().routeFolder().routeFiles().get("a")));
        assertDelivering(Set.of("a", "c"));
    }

    @Test
    void aRandomSequenceOfEditsEndsWithEveryStandingPipelineDeliveringAndTheMetricsTellingTheTruth() throws Exception {
        Random random = new Random(20261205);
        for (int step = 0; step < 16; step++) {
            Path file = routes.resolve("p" + random.nextInt(4) + ".yaml");
            String id = "p" + random.nextInt(4);
            switch (random.nextInt(5)) {
                case 0 -> Files.writeString(file, pipeline(id));                                 // add or edit
                case 1 -> Files.writeString(file, fullForm(id, id));                             // the full form
                case 2 -> Files.writeString(file, pipeline(id).replace("steps:", "stepz:"));     // a broken edit
                case 3 -> Files.deleteIfExists(file);
                default -> {                                                                      // a copy of a.yaml
                    Files.writeString(file, Files.readString(routes.resolve("a.yaml")));
                }
            }
            Thread.sleep(random.nextInt(3) * Long.parseLong(RELOAD_MS));
        }
        // what should run now: each standing file that is valid and whose ids no earlier file holds
        Thread.sleep(4 * Long.parseLong(RELOAD_MS));
        Set<String> running = new TreeSet<>(relay.relay().routeFolder().routeFiles().keySet());
        Set<String> refused;
        try (Stream<Path> files = Files.list(routes)) {
            refused = relay.relay().routeFolder().failures().stream().map(f -> f.file().getFileName().toString())
                    .collect(Collectors.toCollection(TreeSet::new));
            for (Path file : files.toList()) {
                boolean runs = relay.relay().routeFolder().routeFiles().containsValue(file);
                assertTrue(runs ^ refused.contains(file.getFileName().toString()),
                        file + " either runs or is refused: running " + running + ", refused " + refused);
            }
        }
        assertDelivering(running);
    }

    private void awaitRefused(String file, String words) throws Exception {
        Pipelines.await(Duration.ofSeconds(10), file + " to be refused with \"" + words + "\"",
                () -> relay.relay().routeFolder().failures().stream().anyMatch(
                        f -> f.file().endsWith(file) && f.reason().contains(words)));
    }

    /** Each pipeline delivers a new message, and /metrics reports exactly these pipelines running. */
    private void assertDelivering(Set<String> pipelines) throws Exception {
        long id = db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{}')");
        Pipelines.await(Duration.ofSeconds(20), pipelines + " to deliver message " + id,
                () -> db.queryOne(Long.class, "SELECT count(DISTINCT pipeline) FROM delivered WHERE id = ?", id)
                        == pipelines.size());
        List<String> deliverers = db.queryOne(String.class,
                "SELECT string_agg(DISTINCT pipeline, ',' ORDER BY pipeline) FROM delivered WHERE id = ?", id)
                .lines().flatMap(l -> Stream.of(l.split(","))).toList();
        assertEquals(List.copyOf(new TreeSet<>(pipelines)), deliverers);
        AtomicReference<String> seen = new AtomicReference<>();
        try {
            awaitMetrics(pipelines, seen);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen " + seen.get(), e);
        }
    }

    private void awaitMetrics(Set<String> pipelines, AtomicReference<String> seen) throws Exception {
        Pipelines.await(Duration.ofSeconds(10), "/metrics to report " + pipelines + " running", () -> {
            Map<String, Double> metrics = Scrape.metrics(relay.managementUrl() + "/metrics");
            Set<String> held = metrics.entrySet().stream().filter(e -> e.getKey().startsWith("pg_tide_relay_lock_held{"))
                    .filter(e -> e.getValue() == 1.0)
                    .map(e -> e.getKey().replaceAll(".*pipeline=\"([^\"]*)\".*", "$1"))
                    .collect(Collectors.toCollection(TreeSet::new));
            // registrations are reported whether a pipeline runs or not: one removed after its first poll stays there
            Set<String> series = metrics.keySet().stream().filter(k -> k.contains("pipeline=\""))
                    .filter(k -> !k.startsWith("pg_tide_relay_registration_unseen_seconds"))
                    .map(k -> k.replaceAll(".*pipeline=\"([^\"]*)\".*", "$1"))
                    .collect(Collectors.toCollection(TreeSet::new));
            seen.set("lock held by " + held + ", series of " + series);
            return held.equals(new TreeSet<>(pipelines)) && series.equals(new TreeSet<>(pipelines));
        });
    }
}
