package io.pgtide.relay.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure schema {@code tide} exists before pipelines start: {@code CREATE EXTENSION pg_tide} when the
 * server has the extension files, else the extension's own script (bundled from {@code sql/}).
 */
public final class SchemaCheck {

    /** The extension script inside the relay jar, copied there from sql/ at build time. */
    public static final String SCRIPT = "pg_tide/pg_tide--0.1.0.sql";

    private static final Logger LOG = LoggerFactory.getLogger(SchemaCheck.class);

    private SchemaCheck() {
    }

    /** Installs schema tide when it is missing; fails with the exact statements to run when the role may not. */
    public static void ensureInstalled(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            if (exists(st, "SELECT to_regnamespace('tide') IS NOT NULL")) {
                return;
            }
            boolean available = exists(st, "SELECT count(*) > 0 FROM pg_available_extensions WHERE name = 'pg_tide'");
            LOG.info("Schema tide is missing: installing pg_tide {}", available ? "with CREATE EXTENSION" : "from the bundled script");
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try {
                st.execute(available ? "CREATE EXTENSION pg_tide" : script());
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                if ("42501".equals(e.getSQLState())) {
                    throw new SQLException("schema tide is missing and this role may not create it (" + e.getMessage()
                            + "). As a superuser, run: CREATE EXTENSION pg_tide; (or psql -f " + "sql/pg_tide--0.1.0.sql"
                            + " without its first \\echo line), then GRANT USAGE ON SCHEMA tide, SELECT ON ALL TABLES IN"
                            + " SCHEMA tide, INSERT ON tide.tide_outbox_messages TO <relay role>;", "42501", e);
                }
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        }
    }

    private static boolean exists(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** The extension script without its psql-only guard line. */
    public static String script() {
        try (InputStream in = SchemaCheck.class.getClassLoader().getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT + " is missing from the relay's classpath");
            }
            StringBuilder sql = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.startsWith("\\")) {
                    sql.append(line).append('\n');
                }
            }
            return sql.toString();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SCRIPT, e);
        }
    }
}
