package io.pgtide.relay.testing;

import io.pgtide.relay.config.PostgresUrl;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** A fresh database of its own on a test server (by default the shared one), dropped on close. */
public record TestDatabase(DatabaseServer server, String name) implements AutoCloseable {

    /** A new empty database on the shared test server. */
    public static TestDatabase create() throws SQLException {
        return create(PgServer.get());
    }

    /** A new empty database on the given server. */
    public static TestDatabase create(DatabaseServer server) throws SQLException {
        String name = Names.unique("tide_test_");
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

    /** A new database with the extension and one outbox. */
    public static TestDatabase withOutbox(String outbox) throws SQLException {
        TestDatabase db = withExtension();
        db.execute("SELECT tide.outbox_create('" + outbox + "')");
        return db;
    }

    /** A new database with the extension and one outbox in partitioned storage, partitions of that many transaction ids. */
    public static TestDatabase withPartitionedOutbox(String outbox, long partitionXids) throws SQLException {
        TestDatabase db = withExtension();
        db.execute("SELECT tide.outbox_create('" + outbox + "', 24, " + partitionXids + ")");
        return db;
    }

    /** A new database with an earlier version of pg_tide, for instance one to upgrade from. */
    public static TestDatabase withExtension(String version) throws SQLException {
        TestDatabase db = create();
        db.execute("CREATE EXTENSION pg_tide VERSION '" + version + "'");
        return db;
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
        try (Connection c = connect(); PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getObject(1, type) : null;
        }
    }

    /** The first column of every row of a query with parameters. */
    public <T> List<T> queryList(Class<T> type, String sql, Object... params) throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            List<T> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getObject(1, type));
            }
            return values;
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
        return ps;
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = server.connect("postgres"); Statement st = c.createStatement()) {
            st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
            st.execute("DROP DATABASE IF EXISTS " + name);
        }
    }
}
