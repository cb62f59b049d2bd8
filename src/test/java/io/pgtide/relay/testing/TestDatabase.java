package io.pgtide.relay.testing;

import io.pgtide.relay.config.PostgresUrl;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;

/** A fresh database of its own on the test server, dropped on close. */
public final class TestDatabase implements AutoCloseable {

    private final PgServer server;
    private final String name;

    private TestDatabase(PgServer server, String name) {
        this.server = server;
        this.name = name;
    }

    /** A new empty database. */
    public static TestDatabase create() throws SQLException {
        PgServer server = PgServer.get();
        String name = "tide_test_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        try (Connection c = server.connect("postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return new TestDatabase(server, name);
    }

    /** A new database with CREATE EXTENSION pg_tide done. */
    public static TestDatabase withExtension() throws SQLException {
        TestDatabase db = create();
        db.execute("CREATE EXTENSION pg_tide");
        return db;
    }

    public String name() {
        return name;
    }

    public PgServer server() {
        return server;
    }

    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    /** The database as the relay would be given it, with superuser credentials. */
    public PostgresUrl url() {
        return PostgresUrl.parse("test", "postgresql://postgres:postgres@" + server.host() + ":" + server.port() + "/" + name);
    }

    /** A superuser session. */
    public Connection connect() throws SQLException {
        return server.connect(name);
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first column of the first row of a query with parameters. */
    public <T> T queryOne(Class<T> type, String sql, Object... params) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1, type) : null;
            }
        }
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = server.connect("postgres"); Statement st = c.createStatement()) {
            st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
            st.execute("DROP DATABASE IF EXISTS " + name);
        }
    }
}
