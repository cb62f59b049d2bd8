package io.pgtide.relay.metrics;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /metrics and the probes while a pipeline runs: the values agree with the database. */
class MetricsEndpointTest {

    @Test
    void scrapeMatchesTheDatabase(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("p.yaml"), PipelineYaml.logging("p", "orders"));
        Files.writeString(routes.resolve("q.yaml"), PipelineYaml.logging("q", "parked"));
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("SELECT tide.outbox_create('parked')");
            for (int i = 0; i < 25; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            try (RelayHarness relay = RelayHarness.start(db, routes, "scraped")) {
                long last = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");
                await(Duration.ofSeconds(20), "p to reach the last row while q delivers nothing", () -> offset(db, "p") == last && offset(db, "q") == 0);
                // q is held up by an open write transaction: its pending count and the open age show it
                try (Connection open = db.connect(); Statement st = open.createStatement()) {
                    open.setAutoCommit(false);
                    st.execute("SELECT tide.outbox_publish('parked', '{}')");
                    try (Connection c = db.connect(); Statement s2 = c.createStatement()) {
                        for (int i = 0; i < 3; i++) {
                            s2.execute("SELECT tide.outbox_publish('parked', '{}')");
                        }
                    }
                    Thread.sleep(1500);
                    Map<String, Double> metrics = Scrape.metrics(relay.managementUrl() + "/metrics");
                    assertEquals(25.0, metrics.get("pg_tide_relay_messages_total{outbox=\"orders\",pipeline=\"p\"}"));
                    assertEquals(1.0, metrics.get("pg_tide_relay_lock_held{pipeline=\"p\"}"));
                    assertEquals((double) last, metrics.get("pg_tide_relay_offset_id{outbox=\"orders\",pipeline=\"p\"}"));
                    assertEquals(0.0, metrics.get("pg_tide_relay_pending_messages{outbox=\"orders\",pipeline=\"p\"}"));
                    assertEquals(3.0, metrics.get("pg_tide_relay_pending_messages{outbox=\"parked\",pipeline=\"q\"}"));
                    assertTrue(metrics.get("pg_tide_relay_oldest_pending_age_seconds{outbox=\"parked\",pipeline=\"q\"}") > 0.5);
                    assertTrue(metrics.get("pg_tide_relay_oldest_open_transaction_age_seconds") > 0.5);
                    assertTrue(metrics.get("pg_tide_relay_batch_size_count{pipeline=\"p\"}") >= 1);
                    assertTrue(metrics.get("pg_tide_relay_batch_duration_seconds_count{pipeline=\"p\"}") >= 1);
                    assertEquals(0.0, metrics.get("pg_tide_relay_standby"));
                    assertTrue(metrics.keySet().stream().anyMatch(k -> k.startsWith("camel_exchanges_total") && k.contains("routeId=\"p\"")),
                            "Camel's route metrics are labelled by route id");
                    assertTrue(metrics.keySet().stream().noneMatch(k -> k.contains("relay_poll")),
                            "no label carries the poll SQL");
                    open.rollback();
                }
                assertEquals(200, Scrape.get(relay.managementUrl() + "/observe/health/live").statusCode());
                HttpResponse<String> ready = Scrape.get(relay.managementUrl() + "/observe/health/ready");
                assertEquals(200, ready.statusCode(), ready.body());
            }
        }
    }
}
