package io.pgtide.relay.health;

import io.pgtide.relay.batch.Batch;
import io.pgtide.relay.batch.TideConstants;
import io.pgtide.relay.lock.LockSession;
import io.pgtide.relay.lock.PipelineLockPolicy;
import io.pgtide.relay.support.Causes;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records a pipeline's failed sends in the database ({@code tide.relay_failed}, on the session holding its lock), so
 * that {@code tide.consumer_lag} shows every relay's pipelines as retrying or failing, with the last error, whichever
 * relay runs them. The next delivery clears it ({@code tide.relay_advance}).
 */
public final class DeliveryFailures {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryFailures.class);

    private final PipelineLockPolicy locks;

    public DeliveryFailures(PipelineLockPolicy locks) {
        this.locks = locks;
    }

    /** For the error handler's onExceptionOccurred: one send failed and will be retried. */
    public void sendFailed(Exchange exchange) {
        record(exchange, false);
    }

    /** For the failure completion: the batch used up its retries and will be polled again. */
    public void gaveUp(Exchange exchange) {
        record(exchange, true);
    }

    /** Never throws: a failure that cannot be recorded must not change what happens to the batch. */
    private void record(Exchange exchange, boolean gaveUp) {
        Batch batch = exchange.getProperty(TideConstants.BATCH, Batch.class);
        LockSession session = batch == null ? null : locks.ownedSession(batch.pipeline());
        if (session == null) {
            return;
        }
        String error = Causes.reason(Causes.of(exchange));
        try {
            session.call(connection -> {
                try (PreparedStatement ps = connection.prepareStatement("SELECT tide.relay_failed(?, ?, ?, ?)")) {
                    ps.setString(1, batch.pipeline());
                    ps.setString(2, batch.outbox());
                    ps.setString(3, error);
                    ps.setBoolean(4, gaveUp);
                    ps.execute();
                }
                return null;
            });
        } catch (SQLException e) {
            LOG.debug("Pipeline {}: failure not recorded ({})", batch.pipeline(), e.getMessage());
        }
    }
}
