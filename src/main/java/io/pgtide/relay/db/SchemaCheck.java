package io.pgtide.relay.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure schema {@code tide} is at the version this relay was built with before pipelines start (ADR 0008):
 * a missing schema is installed ({@code CREATE EXTENSION pg_tide} when the server has the extension files,
 * else the extension's own script, bundled from {@code sql/}); an older one is upgraded the same way it was
 * installed ({@code ALTER EXTENSION pg_tide UPDATE}, or the bundled upgrade script); a role that may do
 * neither gets one line naming the statement to run.
 */
public final class SchemaCheck {

    /** The extension version this relay needs. */
    public static final String VERSION = "0.2.0";

    /** The extension script inside the relay jar, copied there from sql/ at build time. */
    public static final String SCRIPT = "pg_tide/pg_tide--" + VERSION + ".sql";

    /** The version before this one: installs of it are upgraded in place. */
    static final String PREVIOUS = "0.1.0";

    private static final String UPGRADE = "pg_tide/pg_tide--" + PREVIOUS + "--" + VERSION + ".sql";

    private static final Logger LOG = LoggerFactory.getLogger(SchemaCheck.class);

    private SchemaCheck() {
    }

    /**
     * Installs or upgrades schema tide to {@link #VERSION}; fails with SQLSTATE 42501 and the exact statements to
     * run when the role may not.
     */
    public static void ensureInstalled(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            if (!exists(st, "SELECT to_regnamespace('tide') IS NOT NULL")) {
                install(connection, st);
                return;
            }
            String extension = text(st, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tide'");
            // a bundled-script install has no pg_extension row; 0.1.0 had no tide.version()
            String installed = extension != null ? extension
                    : exists(st, "SELECT to_regproc('tide.version') IS NOT NULL") ? text(st, "SELECT tide.version()")
                    : PREVIOUS;
            if (installed.equals(VERSION)) {
                return;
            }
            if (!installed.equals(PREVIOUS)) {
                LOG.warn("pg_tide {} is installed; this relay was built for {}", installed, VERSION);
                return;
            }
            upgrade(connection, st, extension != null);
        }
    }

    private static void install(Connection connection, Statement st) throws SQLException {
        boolean available = serverHas(st, VERSION);
        LOG.info("Schema tide is missing: installing pg_tide {} {}", VERSION,
                available ? "with CREATE EXTENSION" : "from the bundled script");
        try {
            inTransaction(connection, st, available ? "CREATE EXTENSION pg_tide VERSION '" + VERSION + "'" : script());
        } catch (SQLException e) {
            if ("42501".equals(e.getSQLState())) {
                throw new SQLException("schema tide is missing and this role may not create it (" + firstLine(e)
                        + "). As a superuser, run: CREATE EXTENSION pg_tide; (or psql -f sql/pg_tide--" + VERSION
                        + ".sql without its first \\echo line), then GRANT USAGE ON SCHEMA tide, SELECT ON ALL TABLES IN"
                        + " SCHEMA tide, INSERT ON tide.tide_outbox_messages TO <relay role>;", "42501", e);
            }
            throw e;
        }
    }

    private static void upgrade(Connection connection, Statement st, boolean extension) throws SQLException {
        String statement = "ALTER EXTENSION pg_tide UPDATE TO '" + VERSION + "'";
        if (extension && !serverHas(st, VERSION)) {
            throw new SQLException("pg_tide " + PREVIOUS + " is installed and this relay needs " + VERSION
                    + ", but the server has no pg_tide " + VERSION + " files: copy sql/pg_tide* into its extension"
                    + " folder, then as a superuser run: " + statement + ";", "0A000");
        }
        LOG.info("Upgrading pg_tide {} to {} {}", PREVIOUS, VERSION,
                extension ? "with ALTER EXTENSION" : "with the bundled upgrade script");
        try {
            inTransaction(connection, st, extension ? statement : resource(UPGRADE));
        } catch (SQLException e) {
            if ("42501".equals(e.getSQLState())) {
                throw new SQLException("pg_tide " + PREVIOUS + " is installed, this relay needs " + VERSION
                        + " and this role may not upgrade it (" + firstLine(e) + "). As a superuser, run: "
                        + (extension ? statement : "psql -f sql/pg_tide--" + PREVIOUS + "--" + VERSION
                        + ".sql without its first \\echo line") + ";", "42501", e);
            }
            throw e;
        }
    }

    private static void inTransaction(Connection connection, Statement st, String sql) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            st.execute(sql);
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    private static boolean serverHas(Statement st, String version) throws SQLException {
        try (PreparedStatement ps = st.getConnection().prepareStatement(
                "SELECT count(*) > 0 FROM pg_available_extension_versions WHERE name = 'pg_tide' AND version = ?")) {
            ps.setString(1, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private static boolean exists(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private static String text(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static String firstLine(SQLException e) {
        String message = String.valueOf(e.getMessage());
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }

    /** The extension script without its psql-only guard line. */
    public static String script() {
        return resource(SCRIPT);
    }

    /** A script bundled from sql/ ({@code pg_tide/<file>}) without its psql-only guard line. */
    public static String resource(String name) {
        try (InputStream in = SchemaCheck.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the relay's classpath");
            }
            StringBuilder sql = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.startsWith("\\")) {
                    sql.append(line).append('\n');
                }
            }
            return sql.toString();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name, e);
        }
    }
}
