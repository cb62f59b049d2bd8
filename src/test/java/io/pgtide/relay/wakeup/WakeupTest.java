package io.pgtide.relay.wakeup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    private static final String PIPELINE = """
            - route:
                id: %1$s
                routeConfigurationId: pg-tide
                routePolicy: "#pgTideLock"
                from:
                  uri: "sql:SELECT * FROM tide.relay_poll('%1$s', '%2$s')"
                  parameters: { useIterator: false, greedy: true, delay: 60000, initialDelay: 0, scheduler: "#pgTideWakeup" }
                  steps:
                    - split:
                        simple: "${body}"
                        stopOnException: true
                        steps:
                          - to: "sql:INSERT INTO sink (pipeline, id) VALUES ('%1$s', :#${header.pg_tide_id}::bigint)?dataSource=#pgTide"
            """;

    @Test
    void anIdlePipelineIsWokenByEachCommitInsteadOfWaitingForItsNextPoll(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("orders.yaml"), PIPELINE.formatted("orders-sink", "orders"));
        Files.writeString(routes.resolve("other.yaml"), PIPELINE.formatted("other-sink", "other"));
        try (TestDatabase db = TestDatabase.withExtension()) {
            db.execute("SELECT tide.outbox_create('orders')");
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
                }
                Pipelines.await(Duration.ofSeconds(20), "every message, long before the next poll a minute away",
                        () -> db.queryOne(Long.class, "SELECT count(*) FROM sink") == 30);
                assertEquals(20L, db.queryOne(Long.class, "SELECT count(*) FROM sink WHERE pipeline = 'orders-sink'"));
                double slowest = db.queryOne(Double.class, "SELECT max(extract(epoch FROM s.at - m.created_at))::float8"
                        + " FROM sink s JOIN tide.tide_outbox_messages m ON m.id = s.id");
                assertTrue(slowest < 10, "slowest publish-to-sink time " + slowest + " s");
            }
        }
    }
}
