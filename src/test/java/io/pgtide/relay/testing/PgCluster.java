package io.pgtide.relay.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A PostgreSQL server of its own, made with the machine's binaries (as the postgres user, since the
 * server refuses root): a primary from initdb, or a streaming replica of one from pg_basebackup -R.
 * Being private, it can be restarted without disturbing other tests.
 */
public final class PgCluster implements DatabaseServer, AutoCloseable {

    private final Path bin;
    private final Path dataDir;
    private final int port;
    private boolean closed;

    private PgCluster(Path bin, Path dataDir, int port) {
        this.bin = bin;
        this.dataDir = dataDir;
        this.port = port;
    }

    /** A new primary on a free loopback port, with this tree's extension files installed. */
    public static PgCluster primary() throws IOException, InterruptedException {
        PgCluster cluster = new PgCluster(binaries(), newDataDir("primary"), FreePort.next());
        cluster.asPostgres(cluster.bin.resolve("initdb").toString(), "-D", cluster.dataDir.toString(), "-A", "trust",
                "-U", "postgres", "--no-sync");
        cluster.start();
        try {
            ExtensionFiles.install(cluster);
        } catch (SQLException e) {
            cluster.close();
            throw new IOException("installing the extension files on a private server failed", e);
        }
        return cluster;
    }

    /** A hot standby streaming from this primary. */
    public PgCluster replica() throws IOException, InterruptedException {
        PgCluster replica = new PgCluster(bin, newDataDir("replica"), FreePort.next());
        Files.delete(replica.dataDir);
        asPostgres(bin.resolve("pg_basebackup").toString(), "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", "postgres",
                "-D", replica.dataDir.toString(), "-R", "-X", "stream");
        replica.start();
        return replica;
    }

    private static Path binaries() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("pg_config", "--bindir").start();
        String dir = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0 || dir.isEmpty()) {
            throw new IOException("pg_config --bindir failed");
        }
        return Path.of(dir);
    }

    private static Path newDataDir(String name) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pg-tide-" + name);
        run(List.of("chown", "postgres:postgres", dir.toString()));
        run(List.of("chmod", "700", dir.toString()));
        return dir;
    }

    private void start() throws IOException, InterruptedException {
        pgCtl("-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dataDir
                + " -c fsync=off", "-w", "start");
    }

    /**
     * pg_ctl restart -m fast: every session is ended, as in a planned restart or a switchover, and the
     * server is back on the same port and options when this returns.
     */
    public void restart() throws IOException, InterruptedException {
        pgCtl("-m", "fast", "-w", "restart");
    }

    /** pg_ctl on this data folder; the server's output goes to its log, not to a pipe this JVM would wait on. */
    private void pgCtl(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(),
                "-l", dataDir.resolve("server.log").toString()));
        command.addAll(List.of(arguments));
        asPostgres(command.toArray(String[]::new));
    }

    /** pg_ctl promote: the standby becomes a primary. */
    public void promote() throws IOException, InterruptedException {
        pgCtl("promote");
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port + "/" + database;
    }

    @Override
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), "postgres", "");
    }

    private void asPostgres(String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(List.of(command));
        run(full);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** Stops the server at once (like a lost host) and deletes its files; again is a no-op. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            pgCtl("-m", "immediate", "-w", "stop");
        } finally {
            run(List.of("rm", "-rf", dataDir.toString()));
        }
    }
}
