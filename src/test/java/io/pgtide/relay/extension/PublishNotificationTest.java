package io.pgtide.relay.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.testing.TestDatabase;
import io.pgtide.relay.wakeup.OutboxListener;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * outbox_publish notifies channel pg_tide (payload: the outbox) at commit while a pipeline of the outbox
 * waits — its last poll was empty — and not while pipelines find rows or before any polled (a NOTIFY
 * serializes committing transactions, so busy publishers must not pay for it); a rolled-back publish
 * notifies nobody.
 */
class PublishNotificationTest {

    private TestDatabase db;
    private Connection listener;
    private Connection app;

    @BeforeEach
    void listen() throws SQLException {
        db = TestDatabase.withOutbox("orders");
        listener = db.connect();
        try (Statement st = listener.createStatement()) {
            st.execute("LISTEN " + OutboxListener.CHANNEL);
        }
        app = db.connect();
    }

    @AfterEach
    void close() throws SQLException {
        app.close();
        listener.close();
        db.close();
    }

    @Test
    void publishersNotifyOnlyWhileAPipelineWaits() throws Exception {
        publish();
        assertEquals(List.of(), notifications(), "no pipeline has polled the new outbox yet: nobody to wake");

        assertEquals(1, poll(), "the pipeline finds the message");
        publish();
        assertEquals(List.of(), notifications(), "a pipeline that just found rows polls again anyway: no notification");

        assertEquals(1, poll());
        assertEquals(0, poll(), "caught up: the pipeline waits");
        publish();
        publish();
        assertEquals(List.of("orders", "orders"), notifications(), "each committing publish wakes the waiting pipeline");

        app.setAutoCommit(false);
        publish();
        app.rollback();
        app.setAutoCommit(true);
        assertEquals(List.of(), notifications(), "a rolled-back publish notifies nobody");
    }

    private void publish() throws SQLException {
        try (Statement st = app.createStatement()) {
            st.execute("SELECT tide.outbox_publish('orders', '{}')");
        }
    }

    /** Rows of one poll of pipeline p1, advancing past them; waits for other sessions' transactions to end. */
    private int poll() throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (Statement st = app.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), max(tx::text), max(id),"
                         + " (SELECT count(*) FROM tide.tide_outbox_messages m WHERE m.outbox_name = 'orders'"
                         + "  AND m.id > coalesce((SELECT last_id FROM tide.relay_consumer_offsets WHERE pipeline = 'p1'), 0))"
                         + " FROM tide.relay_poll('p1', 'orders')")) {
                rs.next();
                int rows = rs.getInt(1);
                if (rows > 0) {
                    try (Statement advance = app.createStatement()) {
                        advance.execute("SELECT pg_advisory_lock(tide.relay_lock_key('p1'))");
                        advance.execute("SELECT tide.relay_advance('p1', 'orders', '" + rs.getString(2) + "', " + rs.getLong(3) + ")");
                        advance.execute("SELECT pg_advisory_unlock(tide.relay_lock_key('p1'))");
                    }
                    return rows;
                }
                if (rs.getLong(4) == 0) {
                    return 0;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("committed messages stayed behind the horizon for 5 s");
    }

    /** The payloads of the notifications that arrived within half a second. */
    private List<String> notifications() throws SQLException {
        List<String> payloads = new ArrayList<>();
        PGNotification[] arrived = listener.unwrap(PGConnection.class).getNotifications(500);
        if (arrived != null) {
            for (PGNotification notification : arrived) {
                assertEquals(OutboxListener.CHANNEL, notification.getName(), "the channel the relay listens on");
                payloads.add(notification.getParameter());
            }
        }
        return payloads;
    }
}
