package io.pgtide.relay.retention;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.support.PeriodicService;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs retention on a schedule, under an advisory lock of its own so that only one relay of the group runs it at a
 * time: {@code tide.outbox_sweep} for plain outboxes, then {@code tide.outbox_maintain}, which creates the
 * partitions of partitioned outboxes ahead of need and drops the expired ones. On a standby it does nothing.
 */
public final class SweepSchedule extends PeriodicService {

    /** Not a valid pipeline name, so its lock key never collides with a pipeline's. */
    static final String LOCK_NAME = "#sweep";
    private static final int BATCH = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(SweepSchedule.class);

    private final Database database;

    public SweepSchedule(Database database, Duration interval) {
        super("pg-tide-sweep", interval, false);
        this.database = database;
    }

    @Override
    protected void tick() throws SQLException {
        sweepOnce();
    }

    /** One sweep if this relay gets the sweep lock; returns the rows deleted, or -1 when another relay holds it. */
    public long sweepOnce() throws SQLException {
        try (Connection session = database.openSession("pg_tide sweep")) {
            // NULL on a standby, which sweeps nothing
            try (PreparedStatement ps = session.prepareStatement("SELECT tide.relay_try_lock(?)")) {
                ps.setString(1, LOCK_NAME);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return -1;
                    }
                }
            }
            long total = 0;
            try (Statement st = session.createStatement()) {
                for (long deleted = BATCH; deleted >= BATCH; total += deleted) {
                    try (ResultSet rs = st.executeQuery("SELECT tide.outbox_sweep(NULL, " + BATCH + ")")) {
                        rs.next();
                        deleted = rs.getLong(1);
                    }
                }
            }
            if (total > 0) {
                LOG.info("Sweep deleted {} delivered messages past their retention", total);
            }
            maintainPartitions(session);
            return total;
        }
    }

    private static void maintainPartitions(Connection session) throws SQLException {
        try (Statement st = session.createStatement();
             ResultSet rs = st.executeQuery("SELECT created, dropped FROM tide.outbox_maintain()")) {
            rs.next();
            if (rs.getInt(1) > 0 || rs.getInt(2) > 0) {
                LOG.info("Partitioned outboxes: {} partitions created ahead, {} expired partitions dropped",
                        rs.getInt(1), rs.getInt(2));
            }
        }
    }
}
