package io.pgtide.relay.offset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invariant 2 of docs/DESIGN.md: a batch the sink rejects never moves the offset; once the sink accepts again,
 * every message arrives. The sink here is a table whose trigger rejects inserts while told to, as an unavailable
 * server does (SQLSTATE 57P03): an outage, which sends nothing to the dead letters however long it lasts.
 */
class SinkFailureTest {

    private static final String PIPELINE = PipelineYaml.perMessage("to-table", "orders",
            "sql:INSERT INTO sink (id) VALUES (:#${header.pg_tide_id}::bigint)?dataSource=#pgTide");

    @BeforeEach
    void noRetries() {
        System.setProperty("pg-tide.redelivery.maximum", "0");
    }

    @AfterEach
    void defaultRetries() {
        System.clearProperty("pg-tide.redelivery.maximum");
    }

    @Test
    void aRejectedBatchNeverMovesTheOffsetAndArrivesOnceTheSinkRecovers(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("to-table.yaml"), PIPELINE);
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("CREATE TABLE sink (id bigint)");
            db.execute("CREATE TABLE sink_down (down boolean)");
            db.execute("INSERT INTO sink_down VALUES (false)");
            db.execute("CREATE FUNCTION reject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF (SELECT down FROM sink_down) THEN RAISE EXCEPTION 'sink is down' USING ERRCODE = '57P03'; END IF; RETURN NEW; END $$");
            db.execute("CREATE TRIGGER reject BEFORE INSERT ON sink FOR EACH ROW EXECUTE FUNCTION reject()");
            for (int i = 0; i < 10; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay", Map.of())) {
                long first = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(20), "the first messages", () -> Pipelines.offset(db, "to-table") == first);

                db.execute("UPDATE sink_down SET down = true");
                for (int i = 0; i < 10; i++) {
                    db.execute("SELECT tide.outbox_publish('orders', '{}')");
                }
                Pipelines.await(Duration.ofSeconds(20), "rejected batches to be counted", () -> sinkFailures(relay) >= 3);
                // two more rejections after those: an advance on failure would have happened by then
                double counted = sinkFailures(relay);
                Pipelines.await(Duration.ofSeconds(20), "two more rejected batches", () -> sinkFailures(relay) >= counted + 2);
                assertEquals(first, Pipelines.offset(db, "to-table"), "a rejected batch does not move the offset");

                db.execute("UPDATE sink_down SET down = false");
                long last = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(20), "delivery after the sink recovered",
                        () -> Pipelines.offset(db, "to-table") == last);
                assertEquals(20L, db.queryOne(Long.class, "SELECT count(DISTINCT id) FROM sink"), "every message arrived");
                assertTrue(relay.relay().locks().owns("to-table"));
            }
        }
    }

    private static double sinkFailures(RelayHarness relay) throws Exception {
        return Scrape.metrics(relay.managementUrl() + "/metrics")
                .getOrDefault("pg_tide_relay_failures_total{cause=\"sink\",pipeline=\"to-table\"}", 0.0);
    }
}
