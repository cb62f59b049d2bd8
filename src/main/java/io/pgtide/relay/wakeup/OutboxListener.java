package io.pgtide.relay.wakeup;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.support.PeriodicService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * One session per relay that LISTENs on the channel {@code tide.outbox_publish} notifies with the outbox's
 * name, and wakes the running pipelines of that outbox: an idle pipeline reacts to a commit at once instead
 * of at its next poll. A lost notification costs latency only: every pipeline still polls every delay.
 */
public final class OutboxListener extends PeriodicService {

    /** The channel of {@code tide.outbox_publish}'s notifications; the payload is the outbox name. */
    public static final String CHANNEL = "pg_tide";

    private static final int WAIT_MILLIS = 1000;
    private static final long RELOAD_NANOS = Duration.ofSeconds(1).toNanos();

    private final Database database;
    private final Map<String, WakeableScheduler> schedulers = new ConcurrentHashMap<>();
    /** Outbox name to the pipelines of this relay group that read it, from their offset rows. */
    private Map<String, List<String>> pipelinesByOutbox = Map.of();
    private long loadedAt;

    /** @param retry pause before listening again after the session failed (or beside a standby) */
    public OutboxListener(Database database, Duration retry) {
        super("pg-tide-wakeup", retry, true);
        this.database = database;
    }

    void register(String pipeline, WakeableScheduler scheduler) {
        schedulers.put(pipeline, scheduler);
    }

    void unregister(String pipeline, WakeableScheduler scheduler) {
        schedulers.remove(pipeline, scheduler);
    }

    /** Listens until the session fails or the relay stops; the next tick opens a new session. */
    @Override
    protected void tick() throws SQLException {
        try (Connection session = database.openSession("pg_tide wake-up"); Statement st = session.createStatement()) {
            // a standby runs no pipeline and refuses LISTEN: try again after the pause
            if (Database.standby(session)) {
                return;
            }
            st.execute("LISTEN " + CHANNEL);
            PGConnection listening = session.unwrap(PGConnection.class);
            while (!Thread.currentThread().isInterrupted()) {
                PGNotification[] notifications = listening.getNotifications(WAIT_MILLIS);
                if (notifications != null && notifications.length > 0) {
                    Set<String> outboxes = new HashSet<>();
                    for (PGNotification notification : notifications) {
                        outboxes.add(notification.getParameter());
                    }
                    wake(session, outboxes);
                }
            }
        }
    }

    private void wake(Connection session, Set<String> outboxes) throws SQLException {
        if (stale(outboxes) && System.nanoTime() - loadedAt > RELOAD_NANOS) {
            pipelinesByOutbox = load(session);
            loadedAt = System.nanoTime();
        }
        for (String outbox : outboxes) {
            for (String pipeline : pipelinesByOutbox.getOrDefault(outbox, List.of())) {
                WakeableScheduler scheduler = schedulers.get(pipeline);
                if (scheduler != null) {
                    scheduler.wake();
                }
            }
        }
    }

    /** An outbox or a running pipeline the map does not know yet (a pipeline registers at its first poll). */
    private boolean stale(Set<String> outboxes) {
        if (!pipelinesByOutbox.keySet().containsAll(outboxes)) {
            return true;
        }
        Set<String> known = new HashSet<>();
        pipelinesByOutbox.values().forEach(known::addAll);
        return !known.containsAll(schedulers.keySet());
    }

    private static Map<String, List<String>> load(Connection session) throws SQLException {
        Map<String, List<String>> map = new HashMap<>();
        try (Statement st = session.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT outbox_name, pipeline FROM tide.relay_consumer_offsets WHERE relay_group = tide.relay_group()")) {
            while (rs.next()) {
                map.computeIfAbsent(rs.getString(1), o -> new ArrayList<>()).add(rs.getString(2));
            }
        }
        return map;
    }
}
