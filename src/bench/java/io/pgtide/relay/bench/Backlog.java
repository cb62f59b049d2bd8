package io.pgtide.relay.bench;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/** Fills an outbox with a backlog in one statement and times a relay draining it, for the sink benchmarks. */
public final class Backlog {

    /**
     * About 1 KiB of JSON per message, as a SQL expression of the row number {@code g}. {@code -Dbench.payload} picks
     * its shape: {@code note} (the default) is three fields, one a 960-character string, the cheapest document for
     * PostgreSQL to print; {@code order} is an order with ten line items, numbers and hashes, as an application would
     * publish. The shape matters: printing jsonb as text is part of every poll.
     */
    public static final String PAYLOAD_SQL = switch (System.getProperty("bench.payload", "note")) {
        case "note" -> "jsonb_build_object('order', g, 'customer', 'c' || (g % 97), 'note', repeat('x', 960))";
        case "order" -> "jsonb_build_object('order_id', g, 'customer_id', 'c' || (g % 97),"
                + " 'placed_at', now() - g * interval '1 second', 'currency', 'EUR',"
                + " 'total', round((random() * 1000)::numeric, 2), 'note', md5(g::text),"
                + " 'items', (SELECT jsonb_agg(jsonb_build_object('sku', md5((g * 10 + i)::text),"
                + " 'quantity', (random() * 5)::int + 1, 'unit_price', round((random() * 100)::numeric, 2)))"
                + " FROM generate_series(1, 10) i))";
        default -> throw new IllegalArgumentException("bench.payload: note or order, not " + System.getProperty("bench.payload"));
    };

    /**
     * The rows' headers: {@code type}, and with {@code -Dbench.traceparent=true} a W3C {@code traceparent} of its own
     * per row, as a traced publisher writes it.
     */
    private static final String HEADERS_SQL = Boolean.getBoolean("bench.traceparent")
            ? "jsonb_build_object('type', 'order.created', 'traceparent',"
                    + " '00-' || md5(g::text) || '-' || substr(md5('s' || g), 1, 16) || '-01')"
            : "'{\"type\": \"order.created\"}'";

    private Backlog() {
    }

    /** Creates outbox 'orders' and inserts {@code messages} rows over 97 keys, analysed so the first poll plans well. */
    public static void fill(TestDatabase db, int messages) throws SQLException {
        db.execute("SELECT tide.outbox_create('orders')");
        append(db, messages);
    }

    /** Appends {@code messages} more rows to outbox 'orders' in one transaction. */
    public static void append(TestDatabase db, int messages) throws SQLException {
        db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers)"
                + " SELECT 'orders', 'c' || (g % 97), " + PAYLOAD_SQL + ", " + HEADERS_SQL
                + " FROM generate_series(1, " + messages + ") g");
        db.execute("VACUUM ANALYZE tide.tide_outbox_messages");
    }

    /**
     * Starts a relay on the routes folder and returns msg/s of the pipeline from its first advanced offset to
     * the last row: the clock starts after the first batch so relay start-up is not counted.
     */
    public static double drainRate(TestDatabase db, Path routes, String pipeline) throws Exception {
        long last = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");
        String offset = "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = '" + pipeline + "'";
        try (RelayHarness relay = RelayHarness.start(db, routes, "bench")) {
            long firstBatchEnd = waitAbove(db, offset, 0);
            long start = System.nanoTime();
            waitAbove(db, offset, last - 1);
            return (last - firstBatchEnd) / ((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * The same for a pipeline of {@code partitions} partitions: msg/s from the moment every partition has advanced
     * once until none has a message left, counting what the partitions' offsets passed meanwhile.
     */
    public static double drainRate(TestDatabase db, Path routes, String pipeline, int partitions) throws Exception {
        try (RelayHarness relay = RelayHarness.start(db, routes, "bench",
                Map.of(RelaySettings.POOL_SIZE.name(), String.valueOf(2 * partitions + 4)))) {
            return drainPartitions(db, pipeline, partitions, () -> 0).rate();
        }
    }

    /** A drain of a running pipeline: msg/s, and the CPU seconds {@code cpu} counted meanwhile per message. */
    record Drain(double rate, double cpuMicrosPerMessage) {
    }

    /**
     * Waits until every partition of the running pipeline (1 for a pipeline not partitioned) has advanced once, then
     * measures until none has a message left; {@code cpu} reads the CPU seconds of the processes that do the work.
     */
    static Drain drainPartitions(TestDatabase db, String pipeline, int partitions, DoubleSupplier cpu) throws Exception {
        String which = " WHERE '" + pipeline + "' IN (pipeline, partition_of)";
        String left = "SELECT coalesce(sum(pending), -1)::bigint FROM tide.consumer_lag" + which;
        waitAbove(db, "SELECT count(*) FILTER (WHERE last_id > 0) FROM tide.relay_consumer_offsets" + which,
                partitions - 1);
        double cpuBefore = cpu.getAsDouble();
        long start = System.nanoTime();
        long leftAtStart = db.queryOne(Long.class, left);
        waitAbove(db, "SELECT -(" + left + ")", -1);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Drain(leftAtStart / seconds, (cpu.getAsDouble() - cpuBefore) * 1e6 / leftAtStart);
    }

    /**
     * Polls a count-like query until it exceeds {@code above}; returns the value seen. Fails once the value has not
     * moved for two minutes, so that a stalled contender is reported in minutes, not after a fixed long wait.
     */
    public static long waitAbove(TestDatabase db, String sql, long above) throws SQLException, InterruptedException {
        Long seen = null;
        long lastMove = System.nanoTime();
        while (true) {
            Long value = db.queryOne(Long.class, sql);
            if (value != null && value > above) {
                return value;
            }
            if (!Objects.equals(value, seen)) {
                seen = value;
                lastMove = System.nanoTime();
            } else if (System.nanoTime() - lastMove > STALL_NANOS) {
                throw new IllegalStateException("stalled at " + seen + " (waiting for more than " + above
                        + ") for 2 minutes: " + sql);
            }
            Thread.sleep(20);
        }
    }

    private static final long STALL_NANOS = 120_000_000_000L;
}
