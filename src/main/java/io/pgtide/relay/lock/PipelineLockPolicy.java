package io.pgtide.relay.lock;

import io.pgtide.relay.db.Database;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.support.RoutePolicySupport;

/**
 * Route policy that gives each route it guards exactly one owner among all relays of a group:
 * the route starts only on the relay holding {@code pg_try_advisory_lock(tide.relay_lock_key(routeId))}
 * on a dedicated session, and stops within about a second once that session is lost (one {@link LockWatch}
 * query per interval checks every held lock). On a
 * standby it takes no lock and starts nothing. The relays of a group share the routes evenly ({@link FairShare}). It
 * is not tied to outboxes: any route may use it.
 */
public final class PipelineLockPolicy extends RoutePolicySupport {

    private final Database database;
    private final String instance;
    private final Duration interval;
    private final Map<String, PipelineOwner> owners = new ConcurrentHashMap<>();
    private final LockWatch watch;
    private final StartCondition condition;
    private final FairShare share;
    private Consumer<String> pipelineAdded = pipeline -> { };
    private Consumer<String> pipelineRemoved = pipeline -> { };

    /** @param condition what must hold before a route may take its lock (checked while it waits) */
    public PipelineLockPolicy(Database database, String instance, Duration interval, StartCondition condition) {
        this.database = database;
        this.condition = condition;
        this.instance = instance;
        this.interval = interval;
        this.share = new FairShare(this::startable);
        this.watch = new LockWatch(database, instance, interval, this::heldSessions, share);
    }

    /** Called with the id of every route this policy starts guarding, and of every route it stops guarding. */
    public void onPipelines(Consumer<String> added, Consumer<String> removed) {
        this.pipelineAdded = added;
        this.pipelineRemoved = removed;
    }

    @Override
    public void onInit(Route route) {
        // the owner thread starts the route once the lock is held
        route.setAutoStartup(false);
        CamelContext context = route.getCamelContext();
        if (watch.getCamelContext() == null) {
            watch.setCamelContext(context);
        }
        watch.start();
        owners.computeIfAbsent(route.getRouteId(),
                id -> {
                    PipelineOwner owner = new PipelineOwner(id, context, database, instance, interval, condition, share);
                    owner.start();
                    return owner;
                });
        pipelineAdded.accept(route.getRouteId());
    }

    @Override
    public void onRemove(Route route) {
        PipelineOwner owner = owners.remove(route.getRouteId());
        if (owner != null) {
            owner.close();
        }
        pipelineRemoved.accept(route.getRouteId());
    }

    /** The session holding the pipeline's lock, or null when this relay does not own it. */
    public LockSession ownedSession(String pipeline) {
        PipelineOwner owner = owners.get(pipeline);
        return owner == null ? null : owner.ownedSession();
    }

    /** True while this relay owns the pipeline. */
    public boolean owns(String pipeline) {
        return ownedSession(pipeline) != null;
    }

    /** True while this relay owns the pipeline and its route runs: what the lock_held metric reports. */
    public boolean runs(String pipeline) {
        PipelineOwner owner = owners.get(pipeline);
        return owner != null && owner.ownedSession() != null && owner.routeStarted();
    }

    /** The pipelines that wait before they may take their lock, each with the reason. */
    public Map<String, String> waiting() {
        Map<String, String> waiting = new TreeMap<>();
        owners.forEach((pipeline, owner) -> {
            String reason = owner.waiting();
            if (reason != null) {
                waiting.put(pipeline, reason);
            }
        });
        return waiting;
    }

    /** The pipelines of this relay that may run now: those not waiting to start (paused, no outbox...). */
    private int startable() {
        return (int) owners.values().stream().filter(owner -> owner.waiting() == null).count();
    }

    private List<LockSession> heldSessions() {
        return owners.values().stream().map(PipelineOwner::ownedSession).filter(Objects::nonNull).toList();
    }

    /** Releases every lock; called once the routes have stopped. */
    public void releaseAll() {
        watch.stop();
        owners.values().forEach(PipelineOwner::close);
        owners.clear();
    }
}
