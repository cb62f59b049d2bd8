package io.pgtide.relay.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.TableSink;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, item 3: the relays of a group share the partitions evenly. 3 relay processes and 12 partitions: 4 each
 * (±1) within 10 s of the third start (from when it joined the group); one killed, 6 each (±1) within 5 s; restarted, 4 each again. pg_locks is
 * sampled throughout: no partition ever has two holders, and every message published meanwhile arrives.
 */
class BalanceTest {

    private static final int PARTITIONS = 12;
    /**
     * A relay may hold all 12: each running partition keeps a pool connection for its batch (camel-sql's poll) and
     * the table sink takes another one.
     */
    private static final Map<String, String> POOL = Map.of(RelaySettings.POOL_SIZE.name(), String.valueOf(2 * PARTITIONS + 2));

    @Test
    @Timeout(value = 180)
    void threeRelaysHoldFourPartitionsEachAndShareADeadOnesAtOnce(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            TableSink sink = TableSink.create(db, routes, "spread", "orders?partitions=" + PARTITIONS + "&delay=100");
            Sampler sampler = new Sampler(db);
            Thread sampling = new Thread(sampler::run, "pg-locks-sampler");
            sampling.start();
            List<ChildRelay> relays = new ArrayList<>();
            try {
                relays.add(ChildRelay.start(db, routes, "a", POOL));
                awaitShares(db, Duration.ofSeconds(60), "relay a holds all 12", Map.of("a", 12));
                relays.add(ChildRelay.start(db, routes, "b", POOL));
                relays.add(ChildRelay.start(db, routes, "c", POOL));
                awaitMembers(db, 3);
                awaitShares(db, Duration.ofSeconds(10), "4 each within 10 s of the third start",
                        Map.of("a", 4, "b", 4, "c", 4));
                publish(db, 0, 200);
                relays.get(2).kill();
                awaitShares(db, Duration.ofSeconds(5), "6 each within 5 s of a kill", Map.of("a", 6, "b", 6));
                publish(db, 200, 200);
                relays.set(2, ChildRelay.start(db, routes, "c", POOL));
                awaitMembers(db, 3);
                awaitShares(db, Duration.ofSeconds(10), "4 each again once it is back", Map.of("a", 4, "b", 4, "c", 4));
                publish(db, 400, 200);
                Pipelines.await(Duration.ofSeconds(30), "every message", () -> db.queryOne(Long.class,
                        "SELECT count(DISTINCT id) FROM public.delivered") == 600);
            } finally {
                sampler.stop.set(true);
                sampling.join();
                for (ChildRelay relay : relays) {
                    relay.close();
                }
            }
            assertTrue(sampler.samples > 50, "pg_locks sampled throughout: " + sampler.samples);
            assertEquals(List.of(), List.copyOf(sampler.doubleHeld), "no partition ever held twice");
            assertTrue(sink.lastArrival() >= 600);
        }
    }

    /**
     * Waits until n relays have joined the group: a relay has started once it is a member (a JVM's own start takes
     * seconds on a loaded machine, and is not what the balance is about).
     */
    private static void awaitMembers(TestDatabase db, int n) throws Exception {
        Pipelines.await(Duration.ofSeconds(60), n + " relays in the group",
                () -> db.queryOne(Integer.class, "SELECT tide.relay_members()") == n);
    }

    /** Waits until each relay holds its expected count of partitions, ±1, and every partition is held. */
    private static void awaitShares(TestDatabase db, Duration timeout, String what, Map<String, Integer> expected)
            throws Exception {
        Pipelines.await(timeout, what, () -> {
            Map<String, Integer> held = held(db);
            int total = held.values().stream().mapToInt(Integer::intValue).sum();
            return total == PARTITIONS && held.keySet().equals(expected.keySet()) && expected.entrySet().stream()
                    .allMatch(e -> Math.abs(held.get(e.getKey()) - e.getValue()) <= 1);
        }, () -> "held: " + held(db));
    }

    /** Partitions held per relay instance, from pg_locks and the lock sessions' names. */
    private static Map<String, Integer> held(TestDatabase db) throws Exception {
        Map<String, Integer> held = new TreeMap<>();
        for (String instance : db.queryList(String.class, "SELECT split_part(a.application_name, ' ', 2)"
                + " FROM tide.relay_lock_pids(?::text[]) h JOIN pg_stat_activity a ON a.pid = h.pid", names())) {
            held.merge(instance, 1, Integer::sum);
        }
        return held;
    }

    private static String names() {
        return IntStream.range(0, PARTITIONS).mapToObj(i -> "spread." + i)
                .collect(Collectors.joining(",", "{", "}"));
    }

    private static void publish(TestDatabase db, int from, int n) throws Exception {
        db.queryOne(Long.class, "SELECT count(tide.outbox_publish('orders', jsonb_build_object('n', g), '{}', 'k' || (g % 50)))"
                + " FROM generate_series(?::int, ?::int) g", from, from + n - 1);
    }

    /** Samples pg_locks every 50 ms: a pipeline whose lock two sessions hold at once is recorded. */
    private static final class Sampler {
        private final TestDatabase db;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final ConcurrentLinkedQueue<String> doubleHeld = new ConcurrentLinkedQueue<>();
        private volatile int samples;

        Sampler(TestDatabase db) {
            this.db = db;
        }

        void run() {
            while (!stop.get()) {
                try {
                    doubleHeld.addAll(db.queryList(String.class, "SELECT pipeline FROM tide.relay_lock_pids(?::text[])"
                            + " GROUP BY pipeline HAVING count(*) > 1", names()));
                    samples++;
                    Thread.sleep(50);
                } catch (Exception e) {
                    doubleHeld.add("sampling failed: " + e);
                    return;
                }
            }
        }
    }
}
