package io.pgtide.relay.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** A database made ready for the relay the way the bootstrap of examples/cnpg/cluster.yaml does it, and its roles dropped. */
public final class CnpgBootstrap {

    /** The postInitSQL of examples/cnpg/cluster.yaml, verbatim. */
    public static final List<String> POST_INIT_SQL = List.of(
            "CREATE EXTENSION IF NOT EXISTS pg_tide;",
            "CREATE ROLE relay_user LOGIN PASSWORD 'strong-password';",
            "GRANT USAGE ON SCHEMA tide TO relay_user;",
            "GRANT SELECT, INSERT ON tide.tide_outbox_messages TO relay_user;",
            "GRANT SELECT ON ALL TABLES IN SCHEMA tide TO relay_user;");

    private CnpgBootstrap() {
    }

    /**
     * A new database as CloudNativePG bootstraps it, after dropping relay_user and the test's own roles (left by an
     * earlier run) so that the postInitSQL creates them afresh.
     */
    public static TestDatabase database(String... testRoles) throws SQLException {
        dropRoles("relay_user");
        dropRoles(testRoles);
        TestDatabase db = TestDatabase.create();
        apply(db);
        return db;
    }

    /** Runs the postInitSQL in the database (roles are server-wide: drop them first with {@link #dropRoles}). */
    public static void apply(TestDatabase db) throws SQLException {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            for (String sql : POST_INIT_SQL) {
                st.execute(sql);
            }
        }
    }

    /** Drops the roles if they exist; a role still granted something in a live database cannot be dropped. */
    public static void dropRoles(String... roles) throws SQLException {
        try (Connection c = PgServer.get().connect("postgres"); Statement st = c.createStatement()) {
            for (String role : roles) {
                st.execute("DROP ROLE IF EXISTS " + role);
            }
        }
    }
}
