package io.pgtide.relay.deadletter;

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
 * Invariant 7 of docs/DESIGN.md: a message the sink rejects for good goes to tide.relay_dlq and its neighbours
 * flow on; an outage sends nothing there; a dead letter that cannot be written never moves the offset.
 * The sink is a table whose trigger rejects payloads marked poison (a data exception, SQLSTATE 22023).
 */
class DeadLetterTest {

    private static final String PIPELINE = PipelineYaml.perMessage("to-table", "orders",
            "sql:INSERT INTO sink (id, payload) VALUES (:#${header.pg_tide_id}::bigint, :#${body}::jsonb)?dataSource=#pgTide");

    private TestDatabase db;

    @BeforeEach
    void sink() throws Exception {
        System.setProperty("pg-tide.redelivery.delay", "50");
        db = TestDatabase.withOutbox("orders");
        db.execute("CREATE TABLE sink (id bigint, payload jsonb)");
        db.execute("CREATE FUNCTION reject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.payload ? 'poison' THEN RAISE EXCEPTION 'poison refused' USING ERRCODE = '22023'; END IF;"
                + " RETURN NEW; END $$");
        db.execute("CREATE TRIGGER reject BEFORE INSERT ON sink FOR EACH ROW EXECUTE FUNCTION reject()");
    }

    @AfterEach
    void drop() throws Exception {
        System.clearProperty("pg-tide.redelivery.delay");
        db.close();
    }

    private void publish(int count, int poisonAt) throws Exception {
        for (int i = 0; i < count; i++) {
            db.execute("SELECT tide.outbox_publish('orders', '" + (i == poisonAt ? "{\"poison\": true}" : "{\"n\": " + i + "}")
                    + "', '{}', 'k" + (i % 3) + "')");
        }
    }

    @Test
    void aPoisonMessageGoesToTheDeadLettersAndItsNeighboursAreDelivered(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("to-table.yaml"), PIPELINE);
        publish(30, 14);
        long poison = db.queryOne(Long.class, "SELECT id FROM tide.tide_outbox_messages WHERE payload->>'poison' IS NOT NULL");
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay", Map.of())) {
            long last = Pipelines.lastRow(db, "orders");
            Pipelines.await(Duration.ofSeconds(30), "the offset past the poison", () -> Pipelines.offset(db, "to-table") == last);
            assertEquals(29L, db.queryOne(Long.class, "SELECT count(DISTINCT id) FROM sink"), "every neighbour delivered");
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM sink WHERE id = ?", poison));
            assertEquals(poison, db.queryOne(Long.class, "SELECT message_id FROM tide.relay_dlq WHERE resolved_at IS NULL"));
            String error = db.queryOne(String.class, "SELECT error FROM tide.relay_dlq");
            assertTrue(error.contains("poison refused"), error);
            assertEquals("k2", db.queryOne(String.class, "SELECT key FROM tide.relay_dlq"));
            Pipelines.await(Duration.ofSeconds(10), "the DLQ depth metric", () -> Scrape.metrics(relay.managementUrl()
                    + "/metrics").getOrDefault("pg_tide_relay_dlq_messages{outbox=\"orders\",pipeline=\"to-table\"}", 0.0) == 1.0);

            // the consumer fixed: requeue puts it back as a new message, which is delivered
            db.execute("DROP TRIGGER reject ON sink");
            long requeued = db.queryOne(Long.class, "SELECT tide.dlq_requeue(dlq_id) FROM tide.relay_dlq");
            Pipelines.await(Duration.ofSeconds(20), "the requeued message", () ->
                    db.queryOne(Long.class, "SELECT count(*) FROM sink WHERE id = ?", requeued) == 1);
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_dlq WHERE resolved_at IS NULL"));
        }
    }

    @Test
    void aDeadLetterThatCannotBeWrittenNeverMovesTheOffset(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("to-table.yaml"), PIPELINE);
        db.execute("ALTER TABLE tide.relay_dlq ADD CONSTRAINT dlq_down CHECK (false) NOT VALID");
        publish(5, 2);
        long poison = db.queryOne(Long.class, "SELECT id FROM tide.tide_outbox_messages WHERE payload->>'poison' IS NOT NULL");
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay", Map.of())) {
            Pipelines.await(Duration.ofSeconds(20), "the messages before the poison",
                    () -> Pipelines.offset(db, "to-table") == poison - 1);
            Thread.sleep(2000);
            assertEquals(poison - 1, Pipelines.offset(db, "to-table"), "the offset waits for the dead letter");
            db.execute("ALTER TABLE tide.relay_dlq DROP CONSTRAINT dlq_down");
            long last = Pipelines.lastRow(db, "orders");
            Pipelines.await(Duration.ofSeconds(20), "the rest", () -> Pipelines.offset(db, "to-table") == last);
            assertEquals(1L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_dlq WHERE message_id = ?", poison));
        }
    }

    @Test
    void anOutageSendsNothingToTheDeadLetters(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("to-table.yaml"), PIPELINE.replace("INSERT INTO sink", "INSERT INTO sink_later"));
        publish(10, -1);
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay", Map.of())) {
            Thread.sleep(3000);
            assertEquals(0L, Pipelines.offset(db, "to-table"), "nothing delivered while the sink is missing");
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_dlq"), "no dead letters");
            db.execute("CREATE TABLE sink_later (id bigint, payload jsonb)");
            long last = Pipelines.lastRow(db, "orders");
            Pipelines.await(Duration.ofSeconds(30), "delivery once the sink exists", () -> Pipelines.offset(db, "to-table") == last);
        }
    }
}
