package io.pgtide.relay.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.retention.SweepSchedule;
import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The relay's retention schedule sweeps under its own lock: one relay sweeps at a time. */
class SweepScheduleTest {

    @Test
    void sweepsDeliveredOldRowsOnlyWhileItHoldsTheSweepLock() throws Exception {
        try (TestDatabase db = TestDatabase.withExtension();
             Database database = new Database(db.url(), "default", "sweeper", 2)) {
            db.execute("SELECT tide.outbox_create('orders', 1)");
            for (int i = 0; i < 5; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            db.execute("UPDATE tide.tide_outbox_messages SET created_at = now() - interval '2 hours'");
            SweepSchedule sweep = new SweepSchedule(database, Duration.ofSeconds(60));
            try (Connection other = db.connect(); Statement st = other.createStatement()) {
                st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('#sweep'))");
                assertEquals(-1, sweep.sweepOnce(), "another relay is sweeping");
                assertEquals(5L, db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_messages"));
            }
            // rows above the server-wide horizon (a transaction open elsewhere) wait for the next sweep
            long swept = 0;
            for (long deadline = System.nanoTime() + 10_000_000_000L; swept < 5 && System.nanoTime() < deadline; ) {
                swept += sweep.sweepOnce();
                Thread.sleep(50);
            }
            assertEquals(5, swept);
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.tide_outbox_messages"));
        }
    }
}
