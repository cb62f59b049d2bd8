package io.pgtide.relay.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A number of relay processes on one database and routes folder; the owner of a pipeline can be killed with -9 and replaced. */
public final class RelayFleet implements AutoCloseable {

    private final TestDatabase db;
    private final Path routes;
    private final Map<String, String> env;
    private final Map<String, ChildRelay> relays = new LinkedHashMap<>();
    private int started;
    private int kills;

    private RelayFleet(TestDatabase db, Path routes, Map<String, String> env) {
        this.db = db;
        this.routes = routes;
        this.env = env;
    }

    /** Starts {@code size} relays, each with the extra environment. */
    public static RelayFleet start(TestDatabase db, Path routes, int size, Map<String, String> env) throws Exception {
        RelayFleet fleet = new RelayFleet(db, routes, env);
        for (int i = 0; i < size; i++) {
            fleet.startOne();
        }
        return fleet;
    }

    private void startOne() throws Exception {
        String instance = "chaos-" + started++;
        relays.put(instance, ChildRelay.start(db, routes, instance, env));
    }

    /** The instance holding the pipeline's lock, waiting for one up to the timeout. */
    public String awaitOwner(String pipeline, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String instance : relays.keySet()) {
                if (Locks.held(db, instance, pipeline)) {
                    return instance;
                }
            }
            Thread.sleep(50);
        }
        StringBuilder logs = new StringBuilder();
        for (Map.Entry<String, ChildRelay> relay : relays.entrySet()) {
            List<String> lines = relay.getValue().output().lines().toList();
            logs.append("\n--- ").append(relay.getKey()).append(", last lines:\n")
                    .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
        }
        throw new IllegalStateException("no relay of " + relays.keySet() + " took the lock of " + pipeline + " within "
                + timeout.toSeconds() + " s" + logs);
    }

    /** kill -9 of the pipeline's owner and a new relay in its place; returns the killed instance. */
    public String killOwner(String pipeline, Duration ownerTimeout) throws Exception {
        String owner = awaitOwner(pipeline, ownerTimeout);
        ChildRelay killed = relays.remove(owner);
        killed.kill();
        killed.close();
        kills++;
        startOne();
        return owner;
    }

    public int kills() {
        return kills;
    }

    @Override
    public void close() throws Exception {
        for (ChildRelay relay : relays.values()) {
            relay.close();
        }
        relays.clear();
    }
}
