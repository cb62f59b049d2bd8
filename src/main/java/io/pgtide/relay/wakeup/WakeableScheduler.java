package io.pgtide.relay.wakeup;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.Consumer;
import org.apache.camel.spi.RouteIdAware;
import org.apache.camel.support.DefaultScheduledPollConsumerScheduler;
import org.apache.camel.support.ScheduledPollConsumer;

/**
 * The poll scheduler of a pipeline's consumer ({@code scheduler: "#pgTideWakeup"}): polls every {@code delay}
 * as Camel's default scheduler does, and also at once when {@link OutboxListener} hears that the pipeline's
 * outbox got a message. Wake-up polls run on the consumer's single poll thread, so polls never overlap.
 */
public final class WakeableScheduler extends DefaultScheduledPollConsumerScheduler {

    private final OutboxListener listener;
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private String pipeline;
    private Runnable poll;

    public WakeableScheduler(OutboxListener listener) {
        super(null);
        this.listener = listener;
    }

    @Override
    public void onInit(Consumer consumer) {
        super.onInit(consumer);
        // Camel hands its delay options to the default scheduler only: take them from the consumer
        if (consumer instanceof ScheduledPollConsumer scheduled) {
            setDelay(scheduled.getDelay());
            setInitialDelay(scheduled.getInitialDelay());
            setTimeUnit(scheduled.getTimeUnit());
            setUseFixedDelay(scheduled.isUseFixedDelay());
        }
        pipeline = consumer instanceof RouteIdAware route ? route.getRouteId() : null;
    }

    @Override
    public void scheduleTask(Runnable task) {
        super.scheduleTask(task);
        this.poll = task;
    }

    @Override
    public void startScheduler() {
        super.startScheduler();
        if (pipeline != null) {
            listener.register(pipeline, this);
        }
    }

    @Override
    protected void doStop() throws Exception {
        if (pipeline != null) {
            listener.unregister(pipeline, this);
        }
        super.doStop();
    }

    /** Polls now, unless a wake-up poll is already waiting for the poll thread. */
    void wake() {
        ScheduledExecutorService executor = getScheduledExecutorService();
        if (!isSchedulerStarted() || executor == null || !wakePending.compareAndSet(false, true)) {
            return;
        }
        try {
            executor.execute(() -> {
                // cleared before the poll: a message published while it runs wakes the next one
                wakePending.set(false);
                poll.run();
            });
        } catch (RejectedExecutionException stopping) {
            wakePending.set(false);
        }
    }
}
