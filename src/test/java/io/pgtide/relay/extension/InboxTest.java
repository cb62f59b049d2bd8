package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.Names;
import io.pgtide.relay.testing.PgServer;
import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Inboxes: tide.inbox_create makes a table per inbox; tide.inbox_write stores a batch in one statement,
 * each event id once however often it comes; the consuming application marks events processed or
 * failed; writing and marking need an explicit EXECUTE grant, never a privilege on the table.
 */
class InboxTest {

    private static final String BATCH = """
            [{"id": "orders:1", "key": "k1", "headers": {"type": "order.created"}, "payload": {"order": 1}},
             {"id": "orders:2", "key": null, "headers": {}, "payload": [1, "two"]},
             {"id": "orders:3", "key": "k1", "payload": "just text", "source": "east"}]""";

    private TestDatabase db;
    private final List<String> roles = new ArrayList<>();

    @BeforeEach
    void createDatabase() throws SQLException {
        db = TestDatabase.withExtension();
    }

    @AfterEach
    void dropDatabase() throws SQLException {
        db.close();
        try (Connection c = PgServer.get().connect("postgres"); Statement st = c.createStatement()) {
            for (String role : roles) {
                st.execute("DROP ROLE IF EXISTS " + role);
            }
        }
    }

    private int write(String inbox, String events) throws SQLException {
        return db.queryOne(Integer.class, "SELECT tide.inbox_write(?, ?::jsonb)", inbox, events);
    }

    private SQLException failure(String sql, Object... params) {
        return assertThrows(SQLException.class, () -> db.queryOne(Object.class, sql, params), sql);
    }

    @Test
    void createMakesATableInSchemaTideOnceAndRefusesBadNames() throws SQLException {
        assertEquals("tide.inbox_orders", db.queryOne(String.class, "SELECT tide.inbox_create('orders')"));
        assertEquals("tide.inbox_orders", db.queryOne(String.class, "SELECT tide.inbox_create('orders')"), "again: no-op");
        // quoted with %I: the whole check_name alphabet works as a table name
        assertEquals("tide.\"inbox_Orders.v1-eu\"", db.queryOne(String.class, "SELECT tide.inbox_create('Orders.v1-eu')"));
        assertEquals(1, write("Orders.v1-eu", "[{\"id\": \"x:1\", \"payload\": 1}]"));
        String longest = "a".repeat(57);
        assertEquals("tide.inbox_" + longest, db.queryOne(String.class, "SELECT tide.inbox_create(?)", longest));
        assertEquals(List.of("Orders.v1-eu", longest, "orders"), column("SELECT inbox_name FROM tide.tide_inbox_config"
                + " ORDER BY inbox_name COLLATE \"C\""));

        for (String bad : new String[] {"1orders", "orders; DROP TABLE x", "a b", "", "a".repeat(58)}) {
            SQLException e = failure("SELECT tide.inbox_create(?)", bad);
            assertEquals("42602", e.getSQLState(), bad);
            assertTrue(e.getMessage().contains("invalid inbox name"), e.getMessage());
        }
        assertEquals(3L, db.queryOne(Long.class, "SELECT count(*) FROM pg_tables WHERE schemaname = 'tide'"
                + " AND tablename LIKE 'inbox%'"), "no table for a refused name");
    }

