package io.pgtide.relay.lock;

import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a batch this relay polled under an earlier hold of a pipeline's lock is still being sent: a route stop
 * gives up after its grace, the exchange's thread does not. Taking the lock again meanwhile would let a new batch
 * overtake that one's messages on this relay, so the owner waits for it (another relay may take the lock
 * meanwhile), but only so long: an exchange that never ends must not stop the pipeline for good.
 */
final class StaleBatch {

    private static final Logger LOG = LoggerFactory.getLogger(StaleBatch.class);

    private final CamelContext context;
    private final String pipeline;
    private final long patienceNanos;
    /** When the batch was first found still in flight (System.nanoTime), or 0. */
    private long since;

    StaleBatch(CamelContext context, String pipeline, long patienceMillis) {
        this.context = context;
        this.pipeline = pipeline;
        this.patienceNanos = TimeUnit.MILLISECONDS.toNanos(patienceMillis);
    }

    /** True while the owner should wait before it takes the lock again; says so once. */
    boolean inFlight() {
        boolean inFlight = context.getInflightRepository().size(pipeline) > 0;
        if (inFlight && since == 0) {
            LOG.info("Pipeline {}: a batch of its previous hold of the lock is still being sent; waiting for it before"
                    + " taking the lock again", pipeline);
            since = System.nanoTime();
        } else if (!inFlight && since != 0) {
            LOG.info("Pipeline {}: the earlier batch is done", pipeline);
            since = 0;
        }
        if (inFlight && System.nanoTime() - since > patienceNanos) {
            LOG.warn("Pipeline {}: a batch of its previous hold of the lock is still in flight after {} s; going on",
                    pipeline, TimeUnit.NANOSECONDS.toSeconds(patienceNanos));
            return false;
        }
        return inFlight;
    }
}
