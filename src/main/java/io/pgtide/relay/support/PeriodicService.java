package io.pgtide.relay.support;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Camel service that runs {@link #tick()} every interval while it is started, on a scheduled executor of
 * Camel's {@link org.apache.camel.spi.ExecutorServiceManager}: Camel names its thread, shows it in JMX and shuts it
 * down with the context. A failing tick is logged (once per distinct message) and the next one runs as planned.
 */
public abstract class PeriodicService extends ServiceSupport implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(PeriodicService.class);

    private final String name;
    private final Duration interval;
    private final boolean tickFirst;
    private CamelContext camelContext;
    private ScheduledExecutorService executor;
    private String lastError;

    /**
     * @param name      the executor's name, also used in logs
     * @param interval  pause between ticks
     * @param tickFirst tick at start, before the first pause
     */
    protected PeriodicService(String name, Duration interval, boolean tickFirst) {
        this.name = name;
        this.interval = interval;
        this.tickFirst = tickFirst;
    }

    /** The pause between ticks, for a subclass that judges how fresh its last tick is. */
    protected Duration interval() {
        return interval;
    }

    /** Work that may fail, as a tick runs it. */
    @FunctionalInterface
    public interface Task {
        void run() throws Exception;
    }

    /** A service that runs {@code task} every interval, after the first pause. */
    public static PeriodicService every(String name, Duration interval, Task task) {
        return new PeriodicService(name, interval, false) {
            @Override
            protected void tick() throws Exception {
                task.run();
            }
        };
    }

    /** One round of work; an interrupt asks a long one to end. */
    protected abstract void tick() throws Exception;

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    @Override
    protected void doStart() {
        executor = camelContext.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, name);
        long millis = interval.toMillis();
        executor.scheduleWithFixedDelay(this::runTick, tickFirst ? 0 : millis, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() {
        if (executor != null) {
            // interrupts a tick in progress, as a long one (the wake-up listener's) ends only so
            camelContext.getExecutorServiceManager().shutdownNow(executor);
            executor = null;
        }
    }

    private void runTick() {
        try {
            tick();
            lastError = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
