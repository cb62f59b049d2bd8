package io.pgtide.relay.lock;

import io.pgtide.relay.db.Database;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one pipeline's route running exactly while this relay holds the pipeline's lock: a task on a scheduled
 * executor of Camel's (one thread per pipeline, named and shown in JMX by Camel) that tries the lock while it is free and starts the route once it holds it, and stops the route as
 * soon as the {@link LockWatch} (or a failed call on the session) finds the lock gone. When the watch finds the
 * pipeline paused, it stops the route gracefully (the batch in flight advances its offset first) and then frees
 * the lock; the start condition keeps it from taking the lock again until the pipeline is resumed. It tries a lock
 * only while this relay holds less than its {@link FairShare}, and hands a lock over the same graceful way when the
 * watch finds this relay above its share.
 */
final class PipelineOwner {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineOwner.class);

    /** How long a stopping route may finish its in-flight batch after the lock was lost. */
    private static final long STOP_AFTER_LOSS_MILLIS = 1000;
    /** How long a paused pipeline's batch in flight may take to be delivered and advance its offset. */
    private static final long STOP_AFTER_PAUSE_MILLIS = 30_000;
    /** While settled, the owner looks at its route this many intervals apart; a lost lock wakes it at once. */
    private static final int SETTLED_TICKS = 10;

    private final String pipeline;
    private final CamelContext context;
    private final Database database;
    private final String instance;
    private final Duration interval;
    private final StartCondition condition;
    private final FairShare share;
    /** True while this owner holds a place in the share: while it holds the lock or tries it. */
    private boolean reserved;
    private boolean standingBy;
    private final StaleBatch staleBatch;
    private ScheduledExecutorService executor;
    /** The next run, when it is not running now. */
    private ScheduledFuture<?> next;
    private volatile boolean closed;
    private volatile LockSession session;
    private LockSession.Attempt lastAttempt;
    private String lastError;
    private volatile String waiting;

    PipelineOwner(String pipeline, CamelContext context, Database database, String instance, Duration interval,
            StartCondition condition, FairShare share) {
        this.share = share;
        this.staleBatch = new StaleBatch(context, pipeline, STOP_AFTER_PAUSE_MILLIS);
        this.pipeline = pipeline;
        this.context = context;
        this.database = database;
        this.instance = instance;
        this.interval = interval;
        this.condition = condition;
    }

    void start() {
        executor = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "pg-tide-lock-" + pipeline);
        schedule(0);
    }

    /** The lock-holding session, or null while this relay does not own the pipeline. */
    LockSession ownedSession() {
        LockSession current = session;
        return current != null && current.held() ? current : null;
    }

    /** Why the pipeline waits before it may take its lock, or null. */
    String waiting() {
        return waiting;
    }

    /**
     * The session lost its lock (found by the lock watch, or by a call on it that failed): act now, not at the
     * next tick, for until the route stops it sends batches whose offsets can no longer move.
     */
    private void wake() {
        schedule(0);
    }

    /** Runs the owner in delayMillis, unless a run is due sooner already. */
    private synchronized void schedule(long delayMillis) {
        if (closed || executor.isShutdown()) {
            return;
        }
        if (next != null) {
            if (next.getDelay(TimeUnit.MILLISECONDS) <= delayMillis) {
                return;
            }
            next.cancel(false);
        }
        next = executor.schedule(this::run, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void run() {
        synchronized (this) {
            // from here on a wake-up schedules a run of its own, after this one
            next = null;
        }
        if (closed) {
            return;
        }
        try {
            tick();
            lastError = null;
        } catch (SQLException | RuntimeException e) {
            String error = String.valueOf(e.getMessage());
            if (!error.equals(lastError)) {
                LOG.warn("Pipeline {}: {}", pipeline, error);
                lastError = error;
            }
            release();
        }
        schedule(settled() ? SETTLED_TICKS * interval.toMillis() : interval.toMillis());
    }

    private void tick() throws SQLException {
        if (!context.isStarted()) {
            // routes start once the context has; until then take no lock
            return;
        }
        if (session != null && session.lost()) {
            LOG.warn("Pipeline {}: lost its lock session; stopping the route", pipeline);
            release();
            return;
        }
        if (session != null && session.release() != null) {
            LOG.info("Pipeline {}: {}; stopping once the batch in flight has advanced, then freeing the lock", pipeline,
                    session.release() == LockSession.Release.PAUSED ? "paused" : "handing over to another relay of the group (this relay's share is "
                            + share.describe() + ")");
            stopRoute(STOP_AFTER_PAUSE_MILLIS);
            release();
            return;
        }
        if (session == null) {
            session = LockSession.open(database, pipeline, instance, (int) Math.max(1000, 2 * interval.toMillis()),
                    this::wake);
        }
        if (session.held()) {
            if (routeStopped()) {
                // the lock can be taken before the route is added to the context (startRoute of an
                // unknown route does nothing): start it once it is there
                startRoute();
            }
            return;
        }
        if (staleBatch.inFlight() || mustWait() || !reserve()) {
            return;
        }
        LockSession.Attempt attempt = session.tryAcquire();
        if (attempt != LockSession.Attempt.ACQUIRED) {
            unreserve();
        }
        if (attempt != lastAttempt) {
            switch (attempt) {
                case STANDBY -> LOG.info("Pipeline {}: the database is a standby; waiting for promotion", pipeline);
                case HELD_ELSEWHERE -> LOG.info("Pipeline {}: owned by another relay; standing by", pipeline);
                case ACQUIRED -> LOG.info("Pipeline {}: lock acquired; starting the route", pipeline);
            }
            lastAttempt = attempt;
        }
        if (attempt == LockSession.Attempt.ACQUIRED && !closed) {
            startRoute();
        }
    }

    /** Takes a place in this relay's share, or says once that the relay holds its share and this pipeline waits. */
    private boolean reserve() {
        if (!reserved && !share.reserve()) {
            if (!standingBy) {
                LOG.info("Pipeline {}: this relay holds its share ({}); standing by", pipeline, share.describe());
                standingBy = true;
            }
            return false;
        }
        reserved = true;
        standingBy = false;
        return true;
    }

    private void unreserve() {
        if (reserved) {
            reserved = false;
            share.release();
        }
    }

    /** True while the start condition is unmet (or the route is not added yet); says so once per reason. */
    private boolean mustWait() throws SQLException {
        Route route = context.getRoute(pipeline);
        if (route == null) {
            return true;
        }
        String reason = session.call(connection -> condition.unmet(route, connection));
        if (reason != null && !reason.equals(waiting)) {
            LOG.warn("Pipeline {}: {}", pipeline, reason);
        } else if (reason == null && waiting != null) {
            LOG.info("Pipeline {}: no longer waiting", pipeline);
        }
        waiting = reason;
        return reason != null;
    }

    /** Holding the lock with the route running: only the lock watch's news of a loss needs an answer. */
    private boolean settled() {
        LockSession current = session;
        return current != null && current.held() && !current.lost() && current.release() == null && routeStarted();
    }

    boolean routeStarted() {
        ServiceStatus status = context.getRouteController().getRouteStatus(pipeline);
        return status != null && status.isStarted();
    }

    private boolean routeStopped() {
        ServiceStatus status = context.getRouteController().getRouteStatus(pipeline);
        return status != null && status.isStopped();
    }

    private void startRoute() {
        try {
            context.getRouteController().startRoute(pipeline);
        } catch (Exception e) {
            LOG.error("Pipeline {}: the route does not start: {}", pipeline, e.getMessage());
            release();
        }
    }

    /** Stops the route (if it runs) and closes the session, which frees the lock. */
    private void release() {
        stopRoute(STOP_AFTER_LOSS_MILLIS);
        LockSession current = session;
        session = null;
        lastAttempt = null;
        if (current != null) {
            current.close();
        }
        unreserve();
    }

    private void stopRoute(long graceMillis) {
        if (closed || context.isStopping() || context.getRoute(pipeline) == null) {
            return;
        }
        try {
            if (context.getRouteController().getRouteStatus(pipeline).isStarted()) {
                context.getRouteController().stopRoute(pipeline, graceMillis, TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            LOG.warn("Pipeline {}: stopping the route failed: {}", pipeline, e.getMessage());
        }
    }

    /** Stops watching and releases the lock; the route must already be stopped or removed. */
    void close() {
        synchronized (this) {
            closed = true;
        }
        context.getExecutorServiceManager().shutdownNow(executor);
        try {
            context.getExecutorServiceManager().awaitTermination(executor, 5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LockSession current = session;
        session = null;
        if (current != null) {
            current.close();
        }
        unreserve();
    }
}
