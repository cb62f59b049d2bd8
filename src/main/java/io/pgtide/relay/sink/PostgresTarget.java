package io.pgtide.relay.sink;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgtide.relay.config.PostgresUrl;
import io.pgtide.relay.support.Causes;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/**
 * A small connection pool to a sink's own PostgreSQL database (an inbox in another database), given by
 * one URL setting in the same forms as the relay's own ({@code postgresql://user:pass@host:port/db?...}
 * or {@code jdbc:postgresql:}). Every error, from a malformed URL to an unreachable host, names the
 * setting, and none shows the password. Defined as a bean in the pipeline file.
 */
public final class PostgresTarget implements DataSource, AutoCloseable {

    private String url;
    private String setting = "inbox.url";
    private int poolSize = 2;
    private int connectTimeoutMillis = 5_000;
    private volatile PostgresUrl parsed;
    private HikariDataSource pool;

    public void setUrl(String url) {
        this.url = url;
    }

    /** The setting the URL comes from, named by every error; {@code inbox.url} by default. */
    public void setSetting(String setting) {
        this.setting = setting;
    }

    public String getSetting() {
        return setting;
    }

    public void setPoolSize(int poolSize) {
        this.poolSize = poolSize;
    }

    /** How long a batch waits for a connection before it fails (and is retried). */
    public void setConnectTimeoutMillis(int connectTimeoutMillis) {
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    /** The target as the relay logs it: the JDBC URL and user, never the password. */
    @Override
    public String toString() {
        return setting + " (" + (parsed == null ? "not connected yet" : parsed) + ")";
    }

    @Override
    public Connection getConnection() throws SQLException {
        HikariDataSource ds = pool();
        try {
            return ds.getConnection();
        } catch (SQLException e) {
            // unchecked, and Spring's own type: camel-sql's JdbcTemplate passes it on as it is, where a
            // SQLException would become "Failed to obtain JDBC Connection" without the setting's name
            throw new CannotGetJdbcConnectionException(setting + " (" + parsed + "): cannot connect: " + Causes.describe(e), e);
        }
    }

    /** Parsed on first use, after every property is set: a malformed URL fails the batch with the setting's name. */
    private synchronized HikariDataSource pool() {
        if (pool == null) {
            parsed = PostgresUrl.parse(setting, url);
            HikariConfig config = new HikariConfig();
            config.setPoolName("pg-tide " + setting);
            config.setJdbcUrl(parsed.jdbcUrl());
            config.setDataSourceProperties(parsed.properties());
            config.setMaximumPoolSize(poolSize);
            config.setMinimumIdle(1);
            config.setConnectionTimeout(connectTimeoutMillis);
            // a target that is down now must not stop the relay: the batch fails, is retried, and connects later
            config.setInitializationFailTimeout(-1);
            pool = new HikariDataSource(config);
        }
        return pool;
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException(setting + ": the user and password come from the URL");
    }

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // Hikari logs through SLF4J
    }

    @Override
    public void setLoginTimeout(int seconds) {
        connectTimeoutMillis = seconds * 1000;
    }

    @Override
    public int getLoginTimeout() {
        return connectTimeoutMillis / 1000;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLException(getClass().getName() + " is not a " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }
}
