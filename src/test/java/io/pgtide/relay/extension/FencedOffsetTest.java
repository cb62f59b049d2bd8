package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Invariant 4 of docs/DESIGN.md: only the session holding a pipeline's lock moves its offset, and only forward. */
class FencedOffsetTest {

    private TestDatabase db;

    @BeforeEach
    void publishThree() throws Exception {
        db = TestDatabase.withOutbox("orders");
        for (int i = 0; i < 3; i++) {
            db.execute("SELECT tide.outbox_publish('orders', '{\"n\": " + i + "}')");
        }
    }

    @AfterEach
    void dropDatabase() throws Exception {
        db.close();
    }

    private Long lastId() throws Exception {
        return db.queryOne(Long.class, "SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = 'p1'");
    }

    @Test
    void anAdvanceFromASessionWithoutTheLockIsRefused() throws Exception {
        try (Poller owner = new Poller(db.connect(), db.connect(), "p1", "orders"); Connection stranger = db.connect()) {
            List<Poller.Row> batch = owner.pollAtLeast(3, 10);
            Poller.Row last = batch.get(batch.size() - 1);
            SQLException refused = assertThrows(SQLException.class,
                    () -> Poller.advance(stranger, "p1", "orders", last.tx(), last.id()));
            assertEquals("55P03", refused.getSQLState());
            assertTrue(refused.getMessage().contains("does not hold its lock"), refused.getMessage());
            assertEquals(0L, lastId(), "the offset did not move");
            assertTrue(owner.advance(last));
            assertEquals(last.id(), lastId());
        }
    }

    @Test
    void anAdvanceAfterTheLockWasReleasedIsRefused() throws Exception {
        try (Poller owner = new Poller(db.connect(), db.connect(), "p1", "orders"); Connection lock = db.connect()) {
            Poller.Row row = owner.pollAtLeast(1, 1).get(0);
            try (Statement st = lock.createStatement()) {
                st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('p2'))"); // a lock, but another pipeline's
            }
            assertThrows(SQLException.class, () -> Poller.advance(lock, "p1", "orders", row.tx(), row.id()));
            assertEquals(0L, lastId());
        }
    }

    @Test
    void aBackwardOrRepeatedAdvanceIsIgnored() throws Exception {
        try (Poller owner = new Poller(db.connect(), db.connect(), "p1", "orders")) {
            List<Poller.Row> batch = owner.pollAtLeast(3, 10);
            assertTrue(owner.advance(batch.get(2)));
            assertFalse(owner.advance(batch.get(0)), "backwards");
            assertFalse(owner.advance(batch.get(2)), "same offset again");
            assertEquals(batch.get(2).id(), lastId());
        }
    }

    @Test
    void anAdvancePastTheOldestRunningTransactionIsRefused() throws Exception {
        try (Poller owner = new Poller(db.connect(), db.connect(), "p1", "orders"); Connection open = db.connect();
             Connection stranger = db.connect()) {
            owner.poll(1);
            open.setAutoCommit(false);
            long openTx;
            try (Statement st = open.createStatement(); var rs = st.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
                rs.next();
                openTx = rs.getLong(1);
            }
            assertThrows(SQLException.class, () -> Poller.advance(stranger, "p1", "orders", openTx, Long.MAX_VALUE));
            SQLException refused = assertThrows(SQLException.class,
                    () -> owner.advance(new Poller.Row(Long.MAX_VALUE, openTx, null, null)));
            assertTrue(refused.getMessage().contains("oldest running transaction"), refused.getMessage());
            assertEquals(0L, lastId());
            open.rollback();
        }
    }

    @Test
    void anUnregisteredPipelineCannotAdvance() throws Exception {
        try (Connection lock = db.connect(); Statement st = lock.createStatement()) {
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('ghost'))");
            SQLException refused = assertThrows(SQLException.class, () -> Poller.advance(lock, "ghost", "orders", 1, 1));
            assertTrue(refused.getMessage().contains("not registered"), refused.getMessage());
        }
    }
}
