package io.pgtide.relay.metrics;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.support.PeriodicService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the relay group's lag and health from {@code tide.consumer_lag} every interval into {@link RelayMetrics}, and
 * remembers whether the database answered (readiness) and whether it is a standby.
 */
public final class LagSampler extends PeriodicService {

    private static final Logger LOG = LoggerFactory.getLogger(LagSampler.class);

    private final Database database;
    private final RelayMetrics metrics;
    private volatile Instant lastSuccess;
    private volatile String lastError = "not sampled yet";
    private volatile boolean standby;

    public LagSampler(Database database, RelayMetrics metrics, Duration interval) {
        super("pg-tide-lag-sampler", interval, true);
        this.database = database;
        this.metrics = metrics;
    }

    @Override
    protected void tick() {
        sample();
    }

    /** One reading; never throws. */
    public void sample() {
        try (Connection c = database.pool().getConnection(); Statement st = c.createStatement()) {
            standby = Database.standby(c);
            try (ResultSet rs = st.executeQuery("SELECT tide.oldest_open_write_tx_age()")) {
                rs.next();
                metrics.server(rs.getDouble(1), standby);
            }
            List<PipelineReading> readings = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT pipeline, outbox_name, pending, oldest_pending_age_seconds,"
                    + " last_id, open_dead_letters, paused_at IS NOT NULL, state, consecutive_failures, unseen_seconds"
                    + " FROM tide.consumer_lag WHERE relay_group = tide.relay_group()")) {
                while (rs.next()) {
                    readings.add(new PipelineReading(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getDouble(4),
                            rs.getLong(5), rs.getLong(6), rs.getBoolean(7), rs.getString(8), rs.getInt(9),
                            rs.getDouble(10)));
                }
            }
            metrics.pipelines(readings);
            lastSuccess = Instant.now();
            lastError = null;
        } catch (SQLException e) {
            if (lastError == null || !lastError.equals(e.getMessage())) {
                LOG.warn("Reading pipeline lag failed: {}", e.getMessage());
            }
            lastError = e.getMessage();
        }
    }

    /** True when the database answered within the last three intervals. */
    public boolean databaseReachable() {
        Instant last = lastSuccess;
        return last != null && last.isAfter(Instant.now().minus(interval().multipliedBy(3)));
    }

    public String lastError() {
        return lastError;
    }

    public boolean standby() {
        return standby;
    }
}
