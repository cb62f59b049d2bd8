package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.SettingException;
import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** The extension's public functions and views: bad input gets a clear error and changes nothing; good input gives the documented results. */
class ExtensionInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A database of each test's own (JUnit makes an instance per test), dropped after it. */
    @AutoClose
    private final TestDatabase db;

    ExtensionInputTest() throws SQLException {
        db = TestDatabase.withExtension();
    }

    private SQLException failure(String sql, Object... params) {
        return assertThrows(SQLException.class, () -> {
            try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                    ps.setObject(i + 1, params[i]);
                }
                ps.execute();
            }
        }, sql);
    }

    private long count(String sql, Object... params) throws SQLException {
        return db.queryOne(Long.class, sql, params);
    }

    private long publish(String outbox, String payload) throws SQLException {
        return db.queryOne(Long.class, "SELECT tide.outbox_publish(?, ?::jsonb)", outbox, payload);
    }

    private long messages() throws SQLException {
        return count("SELECT count(*) FROM tide.tide_outbox_messages");
    }

    private Poller poller(String pipeline, String outbox) throws SQLException {
        return new Poller(db.connect(), db.connect(), pipeline, outbox);
    }

    /** Polls until the row is deliverable, without moving the offset. */
    private static Poller.Row awaitRow(Poller poller, long id) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Poller.Row row : poller.poll(1000)) {
                if (row.id() == id) {
                    return row;
                }
            }
            Thread.sleep(50);
        }
        return fail("row " + id + " was never delivered");
    }

    private static void advancePast(Poller poller, long id) throws Exception {
        assertTrue(poller.advance(awaitRow(poller, id)));
    }

    /** The statement fails with this SQLSTATE, and its message mentions the text. */
    private void assertRefused(String state, String text, String sql, Object... params) {
        SQLException error = failure(sql, params);
        assertEquals(state, error.getSQLState(), sql + " " + List.of(params));
        assertMentions(error, text);
    }

    private static void assertMentions(SQLException error, String text) {
        assertTrue(error.getMessage().contains(text), "expected " + text + " in: " + error.getMessage());
    }

    @Test
    void outboxCreateRefusesInvalidNames() throws SQLException {
        assertRefused("42602", "NULL", "SELECT tide.outbox_create(NULL)");
        for (String name : List.of("", "1abc", "a b", "x;drop table y", "a".repeat(64), "ünïcode", "abc\n")) {
            assertRefused("42602", "'" + name + "'", "SELECT tide.outbox_create(?::text)", name);
        }
        assertEquals(0, count("SELECT count(*) FROM tide.tide_outbox_config"));
    }

    @Test
    void outboxCreateAcceptsNamesUpTo63AllowedCharacters() throws SQLException {
        for (String name : List.of("a", "Orders.v2_eu-west", "a".repeat(63))) {
            db.execute("SELECT tide.outbox_create('" + name + "')");
        }
        assertEquals(3, count("SELECT count(*) FROM tide.tide_outbox_config"));
    }

    /** The relay checks names before it can ask the database (settings, route files): by the same rule. */
    @Test
    void relayNamesFollowTheExtensionsRule() throws SQLException {
        for (String name : List.of("", "1abc", "a b", "x;drop", "a:1", "a".repeat(64), "ünïcode", "abc\n", "_a",
                "a", "Orders.v2_eu-west", "a".repeat(63), "Z-9")) {
            boolean valid;
            try {
                RelaySettings.name("name", name);
                valid = true;
            } catch (SettingException e) {
                valid = false;
            }
            assertEquals(db.queryOne(Boolean.class, "SELECT tide.is_name(?)", name), valid, name);
        }
    }

    @Test
    void outboxCreateRefusesANegativeOrNullRetention() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders', 24)");
        for (String retention : List.of("-1", "NULL")) {
            assertRefused("22023", "retention", "SELECT tide.outbox_create('orders', " + retention + ")");
        }
        SQLException fresh = failure("SELECT tide.outbox_create('fresh', -5)");
        assertMentions(fresh, "retention");
        assertEquals(24, count("SELECT retention_hours::bigint FROM tide.tide_outbox_config WHERE outbox_name = 'orders'"));
        assertEquals(0, count("SELECT count(*) FROM tide.tide_outbox_config WHERE outbox_name = 'fresh'"));
    }

    @Test
    void outboxCreateOfAnExistingNameUpdatesItsRetention() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders', 24)");
        db.execute("SELECT tide.outbox_create('orders', 48)");
        assertEquals(48, count("SELECT retention_hours::bigint FROM tide.tide_outbox_config WHERE outbox_name = 'orders'"));
        assertEquals(1, count("SELECT count(*) FROM tide.tide_outbox_config"));
    }

    @Test
    void publishingToAnUnknownOutboxIsAnErrorNamingIt() throws SQLException {
        assertRefused("42704", "\"nowhere\"", "SELECT tide.outbox_publish('nowhere', '{}')");
        assertEquals(0, messages());
    }

    @Test
    void publishingANullPayloadIsAnError() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        SQLException error = failure("SELECT tide.outbox_publish('orders', NULL)");
        assertEquals("22004", error.getSQLState());
        assertEquals(0, messages());
    }

    @Test
    void headersThatAreNotAJsonObjectAreAnError() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        for (String headers : List.of("[1, 2]", "\"text\"", "3", "null")) {
            assertRefused("22023", "JSON object", "SELECT tide.outbox_publish('orders', '{}', ?::jsonb)", headers);
        }
        assertEquals(0, messages());
    }

    @Test
    void nullHeadersAreStoredAsAnEmptyObject() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        long id = db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{}', NULL)");
        assertEquals("{}", db.queryOne(String.class, "SELECT headers::text FROM tide.tide_outbox_messages WHERE id = ?", id));
    }

    @Test
    void publishReturnsTheNewIdAndStoresTheKey() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        long first = db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{\"n\": 1}', '{\"h\": \"v\"}', 'order-17')");
        long second = publish("orders", "{\"n\": 2}");
        assertTrue(second > first);
        assertEquals("order-17", db.queryOne(String.class, "SELECT key FROM tide.tide_outbox_messages WHERE id = ?", first));
        assertEquals("{\"h\": \"v\"}", db.queryOne(String.class, "SELECT headers::text FROM tide.tide_outbox_messages WHERE id = ?", first));
        assertNull(db.queryOne(String.class, "SELECT key FROM tide.tide_outbox_messages WHERE id = ?", second));
        assertEquals(2, messages());
    }

    @Test
    void aUnicodeNestedPayloadRoundTripsUnchanged() throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        String payload = "{\"text\": \"ünïcode ✓ 日本語 😀\", \"escaped\": \"line\\nbreak \\\"quoted\\\" \\\\ tab\\t\","
                + " \"nested\": {\"list\": [1, 2.50, -300, null, true, {\"deep\": [\"a\", {\"ключ\": \"значение\"}]}], \"empty\": {}}}";
        long id = publish("orders", payload);
        assertEquals(Boolean.TRUE, db.queryOne(Boolean.class,
                "SELECT payload = ?::jsonb FROM tide.tide_outbox_messages WHERE id = ?", payload, id));
        String stored = db.queryOne(String.class, "SELECT payload::text FROM tide.tide_outbox_messages WHERE id = ?", id);
        assertEquals(JSON.readTree(payload), JSON.readTree(stored));
        try (Poller p1 = poller("p1", "orders")) {
            assertEquals(JSON.readTree(payload), JSON.readTree(awaitRow(p1, id).payload()));
        }
    }

    @Test
    void pollingAnUnknownOutboxIsAnErrorNamingIt() throws SQLException {
        assertRefused("42704", "\"nowhere\"", "SELECT count(*) FROM tide.relay_poll('p1', 'nowhere')");
        assertEquals(0, count("SELECT count(*) FROM tide.relay_consumer_offsets"));
    }

    @Test
    void pollingWithAnInvalidPipelineNameIsRefused() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        for (String pipeline : List.of("", "9lives", "bad pipeline", "p1;drop table y")) {
            assertRefused("42602", "'" + pipeline + "'", "SELECT count(*) FROM tide.relay_poll(?::text, 'orders')", pipeline);
        }
        assertEquals("42602", failure("SELECT count(*) FROM tide.relay_poll(NULL, 'orders')").getSQLState());
        assertEquals(0, count("SELECT count(*) FROM tide.relay_consumer_offsets"));
    }

    @Test
    void statusOfAnUnknownOutboxIsAnErrorNamingIt() {
        assertRefused("42704", "\"nowhere\"", "SELECT tide.outbox_status('nowhere')");
    }

    @Test
    void statusCountsMessagesPendingAndPipelines() throws Exception {
        db.execute("SELECT tide.outbox_create('orders', 12)");
        long first = publish("orders", "{\"n\": 1}");
        publish("orders", "{\"n\": 2}");
        publish("orders", "{\"n\": 3}");
        try (Poller p1 = poller("p1", "orders")) {
            advancePast(p1, first);
            JsonNode status = JSON.readTree(db.queryOne(String.class, "SELECT tide.outbox_status('orders')::text"));
            assertEquals("orders", status.get("outbox").asText());
            assertEquals(12, status.get("retention_hours").asInt());
            assertEquals(3, status.get("messages").asLong());
            assertEquals(2, status.get("pending").asLong());
            JsonNode pipelines = status.get("pipelines");
            assertEquals(1, pipelines.size(), status.toString());
            assertEquals("p1", pipelines.get(0).get("pipeline").asText());
            assertEquals("default", pipelines.get(0).get("relay_group").asText());
            assertEquals(first, pipelines.get(0).get("last_id").asLong());
            assertEquals(2, pipelines.get(0).get("pending").asLong());
        }
    }

    @Test
    void statusOfAnOutboxWithoutPipelinesHasAnEmptyPipelinesArray() throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        publish("orders", "{}");
        JsonNode status = JSON.readTree(db.queryOne(String.class, "SELECT tide.outbox_status('orders')::text"));
        assertEquals(1, status.get("messages").asLong());
        assertTrue(status.get("pipelines").isArray());
        assertEquals(0, status.get("pipelines").size());
    }

    @Test
    void outboxDropRemovesThatOutboxsMessagesAndOffsetsOnly() throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        db.execute("SELECT tide.outbox_create('audit')");
        publish("orders", "{}");
        publish("orders", "{}");
        long kept = publish("audit", "{}");
        try (Poller orders = poller("orders-feed", "orders"); Poller audit = poller("audit-feed", "audit")) {
            orders.poll(1);
            advancePast(audit, kept);
            db.execute("SELECT tide.outbox_drop('orders')");
        }
        assertEquals(0, count("SELECT count(*) FROM tide.tide_outbox_config WHERE outbox_name = 'orders'"));
        assertEquals(0, count("SELECT count(*) FROM tide.tide_outbox_messages WHERE outbox_name = 'orders'"));
        assertEquals(0, count("SELECT count(*) FROM tide.relay_consumer_offsets WHERE outbox_name = 'orders'"));
        assertEquals(1, count("SELECT count(*) FROM tide.tide_outbox_config WHERE outbox_name = 'audit'"));
        assertEquals(kept, count("SELECT id FROM tide.tide_outbox_messages WHERE outbox_name = 'audit'"));
        assertEquals(kept, count("SELECT last_id FROM tide.relay_consumer_offsets WHERE outbox_name = 'audit'"));
    }

    @Test
    void droppingAnUnknownOutboxIsAnErrorNamingIt() throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        publish("orders", "{}");
        assertRefused("42704", "\"nowhere\"", "SELECT tide.outbox_drop('nowhere')");
        assertEquals(1, count("SELECT count(*) FROM tide.tide_outbox_config"));
        assertEquals(1, messages());
    }

    @Test
    void consumerLagAndOutboxPendingGiveTheExpectedNumbers() throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        db.execute("SELECT tide.outbox_create('audit')");
        long first = publish("orders", "{\"n\": 1}");
        long second = publish("orders", "{\"n\": 2}");
        publish("orders", "{\"n\": 3}");
        publish("audit", "{}");
        db.execute("UPDATE tide.tide_outbox_messages SET created_at = now() - interval '2 hours' WHERE id = " + first);
        db.execute("UPDATE tide.tide_outbox_messages SET created_at = now() - interval '1 hour' WHERE id = " + second);
        try (Poller ahead = poller("ahead", "orders"); Poller idle = poller("idle", "orders");
             Connection c = db.connect(); Statement st = c.createStatement()) {
            advancePast(ahead, first);
            idle.poll(1);
            try (ResultSet rs = st.executeQuery("SELECT pipeline, pending, oldest_pending_age_seconds FROM tide.consumer_lag"
                    + " WHERE outbox_name = 'orders' ORDER BY pipeline")) {
                assertTrue(rs.next());
                assertEquals("ahead", rs.getString(1));
                assertEquals(2, rs.getLong(2));
                assertBetween(3600, 3660, rs.getDouble(3));
                assertTrue(rs.next());
                assertEquals("idle", rs.getString(1));
                assertEquals(3, rs.getLong(2));
                assertBetween(7200, 7260, rs.getDouble(3));
                assertFalse(rs.next());
            }
            try (ResultSet rs = st.executeQuery("SELECT outbox_name, retention_hours, messages, pending,"
                    + " oldest_pending_age_seconds, pipelines FROM tide.outbox_pending ORDER BY outbox_name")) {
                assertTrue(rs.next());
                assertEquals("audit", rs.getString(1));
                assertEquals(1, rs.getLong(3));
                assertEquals(0, rs.getLong(4));
                assertEquals(0.0, rs.getDouble(5));
                assertEquals(0, rs.getLong(6));
                assertTrue(rs.next());
                assertEquals("orders", rs.getString(1));
                assertEquals(24, rs.getInt(2));
                assertEquals(3, rs.getLong(3));
                assertEquals(3, rs.getLong(4));
                assertBetween(7200, 7260, rs.getDouble(5));
                assertEquals(2, rs.getLong(6));
                assertFalse(rs.next());
            }
        }
    }

    @Test
    void consumerLagShowsTheAgeOfAnOpenWritingTransaction() throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        try (Poller p1 = poller("p1", "orders"); Connection open = db.connect(); Statement writer = open.createStatement()) {
            p1.poll(1);
            open.setAutoCommit(false);
            writer.execute("SELECT pg_current_xact_id()");
            Thread.sleep(300);
            double age = db.queryOne(Double.class, "SELECT oldest_open_tx_age_seconds FROM tide.consumer_lag WHERE pipeline = 'p1'");
            assertTrue(age >= 0.3, "open transaction age " + age);
            open.rollback();
        }
    }

    @Test
    void dropExtensionRemovesSchemaTide() throws Exception {
        db.execute("SELECT tide.outbox_create('orders')");
        publish("orders", "{}");
        try (Poller p1 = poller("p1", "orders")) {
            p1.poll(1);
        }
        db.execute("DROP EXTENSION pg_tide");
        assertEquals(0, count("SELECT count(*) FROM pg_namespace WHERE nspname = 'tide'"));
        assertEquals(0, count("SELECT count(*) FROM pg_extension WHERE extname = 'pg_tide'"));
        db.execute("CREATE EXTENSION pg_tide");
        assertEquals(0, count("SELECT count(*) FROM tide.tide_outbox_config"));
    }

    private static void assertBetween(double low, double high, double actual) {
        assertTrue(actual >= low && actual <= high, actual + " not in [" + low + ", " + high + "]");
    }
}
