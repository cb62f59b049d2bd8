package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TcpProxy;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/routes/orders-to-inbox.yaml against the machine's PostgreSQL: every batch lands in the inbox
 * of a second database (or the relay's own) in one statement, an event delivered twice is stored once,
 * the offset never passes an event the inbox has not committed (checked continuously through a connection
 * cut), order per key is kept, and a bad target URL fails only its pipeline with an error naming the setting.
 */
class PostgresInboxSinkTest {

    private static final String EXAMPLE = "examples/routes/orders-to-inbox.yaml";
    private static final String PIPELINE = "orders-to-inbox";

    @Test
    void deliversToASecondDatabaseAndABatchDeliveredTwiceLandsOnce(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withExtension(); TestDatabase target = TestDatabase.create()) {
            target.execute("CREATE EXTENSION pg_tide");
            target.execute("SELECT tide.inbox_create('orders')");
            db.execute("SELECT tide.outbox_create('orders')");
            writePipeline(routes, PIPELINE, url(target, target.server().port()));
            List<Long> committed = new ArrayList<>(Producers.publish(db, "orders", 4, 1500));
            committed.add(db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{\"keyless\": true}')"));
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, PIPELINE) == last);
            }

            OutboxRows rows = OutboxRows.of(db, "orders");
            try (Connection c = target.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT event_id, source, key, headers::text, payload::text,"
                         + " processed_at, attempts FROM tide.inbox_orders ORDER BY id")) {
                List<Long> arrived = new ArrayList<>();
                while (rs.next()) {
                    String eventId = rs.getString(1);
                    assertTrue(eventId.startsWith("orders:"), eventId);
                    long id = Long.parseLong(eventId.substring("orders:".length()));
                    arrived.add(id);
                    assertEquals("orders", rs.getString(2));
                    assertEquals(rows.key.get(id), rs.getString(3), "the row's key");
                    assertEquals(rows.headers.get(id), rs.getString(4), "the row's headers, and only those");
                    assertEquals(rows.payload.get(id), rs.getString(5), "the payload as jsonb");
                    assertEquals(null, rs.getTimestamp(6));
                    assertEquals(0, rs.getInt(7));
                }
                assertEquals(rows.order, arrived, "every event once, stored in (tx, id) order");
                assertEquals(new HashSet<>(committed), new HashSet<>(arrived));
            }

            // deliver everything again, as a relay does after a crash before its offset moved
            db.execute("UPDATE tide.relay_consumer_offsets SET last_tx = '0', last_id = 0 WHERE pipeline = '" + PIPELINE + "'");
            target.execute("SELECT tide.inbox_mark_processed('orders', 'orders:" + rows.order.get(0) + "')");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row again", () -> offset(db, PIPELINE) == last);
            }
            assertEquals((long) committed.size(), target.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders"),
                    "every batch was written twice and stored once");
            assertEquals(1L, target.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders WHERE processed_at IS NOT NULL"),
                    "a redelivered event does not undo its processing");
        }
    }

    @Test
    void aConnectionCutNeverLetsTheOffsetPassAnUncommittedEvent(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withExtension(); TestDatabase target = TestDatabase.create();
             TcpProxy proxy = TcpProxy.to(db.server().host(), db.server().port())) {
            target.execute("CREATE EXTENSION pg_tide");
            target.execute("SELECT tide.inbox_create('orders')");
            db.execute("SELECT tide.outbox_create('orders')");
            writePipeline(routes, PIPELINE, url(target, proxy.port()));
            try (OffsetWatch watch = OffsetWatch.start(db, target)) {
                // the inbox commits before the offset moves: what the offset passed is there at once
                List<Long> committed = ConnectionCut.run(db, routes, PIPELINE, proxy, "the inbox", Duration.ZERO,
                        () -> target.queryList(Long.class, "SELECT split_part(event_id, ':', 2)::bigint FROM tide.inbox_orders"));
                watch.stop();
                assertTrue(watch.checks.get() > 20, "the offset was checked all along (" + watch.checks.get() + " times)");
                assertEquals(null, watch.violation.get(), "the offset passed events the inbox did not have");

                List<Long> arrived = target.queryList(Long.class,
                        "SELECT split_part(event_id, ':', 2)::bigint FROM tide.inbox_orders ORDER BY id");
                OutboxRows.assertNoneLost(committed, arrived);
                assertEquals(committed.size(), arrived.size(), "each event once, the cut's redeliveries included");
                OutboxRows.of(db, "orders").assertOrderPerKey(arrived);
            }
        }
    }

    @Test
    void aBadTargetUrlFailsOnlyItsPipelineAndNamesTheSetting(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); LogCapture log = LogCapture.open()) {
            db.execute("SELECT tide.inbox_create('orders')");
            // the good pipeline writes to the relay's own database, through the relay's pool, as the example says
            String own = Files.readString(Path.of(EXAMPLE)).replace("dataSource: \"#ordersInbox\"", "dataSource: \"#pgTide\"");
            Files.writeString(routes.resolve(PIPELINE + ".yaml"), own);
            writePipeline(routes, "orders-to-nowhere", "postgresql://postgres:secret-pw@no-such-host.invalid:5432/inbox");
            writePipeline(routes, "orders-to-mysql", "mysql://localhost:3306/inbox");
            Producers.publish(db, "orders", 2, 300);
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the good pipeline to deliver", () -> offset(db, PIPELINE) == last);
                await(Duration.ofSeconds(20), "an error naming the setting and the unknown host",
                        () -> log.contains("inbox.url", "no-such-host.invalid"));
                await(Duration.ofSeconds(20), "an error naming the setting and what is wrong with the URL",
                        () -> log.contains("inbox.url must start with postgresql://"));
                assertTrue(offset(db, "orders-to-nowhere") <= 0, "the pipeline to an unknown host delivered nothing");
                assertTrue(offset(db, "orders-to-mysql") <= 0, "the pipeline with a malformed URL delivered nothing");
                System.out.println("errors as logged:\n  " + log.find("inbox.url", "no-such-host.invalid")
                        + "\n  " + log.find("inbox.url must start"));
                // test time only: a stopping relay lets in-flight batches finish their retries (up to 30 s)
                relay.context().getShutdownStrategy().setTimeout(2);
            }
            assertFalse(log.contains("secret-pw"), "the password is never logged");
            assertEquals(300L, db.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders"));
        }
    }

    /** The example pipeline with its id, bean name and target URL swapped, as the relay would load it. */
    private static void writePipeline(Path folder, String pipeline, String url) throws Exception {
        String yaml = Files.readString(Path.of(EXAMPLE))
                .replace(PIPELINE, pipeline)
                .replace("ordersInbox", pipeline.replace("-", "") + "Db")
                .replace("{{inbox.url:postgresql://localhost:5432/inbox}}", url);
        Files.writeString(folder.resolve(pipeline + ".yaml"), yaml);
    }

    private static String url(TestDatabase target, int port) {
        return "postgresql://postgres:postgres@" + target.server().host() + ":" + port + "/" + target.name();
    }

    /**
     * Checks, over and over while the relay runs, that every outbox row up to the pipeline's offset is in
     * the inbox: the offset is read first, the inbox after it, so a pass is proof the inbox had committed
     * them before the offset moved.
     */
    private static final class OffsetWatch implements AutoCloseable {
        final AtomicInteger checks = new AtomicInteger();
        final AtomicReference<String> violation = new AtomicReference<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        private OffsetWatch(TestDatabase db, TestDatabase target) {
            thread = new Thread(() -> {
                try (Connection source = db.connect(); Connection inbox = target.connect()) {
                    while (running.get() && violation.get() == null) {
                        check(source, inbox);
                        checks.incrementAndGet();
                        Thread.sleep(100);
                    }
                } catch (Exception e) {
                    violation.compareAndSet(null, "watch failed: " + e);
                }
            }, "offset-watch");
            thread.start();
        }

        static OffsetWatch start(TestDatabase db, TestDatabase target) {
            return new OffsetWatch(db, target);
        }

        private void check(Connection source, Connection inbox) throws SQLException {
            List<String> below = new ArrayList<>();
            try (Statement st = source.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT 'orders:' || m.id FROM tide.tide_outbox_messages m, tide.relay_consumer_offsets o"
                            + " WHERE o.pipeline = '" + PIPELINE + "' AND m.outbox_name = 'orders'"
                            + " AND (m.tx, m.id) <= (o.last_tx, o.last_id)")) {
                while (rs.next()) {
                    below.add(rs.getString(1));
                }
            }
            Set<String> stored = new HashSet<>();
            try (Statement st = inbox.createStatement(); ResultSet rs = st.executeQuery("SELECT event_id FROM tide.inbox_orders")) {
                while (rs.next()) {
                    stored.add(rs.getString(1));
                }
            }
            for (String id : below) {
                if (!stored.contains(id)) {
                    violation.compareAndSet(null, id + " is at or below the offset but not in the inbox");
                }
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }
}
