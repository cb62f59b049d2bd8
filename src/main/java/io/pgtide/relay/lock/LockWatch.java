package io.pgtide.relay.lock;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.support.PeriodicService;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Checks every interval, with one query on a session of its own, that each lock session of this relay still
 * holds its lock ({@code tide.relay_lock_pids} shows the session's process holding it): the cost of watching does
 * not grow with the number of pipelines. A session that no longer holds its lock is marked lost, which
 * tells its owner at once. When the watch itself cannot ask, each session is checked on its own instead.
 * A second query finds which of the held pipelines an operator paused ({@code tide.relay_paused}), and tells
 * their owners to stop. Its session is also this relay's membership of the group ({@code tide.relay_join}): each tick
 * counts the live relays for the {@link FairShare}, and asks the owners of the locks beyond the share to hand them
 * over.
 */
final class LockWatch extends PeriodicService {

    private static final Executor DIRECT = Runnable::run;

    private final Database database;
    private final String instance;
    private final int timeoutMillis;
    private final Supplier<List<LockSession>> heldSessions;
    private final FairShare share;
    private Connection session;
    /** The surplus the previous tick found. */
    private int lastSurplus;

    /** @param heldSessions the sessions that hold a lock now */
    LockWatch(Database database, String instance, Duration interval, Supplier<List<LockSession>> heldSessions,
            FairShare share) {
        super("pg-tide-lock-watch", interval, true);
        this.database = database;
        this.instance = instance;
        this.timeoutMillis = (int) Math.max(1000, 2 * interval.toMillis());
        this.heldSessions = heldSessions;
        this.share = share;
    }

    @Override
    protected void tick() throws SQLException {
        List<LockSession> held = heldSessions.get();
        Set<String> holding;
        try {
            share.members(members());
            if (held.isEmpty()) {
                return;
            }
            holding = holdingPipelines(held);
        } catch (SQLException e) {
            closeSession();
            // unable to ask for all at once: each session answers for itself
            held.forEach(LockSession::alive);
            throw e;
        }
        for (LockSession lock : held) {
            if (!holding.contains(holder(lock.pipeline(), lock.backendPid()))) {
                lock.markLost();
            }
        }
        Set<String> paused = pausedPipelines(held);
        held.stream().filter(lock -> paused.contains(lock.pipeline())).forEach(lock -> lock.markRelease(LockSession.Release.PAUSED));
        handOverSurplus(held);
    }

    /**
     * Asks the owners of the locks beyond this relay's share to let them go (the last ones by name), once two ticks
     * in a row found them: a file reload changes the count of pipelines for a moment, and that is no reason to
     * stop one. Alone in its group, a relay has no one to hand over to.
     */
    private void handOverSurplus(List<LockSession> held) {
        List<LockSession> running = held.stream().filter(lock -> lock.held() && lock.release() == null)
                .sorted(Comparator.comparing(LockSession::pipeline).reversed()).toList();
        int surplus = share.members() > 1 ? share.surplus(running.size()) : 0;
        running.stream().limit(Math.min(surplus, lastSurplus)).forEach(lock -> lock.markRelease(LockSession.Release.HANDOVER));
        lastSurplus = surplus;
    }

    /** The live relays of the group, this one included once its membership lock is held. */
    private int members() throws SQLException {
        if (session == null) {
            session = database.openSession("pg_tide " + instance + " lock watch");
            try (Statement st = session.createStatement()) {
                st.execute("SELECT tide.relay_join()");
            }
        }
        session.setNetworkTimeout(DIRECT, timeoutMillis);
        try (Statement st = session.createStatement(); ResultSet rs = st.executeQuery("SELECT tide.relay_members()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private Set<String> pausedPipelines(List<LockSession> held) throws SQLException {
        Array pipelines = session.createArrayOf("text", held.stream().map(LockSession::pipeline).toArray());
        try (PreparedStatement ps = session.prepareStatement(
                "SELECT p FROM unnest(?::text[]) p WHERE tide.relay_paused(p)")) {
            ps.setArray(1, pipelines);
            Set<String> paused = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    paused.add(rs.getString(1));
                }
            }
            return paused;
        }
    }

    /** Each pipeline with the process that holds its lock ({@link #holder}), asked once for all. */
    private Set<String> holdingPipelines(List<LockSession> held) throws SQLException {
        Array pipelines = session.createArrayOf("text", held.stream().map(LockSession::pipeline).toArray());
        try (PreparedStatement ps = session.prepareStatement("SELECT pipeline, pid FROM tide.relay_lock_pids(?)")) {
            ps.setArray(1, pipelines);
            Set<String> holding = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    holding.add(holder(rs.getString(1), rs.getInt(2)));
                }
            }
            return holding;
        }
    }

    private static String holder(String pipeline, int pid) {
        return pid + "/" + pipeline;
    }

    private void closeSession() {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException ignored) {
                // gone either way
            }
            session = null;
        }
    }

    @Override
    protected void doStop() {
        super.doStop();
        closeSession();
    }
}
