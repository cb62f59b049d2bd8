package io.pgtide.relay.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Application transactions for the chaos run, from several threads until stopped: 1 to 5 messages each
 * over keys {@code k0..k<keys-1>}, a random pause before the commit (so transactions commit out of id
 * order), and a rollback in {@code rollbackPercent} of them. A transaction whose session breaks (a server
 * restart) is in doubt: it may have committed or not, and the database says which. Sessions reconnect.
 */
public final class ChaosProducers implements AutoCloseable {

    private final TestDatabase db;
    private final String outbox;
    private final int keys;
    private final int maxCommitDelayMillis;
    private final int rollbackPercent;
    private final Set<Long> committed = ConcurrentHashMap.newKeySet();
    private final Set<Long> rolledBack = ConcurrentHashMap.newKeySet();
    private final Set<Long> inDoubt = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService threads;
    private final List<Future<?>> work = new ArrayList<>();

    private ChaosProducers(TestDatabase db, String outbox, int threadCount, int keys, int maxCommitDelayMillis,
            int rollbackPercent) {
        this.db = db;
        this.outbox = outbox;
        this.keys = keys;
        this.maxCommitDelayMillis = maxCommitDelayMillis;
        this.rollbackPercent = rollbackPercent;
        this.threads = Executors.newFixedThreadPool(threadCount);
    }

    /** Starts {@code threadCount} publishing threads. */
    public static ChaosProducers start(TestDatabase db, String outbox, int threadCount, int keys,
            int maxCommitDelayMillis, int rollbackPercent) {
        ChaosProducers producers = new ChaosProducers(db, outbox, threadCount, keys, maxCommitDelayMillis, rollbackPercent);
        for (int t = 0; t < threadCount; t++) {
            producers.work.add(producers.threads.submit(producers::produce));
        }
        return producers;
    }

    private Void produce() throws InterruptedException {
        while (running.get()) {
            try (Connection c = db.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT tide.outbox_publish(?, ?::jsonb, '{}', ?)")) {
                c.setAutoCommit(false);
                while (running.get()) {
                    transaction(c, ps);
                }
            } catch (SQLException e) {
                // the server went away (a restart): open a new session once it is back
                Thread.sleep(100);
            }
        }
        return null;
    }

    private void transaction(Connection c, PreparedStatement ps) throws SQLException, InterruptedException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        List<Long> ids = new ArrayList<>();
        try {
            for (int r = 1 + random.nextInt(5); r > 0; r--) {
                String key = "k" + random.nextInt(keys);
                ps.setString(1, outbox);
                ps.setString(2, "{\"key\": \"" + key + "\", \"at\": " + System.nanoTime() + "}");
                ps.setString(3, key);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
            Thread.sleep(random.nextInt(maxCommitDelayMillis + 1));
            if (random.nextInt(100) < rollbackPercent) {
                c.rollback();
                rolledBack.addAll(ids);
            } else {
                c.commit();
                committed.addAll(ids);
            }
        } catch (SQLException e) {
            inDoubt.addAll(ids);
            throw e;
        }
    }

    /** Messages of transactions known to have committed so far. */
    public int committedCount() {
        return committed.size();
    }

    /** Stops publishing and waits for the threads' last transactions. */
    public void stop() throws Exception {
        running.set(false);
        for (Future<?> f : work) {
            f.get(1, TimeUnit.MINUTES);
        }
    }

    public Set<Long> committed() {
        return committed;
    }

    public Set<Long> rolledBack() {
        return rolledBack;
    }

    /** Ids of transactions whose session broke before the commit was confirmed. */
    public Set<Long> inDoubt() {
        return inDoubt;
    }

    @Override
    public void close() {
        running.set(false);
        threads.shutdownNow();
    }
}
