package io.pgtide.relay.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Promtool;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline whose file is deleted leaves its registration, which holds retention back: the relay exports how long
 * nobody has polled it, and the shipped alert rules, evaluated by promtool over a real scrape, flag it as abandoned
 * while the pipeline-down alert stays silent for it.
 */
class AbandonedPipelineAlertTest {


    @TempDir
    Path routes;
    @TempDir
    Path work;

    @Test
    void aDeletedPipelinesRegistrationFiresTheAbandonedAlertAndNotPipelineDown() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)");
            Files.writeString(routes.resolve("kept.yaml"), pipeline("kept"));
            Path dropped = routes.resolve("dropped.yaml");
            Files.writeString(dropped, pipeline("dropped"));
            try (RelayHarness relay = RelayHarness.start(db, routes, "alerts", Map.of(RelaySettings.RELOAD_INTERVAL.name(), "200"))) {
                String metrics = relay.managementUrl() + "/metrics";
                for (String pipeline : new String[] {"kept", "dropped"}) {
                    Pipelines.await(Duration.ofSeconds(30), pipeline + " to deliver",
                            () -> Pipelines.offset(db, pipeline) == Pipelines.lastRow(db, "orders"));
                }
                Files.delete(dropped);
                Pipelines.await(Duration.ofSeconds(30), "the deleted pipeline's lock series to go",
                        () -> Scrape.metrics(metrics).keySet().stream().noneMatch(
                                s -> s.startsWith("pg_tide_relay_lock_held") && s.contains("\"dropped\"")));
                // two hours without a poll, as if the file had gone two hours ago
                db.execute("UPDATE tide.relay_consumer_offsets SET last_seen_at = now() - interval '2 hours'"
                        + " WHERE pipeline = 'dropped'");
                String unseen = "pg_tide_relay_registration_unseen_seconds{outbox=\"orders\",pipeline=\"dropped\"}";
                Pipelines.await(Duration.ofSeconds(30), "the abandoned registration in /metrics",
                        () -> Scrape.metrics(metrics).getOrDefault(unseen, 0.0) > 7200);
                Map<String, Double> scrape = Scrape.metrics(metrics);
                assertTrue(scrape.get("pg_tide_relay_registration_unseen_seconds{outbox=\"orders\",pipeline=\"kept\"}") < 60,
                        "a running pipeline is seen: " + scrape);

                Promtool.assertSamples(Promtool.expression(Promtool.CNPG_RULES, "PgTideAbandonedPipeline"), scrape,
                        Promtool.CNPG_TARGET,
                        Map.of("{cnpg_io_cluster=\"db\", namespace=\"shop\", outbox=\"orders\", pipeline=\"dropped\"}",
                                scrape.get(unseen)), work);
                Promtool.assertSamples(Promtool.expression(Promtool.CNPG_RULES, "PgTidePipelineDown"), scrape,
                        Promtool.CNPG_TARGET, Map.of(), work);
            }
        }
    }

    private static String pipeline(String id) {
        return """
                - route:
                    id: %s
                    from:
                      uri: tide:orders?delay=100
                      steps:
                        - to: log:delivered?level=DEBUG
                """.formatted(id);
    }
}
