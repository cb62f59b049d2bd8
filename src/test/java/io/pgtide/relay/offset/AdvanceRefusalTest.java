package io.pgtide.relay.offset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** Each way {@code tide.relay_advance} refuses an advance is told apart by the cause the relay counts. */
class AdvanceRefusalTest {

    @Test
    void eachRefusalOfTheServerHasItsCause() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders");
             Connection relay = db.connect(); Statement st = relay.createStatement();
             Connection publisher = db.connect(); Statement open = publisher.createStatement()) {
            db.execute("SELECT tide.outbox_publish('orders', '{}')");
            String committedTx = db.queryOne(String.class, "SELECT tx::text FROM tide.tide_outbox_messages ORDER BY tx DESC LIMIT 1");
            long id = db.queryOne(Long.class, "SELECT max(id) FROM tide.tide_outbox_messages");

            assertEquals(AdvanceRefusal.LOCK_NOT_HELD, refusal(relay, "orders-to-kafka", committedTx, id),
                    "no lock held by this session");

            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('orders-to-kafka'))");
            assertEquals(AdvanceRefusal.NOT_REGISTERED, refusal(relay, "orders-to-kafka", committedTx, id),
                    "a pipeline that never polled");

            st.execute("SELECT count(*) FROM tide.relay_poll('orders-to-kafka', 'orders')");
            publisher.setAutoCommit(false);
            String running;
            try (ResultSet rs = open.executeQuery("SELECT tide.outbox_publish('orders', '{}'), pg_current_xact_id()::text")) {
                rs.next();
                running = rs.getString(2);
            }
            assertEquals(AdvanceRefusal.HORIZON, refusal(relay, "orders-to-kafka", running, id + 1),
                    "an end at a transaction still running");
            publisher.rollback();
        }
    }

    private static AdvanceRefusal refusal(Connection connection, String pipeline, String tx, long id) {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (PreparedStatement ps = connection.prepareStatement("SELECT tide.relay_advance(?, 'orders', ?::xid8, ?)")) {
                ps.setString(1, pipeline);
                ps.setString(2, tx);
                ps.setLong(3, id);
                ps.executeQuery().close();
            }
        });
        return AdvanceRefusal.of(e);
    }
}
