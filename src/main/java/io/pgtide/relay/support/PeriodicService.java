package io.pgtide.relay.support;

import java.time.Duration;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Camel service that runs {@link #tick()} on a daemon thread of its own every interval while it is
 * started. A failing tick is logged (once per distinct message) and the next one runs as planned.
 */
public abstract class PeriodicService extends ServiceSupport implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(PeriodicService.class);

    private final String name;
    private final Duration interval;
    private final boolean tickFirst;
    private Thread thread;
    private String lastError;

    /**
     * @param name      the thread's name, also used in logs
     * @param interval  pause between ticks
     * @param tickFirst tick at start, before the first pause
     */
    protected PeriodicService(String name, Duration interval, boolean tickFirst) {
        this.name = name;
        this.interval = interval;
        this.tickFirst = tickFirst;
    }

    /** One round of work. */
    protected abstract void tick() throws Exception;

    public Duration interval() {
        return interval;
    }

    @Override
    protected void doStart() {
        thread = new Thread(this, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    protected void doStop() {
        if (thread != null) {
            thread.interrupt();
        }
    }

    @Override
    public void run() {
        boolean first = true;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                if (!first || !tickFirst) {
                    Thread.sleep(interval.toMillis());
                }
                first = false;
                tick();
                lastError = null;
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (isStoppingOrStopped()) {
                    return;   // a session cut short by the stop (or by its server stopping after the relay): expected
                }
                String error = String.valueOf(e.getMessage());
                if (!error.equals(lastError)) {
                    LOG.warn("{}: {}", name, error);
                }
                lastError = error;
            }
        }
    }
}
