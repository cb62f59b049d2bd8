package io.pgtide.relay.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.PgServer;
import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** Start-up installs schema tide when it is missing and the role may; otherwise it says what to run. */
class SchemaCheckTest {

    @Test
    void installsTheExtensionWhenTheServerHasItsFiles() throws Exception {
        try (TestDatabase db = TestDatabase.create(); Connection c = db.connect()) {
            SchemaCheck.ensureInstalled(c);
            assertEquals(SchemaCheck.VERSION, db.queryOne(String.class, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tide'"));
            assertEquals(SchemaCheck.VERSION, db.queryOne(String.class, "SELECT tide.version()"));
            SchemaCheck.ensureInstalled(c);
        }
    }

    @Test
    void upgradesAnInstalledPreviousVersion() throws Exception {
        try (TestDatabase db = TestDatabase.withExtension(SchemaCheck.PREVIOUS); Connection c = db.connect()) {
            SchemaCheck.ensureInstalled(c);
            assertEquals(SchemaCheck.VERSION, db.queryOne(String.class, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tide'"));
            assertEquals(SchemaCheck.VERSION, db.queryOne(String.class, "SELECT tide.version()"));
        }
    }

    @Test
    void upgradesAPreviousBundledScriptInstall() throws Exception {
        try (TestDatabase db = TestDatabase.create(); Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute(SchemaCheck.resource("pg_tide/pg_tide--" + SchemaCheck.PREVIOUS + ".sql"));
            st.execute("SELECT tide.outbox_create('orders')");
            st.execute("SELECT tide.outbox_publish('orders', '{\"a\": 1}')");
            SchemaCheck.ensureInstalled(c);
            assertEquals(SchemaCheck.VERSION, db.queryOne(String.class, "SELECT tide.version()"));
            assertEquals(1L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_poll('p', 'orders', 10, NULL, 1024)"));
        }
    }

    @Test
    void aRoleThatMayNotUpgradeGetsTheStatementToRunInOneLine() throws Exception {
        try (TestDatabase db = TestDatabase.withExtension(SchemaCheck.PREVIOUS)) {
            SQLException refused = refusedForAWeakRole(db);
            assertTrue(refused.getMessage().endsWith("run: ALTER EXTENSION pg_tide UPDATE TO '" + SchemaCheck.VERSION + "';")
                    && !refused.getMessage().contains("\n"), refused.getMessage());
            assertEquals(SchemaCheck.PREVIOUS, db.queryOne(String.class, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tide'"));
        }
    }

    /** What ensureInstalled says, with SQLSTATE 42501, to a role without privileges (made and dropped here). */
    private static SQLException refusedForAWeakRole(TestDatabase db) throws SQLException {
        try (Connection admin = PgServer.get().connect("postgres"); Statement st = admin.createStatement()) {
            st.execute("DROP ROLE IF EXISTS tide_weak");
            st.execute("CREATE ROLE tide_weak LOGIN PASSWORD 'weak'");
        }
        try (Connection weak = DriverManager.getConnection(db.jdbcUrl(), "tide_weak", "weak")) {
            SQLException refused = assertThrows(SQLException.class, () -> SchemaCheck.ensureInstalled(weak));
            assertEquals("42501", refused.getSQLState(), refused.getMessage());
            return refused;
        } finally {
            try (Connection admin = PgServer.get().connect("postgres"); Statement st = admin.createStatement()) {
                st.execute("DROP ROLE IF EXISTS tide_weak");
            }
        }
    }

    @Test
    void installsTheBundledScriptWhenTheExtensionFilesAreAbsent() throws Exception {
        try (TestDatabase db = TestDatabase.create(); Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute(SchemaCheck.script());
            st.execute("SELECT tide.outbox_create('orders')");
            st.execute("SELECT tide.outbox_publish('orders', '{\"a\": 1}')");
            assertEquals(1L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_poll('p', 'orders')"));
        }
    }

    @Test
    void aRoleThatMayNotCreateItGetsTheStatementsToRun() throws Exception {
        try (TestDatabase db = TestDatabase.create()) {
            db.execute("REVOKE CREATE ON DATABASE " + db.name() + " FROM PUBLIC");
            SQLException refused = refusedForAWeakRole(db);
            assertTrue(refused.getMessage().contains("CREATE EXTENSION pg_tide")
                    && refused.getMessage().contains("GRANT USAGE ON SCHEMA tide"), refused.getMessage());
        }
    }
}
