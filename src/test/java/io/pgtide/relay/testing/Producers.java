package io.pgtide.relay.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Application transactions publishing to an outbox from several threads: 1 to 5 messages per
 * transaction, keys {@code k0..k9}, headers {@code type} and {@code n}. Remembers what committed.
 */
public final class Producers implements AutoCloseable {

    private final TestDatabase db;
    private final String outbox;
    private final ConcurrentLinkedQueue<Long> committed = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService threads;
    private final List<Future<?>> work = new ArrayList<>();

    private Producers(TestDatabase db, String outbox, int threadCount) {
        this.db = db;
        this.outbox = outbox;
        this.threads = Executors.newFixedThreadPool(threadCount);
    }

    /** Publishes {@code total} messages from {@code threadCount} threads and waits for them. */
    public static List<Long> publish(TestDatabase db, String outbox, int threadCount, int total) throws Exception {
        try (Producers producers = new Producers(db, outbox, threadCount)) {
            for (int t = 0; t < threadCount; t++) {
                int share = total / threadCount + (t < total % threadCount ? 1 : 0);
                producers.work.add(producers.threads.submit(() -> producers.produce(share, 0)));
            }
            producers.await();
            return new ArrayList<>(producers.committed);
        }
    }

    /** Publishes in the background, {@code perSecond} messages a second per thread, until {@link #stop()}. */
    public static Producers background(TestDatabase db, String outbox, int threadCount, int perSecond) {
        Producers producers = new Producers(db, outbox, threadCount);
        for (int t = 0; t < threadCount; t++) {
            producers.work.add(producers.threads.submit(() -> producers.produce(Integer.MAX_VALUE, 1000 / perSecond)));
        }
        return producers;
    }

    private Void produce(int messages, int pauseMillis) throws SQLException, InterruptedException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT tide.outbox_publish(?, ?::jsonb, ?::jsonb, ?)")) {
            c.setAutoCommit(false);
            int sent = 0;
            while (sent < messages && running.get()) {
                int rows = Math.min(messages - sent, 1 + random.nextInt(5));
                List<Long> ids = new ArrayList<>(rows);
                for (int r = 0; r < rows; r++) {
                    int n = sent + r;
                    ps.setString(1, outbox);
                    ps.setString(2, "{\"order\": " + n + ", \"note\": \"caf\u00e9 \\\"quoted\\\"\"}");
                    ps.setString(3, "{\"type\": \"order.created\", \"n\": \"" + n + "\"}");
                    ps.setString(4, "k" + random.nextInt(10));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        ids.add(rs.getLong(1));
                    }
                }
                if (pauseMillis > 0) {
                    Thread.sleep(random.nextInt(pauseMillis * rows + 1));
                }
                c.commit();
                committed.addAll(ids);
                sent += rows;
            }
        }
        return null;
    }

    /** Ids committed so far. */
    public List<Long> committed() {
        return new ArrayList<>(committed);
    }

    /** Stops publishing, waits for the threads, and returns every committed id. */
    public List<Long> stop() throws Exception {
        running.set(false);
        await();
        return committed();
    }

    private void await() throws Exception {
        for (Future<?> f : work) {
            f.get(5, TimeUnit.MINUTES);
        }
    }

    @Override
    public void close() {
        running.set(false);
        threads.shutdownNow();
    }
}
