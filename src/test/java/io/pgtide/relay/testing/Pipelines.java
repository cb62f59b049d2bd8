package io.pgtide.relay.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;

/** Pipeline files, offsets and waits shared by the relay and sink tests. */
public final class Pipelines {

    private Pipelines() {
    }

    /** Writes the outbox → Kafka pipeline of routes/ with the test broker's address. */
    public static Path kafkaPipeline(Path folder, String pipeline, String outbox, String topic, String brokers)
            throws IOException {
        String yaml = Files.readString(Path.of("routes/orders-to-kafka.yaml"))
                .replace("orders-to-kafka", pipeline)
                .replace("tide:orders", "tide:" + outbox)
                .replace("kafka:orders", "kafka:" + topic)
                .replace("{{kafka.brokers:localhost:9092}}", brokers);
        Path file = folder.resolve(pipeline + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** The pipeline's offset id, or -1 before it registered. */
    public static long offset(TestDatabase db, String pipeline) throws SQLException {
        Long id = db.queryOne(Long.class, "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = ?", pipeline);
        return id == null ? -1 : id;
    }

    /** The id of the outbox's last row in (tx, id) order. */
    public static long lastRow(TestDatabase db, String outbox) throws SQLException {
        return db.queryOne(Long.class,
                "SELECT id FROM tide.outbox_messages WHERE outbox_name = ? ORDER BY tx DESC, id DESC LIMIT 1", outbox);
    }

    /** Waits until the condition holds; fails with the message after the timeout. */
    public static void await(Duration timeout, String what, Check check) throws Exception {
        await(timeout, what, check, () -> "");
    }

    /** Waits until the condition holds; on timeout the failure adds what {@code seen} describes at that moment. */
    public static void await(Duration timeout, String what, Check check, Seen seen) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                String detail = seen.describe();
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + (detail.isEmpty() ? "" : "; " + detail));
            }
            Thread.sleep(50);
        }
    }

    @FunctionalInterface
    public interface Check {
        boolean holds() throws Exception;
    }

    /** What a test saw, for the failure message of a wait that timed out. */
    @FunctionalInterface
    public interface Seen {
        String describe() throws Exception;
    }
}
