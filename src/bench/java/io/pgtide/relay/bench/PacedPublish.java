package io.pgtide.relay.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A publishing session's transaction at a fixed pace, as the latency and soak benchmarks publish. */
final class PacedPublish {

    /** The publish of one message of about 1 KiB to outbox orders; its parameter is the number of the key. */
    static final String STATEMENT =
            "SELECT tide.outbox_publish('orders', jsonb_build_object('note', repeat('x', 960)), '{}', 'k' || ?)";

    private PacedPublish() {
    }

    /**
     * Waits until {@code dueNanos} (System.nanoTime), then publishes transaction {@code n} of the session: {@code perTx}
     * messages through {@code ps} (prepared from {@link #STATEMENT}) over {@code keys} keys, committed as one when
     * more than one (the connection's auto-commit then off). Returns their ids.
     */
    static long[] transaction(Connection c, PreparedStatement ps, long dueNanos, long n, int perTx, int keys)
            throws SQLException, InterruptedException {
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        long[] ids = new long[perTx];
        for (int i = 0; i < perTx; i++) {
            ps.setLong(1, (n * perTx + i) % keys);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                ids[i] = rs.getLong(1);
            }
        }
        if (perTx > 1) {
            c.commit();
        }
        return ids;
    }
}
