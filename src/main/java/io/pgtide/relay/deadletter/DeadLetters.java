package io.pgtide.relay.deadletter;

import io.pgtide.relay.lock.LockSession;
import io.pgtide.relay.lock.PipelineLockPolicy;
import io.pgtide.relay.offset.Batch;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a pipeline does when its sink rejects a batch for good ({@link PermanentFailures}). A batch of
 * several messages cannot say which one is the poison: the pipeline goes on one message at a time up to
 * the batch's end ({@code tide.relay_isolate}). A batch of one is the poison: it goes to
 * {@code tide.relay_dlq} and the offset moves past it in the same statement ({@code tide.relay_dead_letter}),
 * so a dead letter that cannot be written never moves the offset. Both run on the lock-holding session.
 */
public final class DeadLetters implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    private static final int MAX_ERROR_LENGTH = 2000;

    private final PipelineLockPolicy locks;

    public DeadLetters(PipelineLockPolicy locks) {
        this.locks = locks;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Batch batch = exchange.getProperty(Batch.PROPERTY, Batch.class);
        String route = exchange.getFromRouteId();
        LockSession session = locks.ownedSession(route);
        if (batch == null || session == null || !batch.pipeline().equals(route)) {
            return;
        }
        Throwable error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (batch.size() > 1) {
            session.call(c -> run(c.prepareStatement("SELECT tide.relay_isolate(?, ?, ?::xid8, ?)"), batch));
            LOG.warn("Pipeline {}: the sink rejected a batch ({}); delivering one message at a time up to id {}",
                    route, describe(error), batch.lastId());
        } else {
            int attempts = 1 + exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class);
            session.call(c -> {
                PreparedStatement ps = c.prepareStatement("SELECT tide.relay_dead_letter(?, ?, ?::xid8, ?, ?, ?)");
                ps.setString(5, describe(error));
                ps.setInt(6, attempts);
                return run(ps, batch);
            });
            LOG.warn("Pipeline {}: message {}:{} rejected by the sink ({}): moved to tide.relay_dlq", route,
                    batch.outbox(), batch.lastId(), describe(error));
        }
    }

    private static boolean run(PreparedStatement ps, Batch batch) throws SQLException {
        try (ps) {
            ps.setString(1, batch.pipeline());
            ps.setString(2, batch.outbox());
            ps.setString(3, batch.lastTx());
            ps.setLong(4, batch.lastId());
            return ps.execute();
        }
    }

    private static String describe(Throwable error) {
        String text = error == null ? "rejected" : error.getClass().getSimpleName() + ": " + error.getMessage();
        return text.length() <= MAX_ERROR_LENGTH ? text : text.substring(0, MAX_ERROR_LENGTH);
    }
}
