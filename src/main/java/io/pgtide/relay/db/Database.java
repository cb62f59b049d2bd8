package io.pgtide.relay.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgtide.relay.config.PostgresUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * The relay's connections to one database: a HikariCP pool for polls and queries, and dedicated
 * sessions (never pooled) for advisory locks. Every session carries the relay group in the
 * {@code pg_tide.relay_group} setting, which the extension's functions default to.
 */
public final class Database implements AutoCloseable {

    /** How long a dedicated session may stay silent before it counts as lost. */
    private static final int SESSION_SOCKET_TIMEOUT_SECONDS = 10;

    private final PostgresUrl url;
    private final String group;
    private final String instance;
    private final int poolSize;
    private HikariDataSource pool;

    public Database(PostgresUrl url, String group, String instance, int poolSize) {
        this.url = url;
        this.group = group;
        this.instance = instance;
        this.poolSize = poolSize;
    }

    public PostgresUrl url() {
        return url;
    }

    /** The pool, created on first use. */
    public synchronized DataSource pool() {
        if (pool == null) {
            HikariConfig config = new HikariConfig();
            config.setPoolName("pg-tide");
            config.setJdbcUrl(url.jdbcUrl());
            config.setDataSourceProperties(sessionProperties("pg_tide relay " + instance));
            config.setMaximumPoolSize(poolSize);
            config.setMinimumIdle(1);
            // the start-up check has already reported an unreachable database in one line
            config.setInitializationFailTimeout(-1);
            pool = new HikariDataSource(config);
        }
        return pool;
    }

    /**
     * A new session of its own, for a lock that must live exactly as long as the session. A failure to connect
     * says in one line which host, port, database or setting to fix.
     */
    public Connection openSession(String applicationName) throws SQLException {
        Properties properties = sessionProperties(applicationName);
        properties.setProperty("socketTimeout", String.valueOf(SESSION_SOCKET_TIMEOUT_SECONDS));
        Connection connection;
        try {
            connection = DriverManager.getConnection(url.jdbcUrl(), properties);
        } catch (SQLException e) {
            throw ConnectionFailure.explain(e, url);
        }
        connection.setAutoCommit(true);
        return connection;
    }

    /** Whether the server is a standby (in recovery), which runs no pipeline: the relay's one place to ask. */
    public static boolean standby(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private Properties sessionProperties(String applicationName) {
        Properties properties = url.properties();
        properties.setProperty("ApplicationName", truncate(applicationName));
        properties.setProperty("tcpKeepAlive", "true");
        String options = properties.getProperty("options", "");
        properties.setProperty("options", (options + " -c pg_tide.relay_group=" + group).strip());
        return properties;
    }

    private static String truncate(String name) {
        return name.length() <= 63 ? name : name.substring(0, 63);
    }

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }
}
