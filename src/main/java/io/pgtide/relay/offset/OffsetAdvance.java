package io.pgtide.relay.offset;

import io.pgtide.relay.lock.LockSession;
import io.pgtide.relay.lock.PipelineLockPolicy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a pipeline's offset to the end of a batch the sink has acknowledged. Runs on the session
 * that holds the pipeline's lock, and {@code tide.relay_advance} refuses it otherwise: a relay
 * that lost the pipeline can send duplicates, never move the offset.
 */
public final class OffsetAdvance implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(OffsetAdvance.class);

    private final PipelineLockPolicy locks;

    public OffsetAdvance(PipelineLockPolicy locks) {
        this.locks = locks;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Batch batch = exchange.getProperty(Batch.PROPERTY, Batch.class);
        if (batch == null) {
            return;
        }
        String route = exchange.getFromRouteId();
        if (!batch.pipeline().equals(route)) {
            throw new IllegalStateException("route \"" + route + "\" polls pipeline \"" + batch.pipeline()
                    + "\": the first argument of tide.relay_poll must be the route id");
        }
        LockSession session = locks.ownedSession(route);
        if (session == null) {
            throw new IllegalStateException("pipeline " + route + " lost its lock: offset not advanced,"
                    + " the batch ending at id " + batch.lastId() + " will be delivered again");
        }
        boolean moved = session.call(connection -> advance(connection, batch));
        LOG.debug("Pipeline {}: offset {} to ({}, {})", route, moved ? "advanced" : "already at or past", batch.lastTx(),
                batch.lastId());
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