    @Test
    void aBatchIsWrittenInOneCallAndAnEventIdLandsOnce() throws SQLException {
        db.execute("SELECT tide.inbox_create('orders')");
        assertEquals(3, write("orders", BATCH));
        assertEquals(0, write("orders", BATCH), "the same batch again: nothing new");
        assertEquals(1, write("orders", """
                [{"id": "orders:3", "payload": "changed"}, {"id": "orders:4", "payload": 4},
                 {"id": "orders:4", "payload": "twice in one batch"}]"""), "overlapping batch: only the new id");
        assertEquals(0, write("orders", "[]"));

        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT event_id, source, key, headers::text, payload::text, received_at,"
                     + " processed_at, attempts, last_error FROM tide.inbox_orders ORDER BY id")) {
            String[][] expected = {
                {"orders:1", "orders", "k1", "{\"type\": \"order.created\"}", "{\"order\": 1}"},
                {"orders:2", "orders", null, "{}", "[1, \"two\"]"},
                {"orders:3", "east", "k1", "{}", "\"just text\""},
                {"orders:4", "orders", null, "{}", "4"}};
            for (String[] row : expected) {
                assertTrue(rs.next());
                for (int i = 0; i < row.length; i++) {
                    assertEquals(row[i], rs.getString(i + 1), row[0] + " column " + (i + 1));
                }
                assertTrue(rs.getTimestamp(6) != null);
                assertNull(rs.getTimestamp(7));
                assertEquals(0, rs.getInt(8));
                assertNull(rs.getString(9));
            }
            assertFalse(rs.next());
        }
    }

    @Test
    void badInputIsRefusedByNameAndWritesNothing() throws SQLException {
        db.execute("SELECT tide.inbox_create('orders')");
        SQLException missing = failure("SELECT tide.inbox_write('nope', '[]')");
        assertEquals("42704", missing.getSQLState());
        assertTrue(missing.getMessage().contains("inbox \"nope\" does not exist"), missing.getMessage());
        for (String events : new String[] {"{}", "null", "[{\"payload\": 1}]", "[{\"id\": 7, \"payload\": 1}]",
                "[{\"id\": \"a:1\"}]", "[\"a:1\"]", "[{\"id\": \"a:1\", \"payload\": 1, \"headers\": [1]}]"}) {
            SQLException e = failure("SELECT tide.inbox_write('orders', ?::jsonb)", events);
            assertEquals("22023", e.getSQLState(), events + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("inbox \"orders\""), e.getMessage());
        }
        SQLException second = failure("SELECT tide.inbox_write('orders', ?::jsonb)",
                "[{\"id\": \"a:1\", \"payload\": 1}, {\"id\": \"a:2\"}]");
        assertTrue(second.getMessage().contains("event 2 of the batch"), "names the element: " + second.getMessage());
        assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders"), "a refused batch writes nothing");
    }

    @Test
    void theApplicationMarksEventsProcessedOnceOrFailedWithTheError() throws SQLException {
        db.execute("SELECT tide.inbox_create('orders')");
        write("orders", BATCH);

        assertEquals(true, db.queryOne(Boolean.class, "SELECT tide.inbox_mark_failed('orders', 'orders:1', 'timeout')"));
        assertEquals(true, db.queryOne(Boolean.class, "SELECT tide.inbox_mark_failed('orders', 'orders:1', 'refused')"));
        assertEquals("2 refused false", state("orders:1"));
        assertEquals(true, db.queryOne(Boolean.class, "SELECT tide.inbox_mark_processed('orders', 'orders:1')"));
        assertEquals("3 null true", state("orders:1"), "processed: the error is cleared, the attempt counted");
        assertEquals(false, db.queryOne(Boolean.class, "SELECT tide.inbox_mark_processed('orders', 'orders:1')"),
                "a second handler learns the event was processed already");
        assertEquals(false, db.queryOne(Boolean.class, "SELECT tide.inbox_mark_failed('orders', 'orders:1', 'late')"));
        assertEquals("3 null true", state("orders:1"), "nothing changes once processed");
        assertEquals("0 null false", state("orders:2"), "other events untouched");
        assertEquals(List.of("orders:2", "orders:3"),
                column("SELECT event_id FROM tide.inbox_orders WHERE processed_at IS NULL ORDER BY id"));

        SQLException unknown = failure("SELECT tide.inbox_mark_processed('orders', 'orders:99')");
        assertEquals("42704", unknown.getSQLState());
        assertTrue(unknown.getMessage().contains("inbox \"orders\" has no event 'orders:99'"), unknown.getMessage());
        SQLException unknownFailed = failure("SELECT tide.inbox_mark_failed('orders', 'orders:99', 'x')");
        assertEquals("42704", unknownFailed.getSQLState());
        assertEquals("42704", failure("SELECT tide.inbox_mark_processed('nope', 'orders:1')").getSQLState());
    }

    @Test
    void writingAndMarkingNeedAnExplicitGrantAndNoTablePrivilege() throws SQLException {
        db.execute("SELECT tide.inbox_create('orders')");
        String writer = role();
        String reader = role();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("GRANT USAGE ON SCHEMA tide TO " + writer + ", " + reader);
        }
        String call = "SELECT tide.inbox_write('orders', '[{\"id\": \"orders:1\", \"payload\": 1}]')";
        try (Connection w = as(writer); Statement st = w.createStatement()) {
            assertEquals("42501", assertThrows(SQLException.class, () -> st.execute(call)).getSQLState(),
                    "USAGE on schema tide alone does not let a role write into an inbox");
        }
        db.execute("GRANT EXECUTE ON FUNCTION tide.inbox_write(text, jsonb) TO " + writer);
        try (Connection w = as(writer); Statement st = w.createStatement()) {
            st.execute(call);
            assertEquals("42501", assertThrows(SQLException.class,
                    () -> st.execute("INSERT INTO tide.inbox_orders (event_id, payload) VALUES ('forged', '1')")).getSQLState());
            assertEquals("42501", assertThrows(SQLException.class,
                    () -> st.execute("SELECT tide.inbox_mark_processed('orders', 'orders:1')")).getSQLState(),
                    "the writer may not settle events");
            // definer rights with a pinned search_path: the caller's search_path cannot redirect the write
            st.execute("CREATE TEMP TABLE inbox_orders (x int)");
            st.execute("SET search_path = pg_temp, public");
            st.execute("SELECT tide.inbox_write('orders', '[{\"id\": \"orders:2\", \"payload\": 2}]')");
        }
        assertEquals(2L, db.queryOne(Long.class, "SELECT count(*) FROM tide.inbox_orders"));

        db.execute("GRANT SELECT ON tide.inbox_orders TO " + reader);
        db.execute("GRANT EXECUTE ON FUNCTION tide.inbox_mark_processed(text, text),"
                + " tide.inbox_mark_failed(text, text, text) TO " + reader);
        try (Connection r = as(reader); Statement st = r.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT tide.inbox_mark_processed('orders', 'orders:1'),"
                    + " tide.inbox_mark_failed('orders', 'orders:2', 'boom')")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1));
                assertTrue(rs.getBoolean(2));
            }
            assertEquals("42501", assertThrows(SQLException.class,
                    () -> st.execute("UPDATE tide.inbox_orders SET payload = '0'")).getSQLState(),
                    "the application reads events and settles them through the functions; it cannot change them");
        }
        assertEquals("1 null true", state("orders:1"));
        assertEquals("1 boom false", state("orders:2"));
    }

    @Test
    void theFunctionsRunWithDefinerRightsAndAPinnedSearchPath() throws SQLException {
        for (String function : new String[] {"inbox_write", "inbox_mark_processed", "inbox_mark_failed"}) {
            assertEquals(true, db.queryOne(Boolean.class, "SELECT prosecdef FROM pg_proc WHERE oid = ?::regproc",
                    "tide." + function), function);
            assertEquals("search_path=pg_catalog, pg_temp", db.queryOne(String.class,
                    "SELECT array_to_string(proconfig, ',') FROM pg_proc WHERE oid = ?::regproc", "tide." + function));
            assertEquals(false, db.queryOne(Boolean.class, "SELECT has_function_privilege('public', oid, 'EXECUTE')"
                    + " FROM pg_proc WHERE oid = ?::regproc", "tide." + function), function + ": no EXECUTE for PUBLIC");
        }
    }

    @Test
    void dropRemovesTheInboxAndItsEvents() throws SQLException {
        db.execute("SELECT tide.inbox_create('orders')");
        write("orders", BATCH);
        db.execute("SELECT tide.inbox_drop('orders')");
        assertNull(db.queryOne(String.class, "SELECT to_regclass('tide.inbox_orders')::text"));
        assertEquals("42704", failure("SELECT tide.inbox_write('orders', '[]')").getSQLState());
        assertEquals("42704", failure("SELECT tide.inbox_drop('orders')").getSQLState());
    }

    /** "attempts last_error processed" of an event. */
    private String state(String eventId) throws SQLException {
        return db.queryOne(String.class, "SELECT attempts || ' ' || coalesce(last_error, 'null') || ' ' || (processed_at IS NOT NULL)"
                + " FROM tide.inbox_orders WHERE event_id = ?", eventId);
    }

    private List<String> column(String sql) throws SQLException {
        return db.queryList(String.class, sql);
    }

    /** A login role of its own (roles are server-wide: never a fixed name), dropped after the test. */
    private String role() throws SQLException {
        String name = Names.unique("inbox_test_");
        db.execute("CREATE ROLE " + name + " LOGIN PASSWORD 'pw'");
        roles.add(name);
        return name;
    }

    private Connection as(String role) throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl(), role, "pw");
    }
}
