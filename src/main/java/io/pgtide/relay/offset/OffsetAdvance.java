package io.pgtide.relay.offset;

import io.pgtide.relay.batch.Batch;
import io.pgtide.relay.batch.TideConstants;
import io.pgtide.relay.lock.LockSession;
import io.pgtide.relay.lock.PipelineLockPolicy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import io.pgtide.relay.metrics.RelayMetrics;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a pipeline's offset to the end of a batch the sink has acknowledged. Runs on the session
 * that holds the pipeline's lock, and {@code tide.relay_advance} refuses it otherwise: a relay
 * that lost the pipeline can send duplicates, never move the offset.
 */
public record OffsetAdvance(PipelineLockPolicy locks, RelayMetrics metrics) implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(OffsetAdvance.class);

    /**
     * Never throws: an offset that does not move only means the batch is delivered again, by this
     * relay's next poll or by the pipeline's next owner. Retrying here would only hold the pipeline up.
     */
    @Override
    public void process(Exchange exchange) {
        Batch batch = exchange.getProperty(TideConstants.BATCH, Batch.class);
        if (batch == null) {
            return;
        }
        String route = exchange.getFromRouteId();
        if (!batch.pipeline().equals(route)) {
            LOG.error("Route {} polls pipeline {}: the first argument of tide.relay_poll must be the route id;"
                    + " offset not advanced", route, batch.pipeline());
            metrics.failed(route, RelayMetrics.OFFSET);
            metrics.advanceRefused(route, AdvanceRefusal.ROUTE_ID.label());
            return;
        }
        LockSession session = locks.ownedSession(route);
        if (session == null) {
            LOG.warn("Pipeline {} lost its lock: offset not advanced; the batch ending at id {} will be delivered again",
                    route, batch.lastId());
            metrics.failed(route, RelayMetrics.LOCK_LOST);
            metrics.advanceRefused(route, AdvanceRefusal.LOCK_LOST.label());
            return;
        }
        try {
            boolean moved = session.call(connection -> advance(connection, batch));
            LOG.debug("Pipeline {}: offset {} ({}, {})", route, moved ? "advanced to" : "already at or past",
                    batch.lastTx(), batch.lastId());
            if (!moved) {
                metrics.advanceRefused(route, AdvanceRefusal.NOT_AHEAD.label());
            }
            metrics.relayed(route, batch.outbox(), batch.size(), Duration.ofMillis(exchange.getClock().elapsed()));
        } catch (SQLException e) {
            LOG.warn("Pipeline {}: offset not advanced ({}); the batch ending at id {} will be delivered again",
                    route, e.getMessage(), batch.lastId());
            metrics.failed(route, RelayMetrics.OFFSET);
            metrics.advanceRefused(route, AdvanceRefusal.of(e).label());
        }
    }

    private static boolean advance(Connection connection, Batch batch) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT tide.relay_advance(?, ?, ?::xid8, ?)")) {
            ps.setString(1, batch.pipeline());
            ps.setString(2, batch.outbox());
            ps.setString(3, batch.lastTx());
            ps.setLong(4, batch.lastId());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
