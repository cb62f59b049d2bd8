package io.pgtide.relay.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The PostgreSQL server the tests run against, one per test JVM: the machine's server on 127.0.0.1:5432 (default),
 * or {@code -Dpg_tide.test.server=embedded} for the embedded binaries of {@code -Dpg.embedded.version} (14 to 18).
 * When surefire runs several test JVMs at once, each one after the first gets a private server made with the
 * machine's binaries ({@link PgCluster}): the poll's horizon and the doctor's open transactions are server-wide, so
 * one JVM's open transactions must not hold back or show up in another's tests. Each server gets this tree's
 * extension files ({@link ExtensionFiles}).
 */
public final class PgServer implements DatabaseServer {

    private static PgServer instance;

    private final String host;
    private final int port;
    private final String kind;

    private PgServer(String host, int port, String kind) {
        this.host = host;
        this.port = port;
        this.kind = kind;
    }

    public static synchronized PgServer get() {
        if (instance == null) {
            try {
                instance = start();
                ExtensionFiles.install(instance);
                System.out.println("test PostgreSQL: " + instance.version() + " (" + instance.kind + ")");
            } catch (IOException | SQLException e) {
                throw new IllegalStateException("test PostgreSQL server not available: " + e.getMessage(), e);
            }
        }
        return instance;
    }

    private static PgServer start() throws IOException {
        if ("embedded".equals(System.getProperty("pg_tide.test.server"))) {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            closeOnExit(pg);
            return new PgServer("localhost", pg.getPort(), "embedded");
        }
        int fork = Integer.getInteger("pg_tide.test.fork", 1);
        if (fork > 1) {
            try {
                PgCluster cluster = PgCluster.primary();
                closeOnExit(cluster);
                return new PgServer(cluster.host(), cluster.port(), "private server of test JVM " + fork);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while making a private server", e);
            }
        }
        return new PgServer(System.getProperty("pg_tide.test.host", "127.0.0.1"),
                Integer.getInteger("pg_tide.test.port", 5432), "the machine's server");
    }

    private static void closeOnExit(AutoCloseable server) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception ignored) {
                // the JVM is exiting
            }
        }));
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    @Override
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), "postgres", "postgres");
    }

    /** The server's version, e.g. 15.20. */
    public String version() throws SQLException {
        try (Connection c = connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
