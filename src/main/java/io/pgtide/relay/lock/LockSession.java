package io.pgtide.relay.lock;

import io.pgtide.relay.db.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executor;
import org.postgresql.PGConnection;

/**
 * One pipeline's dedicated database session and the advisory lock it may hold. The lock lives
 * exactly as long as the session: closing the session (or losing it) releases the lock.
 * Work that must be fenced by the lock runs on this session through {@link #call}.
 */
public final class LockSession implements AutoCloseable {

    /** Outcome of one attempt to take the lock. */
    public enum Attempt { ACQUIRED, HELD_ELSEWHERE, STANDBY }

    /** Why the owner must stop its route after the batch in flight and let the lock go. */
    public enum Release {
        /** An operator paused the pipeline (tide.relay_pause). */
        PAUSED,
        /** This relay holds more than its share of the group's pipelines. */
        HANDOVER
    }

    /** Work on the lock-holding connection. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private static final Executor DIRECT = Runnable::run;

    private final String pipeline;
    private final Connection connection;
    private final int backendPid;
    private final int checkTimeoutMillis;
    private final Runnable wake;
    private volatile boolean held;
    private volatile boolean lost;
    private volatile Release release;

    private LockSession(String pipeline, Connection connection, int backendPid, int checkTimeoutMillis, Runnable wake) {
        this.pipeline = pipeline;
        this.connection = connection;
        this.backendPid = backendPid;
        this.checkTimeoutMillis = checkTimeoutMillis;
        this.wake = wake;
    }

    /**
     * Opens a new session for the pipeline's lock.
     *
     * @param wake run once the session is found without its lock or its pipeline paused, by whichever thread finds it
     */
    public static LockSession open(Database database, String pipeline, String instance, int checkTimeoutMillis,
            Runnable wake) throws SQLException {
        Connection connection = database.openSession("pg_tide " + instance + " " + pipeline);
        try (Statement st = connection.createStatement()) {
            // an offset lost with the last moments of WAL before a server crash only means the batch is
            // delivered again; not waiting for the flush on every batch is worth more
            st.execute("SET synchronous_commit = off");
        }
        // the driver learnt the server process at connect time: no round trip
        int backendPid = connection.unwrap(PGConnection.class).getBackendPID();
        return new LockSession(pipeline, connection, backendPid, checkTimeoutMillis, wake);
    }

    /** The server process of this session: while it holds the lock, pg_locks shows it. */
    int backendPid() {
        return backendPid;
    }

    /** The pipeline whose lock this session takes. */
    String pipeline() {
        return pipeline;
    }

    /** True once the lock is known to be gone with the session: the owner must stop the route and start over. */
    public boolean lost() {
        return lost;
    }

    /** Records that the session, and with it the lock, is gone, and tells the owner at once. */
    void markLost() {
        boolean first = !lost;
        lost = true;
        held = false;
        if (first) {
            wake.run();
        }
    }

    /** Why the owner must stop and let go, once the watch found a reason; null while it may run on. */
    public Release release() {
        return release;
    }

    /** Records why the lock must go (the first reason stands), and tells the owner at once. */
    void markRelease(Release reason) {
        if (release == null) {
            release = reason;
            wake.run();
        }
    }

    /** Tries the lock once; on a server in recovery it takes no lock at all. */
    public synchronized Attempt tryAcquire() throws SQLException {
        if (held) {
            return Attempt.ACQUIRED;
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT tide.relay_try_lock(?)")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                boolean acquired = rs.getBoolean(1);
                if (rs.wasNull()) {
                    return Attempt.STANDBY;
                }
                held = acquired;
                return acquired ? Attempt.ACQUIRED : Attempt.HELD_ELSEWHERE;
            }
        }
    }

    public synchronized boolean held() {
        return held;
    }

    /**
     * True while the session answers within the check timeout. A session that was terminated, cut off
     * or closed has lost its lock (the server frees advisory locks with the session).
     */
    synchronized boolean alive() {
        try {
            connection.setNetworkTimeout(DIRECT, checkTimeoutMillis);
            try (Statement st = connection.createStatement()) {
                st.execute("SELECT 1");
            } finally {
                connection.setNetworkTimeout(DIRECT, 0);
            }
            return true;
        } catch (SQLException e) {
            markLost();
            return false;
        }
    }

    /** Runs work on this session while no other work or check runs on it; a broken connection marks it lost. */
    public synchronized <T> T call(Work<T> work) throws SQLException {
        try {
            return work.run(connection);
        } catch (SQLException e) {
            if (connection.isClosed() || (e.getSQLState() != null && e.getSQLState().startsWith("08"))) {
                markLost();
            }
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        held = false;
        try {
            connection.close();
        } catch (SQLException ignored) {
            // the session is gone either way, and with it the lock
        }
    }
}
