package io.pgtide.relay.deadletter;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;

/**
 * Tells whether a batch that failed after its retries failed because of one of its messages: any failure that is
 * neither transient ({@link TransientFailures}) nor a permanent rejection, which {@link DeadLetters} handled
 * already, without retries ({@link PermanentFailures}). A failure while the relay stops is never a message's.
 */
public final class Poison implements Predicate {

    private final PermanentFailures permanent;

    public Poison(PermanentFailures permanent) {
        this.permanent = permanent;
    }

    /**
     * Also keeps the failure in {@link Exchange#EXCEPTION_CAUGHT}: Camel evaluates an onCompletion's predicate on the
     * failed exchange, then hands its processor a copy without the exception.
     */
    @Override
    public boolean matches(Exchange exchange) {
        Throwable caught = caught(exchange);
        if (caught == null || exchange.getContext().isStopping() || permanent.permanent(caught)
                || TransientFailures.isTransient(caught)) {
            return false;
        }
        exchange.setProperty(Exchange.EXCEPTION_CAUGHT, caught);
        return true;
    }

    static Throwable caught(Exchange exchange) {
        return exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
    }
}
