package io.pgtide.relay.wakeup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An idle pipeline delivers a committed message at once, woken by the notification of
 * {@code tide.outbox_publish}, not at its next poll (a minute away here); messages committed while a
 * woken poll runs are not left for the next poll either, and a standby-free relay keeps listening.
 */
class WakeupTest {

    /** Pipeline {@code id} over {@code outbox}, polled only when woken (or once a minute). */
    private static String pipeline(String id, String outbox) {
        return PipelineYaml.perMessage(id, outbox, "useIterator: false, greedy: true, delay: 60000, initialDelay: 0,"
                + " scheduler: \"#pgTideWakeup\"",
                "sql:INSERT INTO sink (pipeline, id) VALUES ('" + id + "', :#${header.pg_tide_id}::bigint)?dataSource=#pgTide");
    }

    @Test
    void anIdlePipelineIsWokenByEachCommitInsteadOfWaitingForItsNextPoll(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("orders.yaml"), pipeline("orders-sink", "orders"));
        Files.writeString(routes.resolve("other.yaml"), pipeline("other-sink", "other"));
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("SELECT tide.outbox_create('other')");
            db.execute("CREATE TABLE sink (pipeline text, id bigint, at timestamptz DEFAULT clock_timestamp())");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                Pipelines.await(Duration.ofSeconds(20), "both pipelines' first poll",
                        () -> Pipelines.offset(db, "orders-sink") >= 0 && Pipelines.offset(db, "other-sink") >= 0);
                try (Connection c = db.connect(); Statement st = c.createStatement()) {
                    for (int i = 0; i < 30; i++) {
                        String outbox = i % 3 == 0 ? "other" : "orders";
                        st.execute("SELECT tide.outbox_publish('" + outbox + "', '{\"n\": " + i + "}')");
                        Thread.sleep(i % 5 == 0 ? 200 : 20);
                    }
                    // a publish that reads the flag before an empty poll has committed it neither wakes nor is seen
                    // by that poll (ADR 5): the next publish covers it, so the last one comes once both pipelines wait
                    for (String outbox : new String[] {"orders", "other"}) {
                        Pipelines.await(Duration.ofSeconds(20), outbox + "'s pipeline waiting", () -> db.queryOne(
                                Boolean.class, "SELECT relay_waiting FROM tide.tide_outbox_config WHERE outbox_name = '"
                                        + outbox + "'"));
                        st.execute("SELECT tide.outbox_publish('" + outbox + "', '{\"last\": true}')");
                    }
                }
                Pipelines.await(Duration.ofSeconds(20), "every message, long before the next poll a minute away",
                        () -> db.queryOne(Long.class, "SELECT count(*) FROM sink") == 32);
                assertEquals(21L, db.queryOne(Long.class, "SELECT count(*) FROM sink WHERE pipeline = 'orders-sink'"));
                double slowest = db.queryOne(Double.class, "SELECT max(extract(epoch FROM s.at - m.created_at))::float8"
                        + " FROM sink s JOIN tide.tide_outbox_messages m ON m.id = s.id");
                assertTrue(slowest < 10, "slowest publish-to-sink time " + slowest + " s");
            }
        }
    }
}
