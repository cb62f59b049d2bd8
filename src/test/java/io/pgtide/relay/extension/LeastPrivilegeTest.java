package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.CnpgBootstrap;
import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Invariant 6 of docs/DESIGN.md: the role made by the postInitSQL of examples/cnpg/cluster.yaml, with only those grants,
 * does all of the relay's work; a role without them does none.
 */
class LeastPrivilegeTest {

    private TestDatabase db;

    @BeforeEach
    void bootstrapLikeCloudNativePg() throws SQLException {
        db = CnpgBootstrap.database("nobody_user");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE nobody_user LOGIN PASSWORD 'x'");
            st.execute("SELECT tide.outbox_create('orders')");
            st.execute("SELECT tide.outbox_publish('orders', '{\"n\": 1}', '{}', 'k')");
        }
    }

    @AfterEach
    void dropAll() throws SQLException {
        db.close();
        CnpgBootstrap.dropRoles("relay_user", "nobody_user");
    }

    private Connection as(String role, String password) throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl(), role, password);
    }

    @Test
    void theRelayRoleRegistersPollsAdvancesAndReads() throws Exception {
        try (Connection poll = as("relay_user", "strong-password"); Connection lock = as("relay_user", "strong-password");
             Poller poller = new Poller(poll, lock, "p1", "orders")) {
            List<Poller.Row> rows = poller.pollAtLeast(1, 10);
            assertEquals(1, rows.size());
            assertTrue(poller.advance(rows.get(0)));
            try (Statement st = poll.createStatement()) {
                st.execute("SELECT tide.outbox_publish('orders', '{\"n\": 2}')");
                try (ResultSet rs = st.executeQuery("SELECT pending FROM tide.consumer_lag WHERE pipeline = 'p1'")) {
                    rs.next();
                    assertEquals(1, rs.getLong(1));
                }
                st.executeQuery("SELECT * FROM tide.outbox_pending").close();
                st.executeQuery("SELECT tide.outbox_status('orders')").close();
                st.executeQuery("SELECT tide.outbox_sweep()").close();
                // pg-tide pause and resume run with the relay's own credentials
                st.executeQuery("SELECT tide.relay_pause('p1')").close();
                st.executeQuery("SELECT tide.relay_resume('p1')").close();
            }
        }
    }

    @Test
    void aRoleWithoutTheGrantsCannot() throws SQLException {
        try (Connection c = as("nobody_user", "x"); Statement st = c.createStatement()) {
            for (String sql : List.of("SELECT * FROM tide.relay_poll('p1', 'orders')",
                    "SELECT tide.outbox_publish('orders', '{}')",
                    "SELECT * FROM tide.tide_outbox_messages",
                    "SELECT tide.relay_advance('p1', 'orders', '1', 1)")) {
                SQLException denied = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", denied.getSQLState(), sql + ": " + denied.getMessage());
            }
        }
    }

    @Test
    void theRelayRoleCannotWriteTablesDirectly() throws SQLException {
        try (Connection c = as("relay_user", "strong-password"); Statement st = c.createStatement()) {
            for (String sql : List.of("UPDATE tide.relay_consumer_offsets SET last_id = 99",
                    "DELETE FROM tide.tide_outbox_messages",
                    "INSERT INTO tide.tide_outbox_config (outbox_name) VALUES ('x')")) {
                SQLException denied = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", denied.getSQLState(), sql);
            }
        }
    }
}
