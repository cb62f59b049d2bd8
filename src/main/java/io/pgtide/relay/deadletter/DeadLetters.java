package io.pgtide.relay.deadletter;

import io.pgtide.relay.batch.TideConstants;
import io.pgtide.relay.lock.LockSession;
import io.pgtide.relay.lock.PipelineLockPolicy;
import io.pgtide.relay.metrics.RelayMetrics;
import io.pgtide.relay.batch.Batch;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.apache.camel.CamelExchangeException;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a pipeline does with a message that still fails after its retries for a reason of its own ({@link Poison}).
 * When the failure names the message (a split over the batch stopped at it, {@link AcknowledgedPrefix}), the
 * messages before it were acknowledged: the offset moves to the last of them, so none is sent again; then the
 * poison goes to {@code tide.relay_dlq} and the offset moves past it in the same statement
 * ({@code tide.relay_dead_letter}), so a dead letter that cannot be written never moves the offset past it.
 * A batch that failed as a whole cannot say which message is the poison: the pipeline goes on one message at a
 * time up to the batch's end ({@code tide.relay_isolate}), and the message that fails alone is the poison. A
 * pipeline whose source says {@code onPoison=hold} keeps the poison: its offset stays before it and the poison is
 * tried again at every poll. All of it runs on the lock-holding session.
 */
public record DeadLetters(PipelineLockPolicy locks, RelayMetrics metrics) implements Processor {

    /** Route property: what the pipeline does with a poison, {@link #DEAD_LETTER} (the default) or {@link #HOLD}. */
    public static final String ON_POISON = "pgTideOnPoison";
    public static final String DEAD_LETTER = "dead-letter";
    public static final String HOLD = "hold";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    private static final int MAX_ERROR_LENGTH = 2000;

    @Override
    public void process(Exchange exchange) throws Exception {
        Batch batch = exchange.getProperty(TideConstants.BATCH, Batch.class);
        String route = exchange.getFromRouteId();
        LockSession session = locks.ownedSession(route);
        if (batch == null || session == null || !batch.pipeline().equals(route)) {
            return;
        }
        Exchange part = failedPart(exchange);
        String error = describe(Poison.caught(part));
        int failed = batch.size() == 1 ? 0 : failedMessage(part, batch);
        if (failed < 0) {
            session.call(c -> run(c.prepareStatement("SELECT tide.relay_isolate(?, ?, ?::xid8, ?)"), batch,
                    batch.positions().get(batch.size() - 1)));
            LOG.warn("Pipeline {}: a batch of outbox {} failed for good ({}); delivering one message at a time up to id {}",
                    route, batch.outbox(), error, batch.lastId());
            return;
        }
        Batch.Position poison = batch.positions().get(failed);
        String message = batch.outbox() + ":" + poison.id() + " (tx " + poison.tx() + ")";
        if (failed > 0) {
            // the acknowledged prefix first: it stays delivered even when the dead letter cannot be written
            session.call(c -> run(c.prepareStatement("SELECT tide.relay_advance(?, ?, ?::xid8, ?)"), batch,
                    batch.positions().get(failed - 1)));
        }
        if (HOLD.equals(onPoison(exchange, route))) {
            LOG.warn("Pipeline {}: message {} still fails after its retries ({}): holding the pipeline at it"
                    + " (onPoison=hold); fix the sink or the message", route, message, error);
            metrics.poison(route, batch.outbox(), RelayMetrics.HELD);
            return;
        }
        int attempts = 1 + part.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class);
        session.call(c -> {
            PreparedStatement ps = c.prepareStatement("SELECT tide.relay_dead_letter(?, ?, ?::xid8, ?, ?, ?)");
            ps.setString(5, error);
            ps.setInt(6, attempts);
            return run(ps, batch, poison);
        });
        LOG.warn("Pipeline {}: message {} failed {} times ({}): moved to tide.relay_dlq; the pipeline goes on",
                route, message, attempts, error);
        metrics.poison(route, batch.outbox(), RelayMetrics.DEAD_LETTERED);
    }

    /**
     * The exchange that carries the failed message: the split's part that stopped the batch (its message has the
     * outbox row's headers), or the batch's own exchange.
     */
    private static Exchange failedPart(Exchange exchange) {
        for (Throwable t = Poison.caught(exchange); t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CamelExchangeException split && split.getExchange() != null
                    && split.getExchange() != exchange) {
                return failedPart(split.getExchange());
            }
        }
        return exchange;
    }

    /** The index in the batch of the message this exchange carries when the messages before it were acknowledged. */
    private static int failedMessage(Exchange exchange, Batch batch) {
        String id = exchange.getMessage().getHeader(TideConstants.ID, String.class);
        if (id == null || !batch.outbox().equals(exchange.getMessage().getHeader(TideConstants.OUTBOX))
                || !AcknowledgedPrefix.before(exchange)) {
            return -1;
        }
        return batch.indexOf(Long.parseLong(id));
    }

    private static String onPoison(Exchange exchange, String routeId) {
        Route route = exchange.getContext().getRoute(routeId);
        Object value = route == null ? null : route.getProperties().get(ON_POISON);
        return value == null ? DEAD_LETTER : value.toString();
    }

    private static boolean run(PreparedStatement ps, Batch batch, Batch.Position position) throws SQLException {
        try (ps) {
            ps.setString(1, batch.pipeline());
            ps.setString(2, batch.outbox());
            ps.setString(3, position.tx());
            ps.setLong(4, position.id());
            return ps.execute();
        }
    }

    private static String describe(Throwable error) {
        // a split's wrapper says only which part failed: the part's own failure says why
        while (error instanceof CamelExchangeException && error.getCause() != null) {
            error = error.getCause();
        }
        String text = error == null ? "rejected" : error.getClass().getSimpleName() + ": " + error.getMessage();
        return text.length() <= MAX_ERROR_LENGTH ? text : text.substring(0, MAX_ERROR_LENGTH);
    }
}
