package io.pgtide.relay.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;

/**
 * The PostgreSQL server the tests run against, one per test JVM: the machine's server on
 * 127.0.0.1:5432 (default), or {@code -Dpg_tide.test.server=embedded} for the embedded binaries of
 * {@code -Dpg.embedded.version} (14 to 18). The extension files of sql/ are installed into the server's
 * extension folder when they are missing or differ, so CREATE EXTENSION always runs this tree's SQL.
 */
public final class PgServer implements DatabaseServer {

    private static PgServer instance;

    private final String host;
    private final int port;
    private final EmbeddedPostgres embedded;

    private PgServer(String host, int port, EmbeddedPostgres embedded) {
        this.host = host;
        this.port = port;
        this.embedded = embedded;
    }

    public static synchronized PgServer get() {
        if (instance == null) {
            try {
                instance = start();
                instance.installExtensionFiles();
                System.out.println("test PostgreSQL: " + instance.version() + (instance.embedded() ? " (embedded)" : ""));
            } catch (IOException | SQLException e) {
                throw new IllegalStateException("test PostgreSQL server not available: " + e.getMessage(), e);
            }
        }
        return instance;
    }

    private static PgServer start() throws IOException {
        if ("embedded".equals(System.getProperty("pg_tide.test.server"))) {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }));
            return new PgServer("localhost", pg.getPort(), pg);
        }
        return new PgServer(System.getProperty("pg_tide.test.host", "127.0.0.1"),
                Integer.getInteger("pg_tide.test.port", 5432), null);
    }

    public boolean embedded() {
        return embedded != null;
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

    private void installExtensionFiles() throws SQLException, IOException {
        Path extensionDir;
        try (Connection c = connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")) {
            rs.next();
            extensionDir = Path.of(rs.getString(1), "extension");
        }
        try (var files = Files.list(Path.of("sql"))) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("pg_tide")).toList()) {
                Path target = extensionDir.resolve(file.getFileName());
                if (!Files.exists(target) || !Arrays.equals(Files.readAllBytes(target), Files.readAllBytes(file))) {
                    Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
