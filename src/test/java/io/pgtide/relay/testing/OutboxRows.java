package io.pgtide.relay.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** An outbox's rows in (tx, id) order, the relay's delivery order, with key, payload, headers and header n of each id. */
public final class OutboxRows {
    public final List<Long> order = new ArrayList<>();
    public final Map<Long, String> key = new HashMap<>();
    public final Map<Long, String> payload = new HashMap<>();
    public final Map<Long, String> headers = new HashMap<>();
    public final Map<Long, String> n = new HashMap<>();

    private OutboxRows() {
    }

    public static OutboxRows of(TestDatabase db, String outbox) throws SQLException {
        OutboxRows rows = new OutboxRows();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, key, payload::text, headers::text, headers->>'n'"
                     + " FROM tide.outbox_messages WHERE outbox_name = '" + outbox + "' ORDER BY tx, id")) {
            while (rs.next()) {
                long id = rs.getLong(1);
                rows.order.add(id);
                rows.key.put(id, rs.getString(2));
                rows.payload.put(id, rs.getString(3));
                rows.headers.put(id, rs.getString(4));
                rows.n.put(id, rs.getString(5));
            }
        }
        return rows;
    }

    /** The ids in (tx, id) order up to and including the offset id. */
    public List<Long> upTo(long offsetId) {
        int end = order.indexOf(offsetId);
        return end < 0 ? List.of() : order.subList(0, end + 1);
    }

    /** Every committed message id is among the delivered ones; fails with how many are missing. */
    public static void assertNoneLost(Collection<Long> committed, Collection<Long> delivered) {
        Set<Long> lost = new HashSet<>(committed);
        lost.removeAll(delivered);
        assertTrue(lost.isEmpty(), lost.size() + " of " + committed.size() + " committed messages lost");
    }

    /** For each key, first arrivals follow (tx, id) order; later copies of an id are duplicates and skipped. */
    public void assertOrderPerKey(List<Long> delivered) {
        List<String> violations = orderViolations(delivered);
        assertTrue(violations.isEmpty(), violations.isEmpty() ? "" : violations.get(0));
    }

    /**
     * Each first arrival of an id that is not an outbox row, or that comes after an id of the same key
     * which follows it in (tx, id) order, described; later copies of an id are duplicates and skipped.
     */
    public List<String> orderViolations(List<Long> delivered) {
        Map<Long, Integer> rank = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            rank.put(order.get(i), i);
        }
        List<String> violations = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        Map<String, Long> previous = new HashMap<>();
        for (long id : delivered) {
            if (!seen.add(id)) {
                continue;
            }
            if (rank.get(id) == null) {
                violations.add("delivered id " + id + " is not an outbox row");
                continue;
            }
            String k = key.get(id);
            Long before = previous.put(k, id);
            if (before != null && rank.get(before) > rank.get(id)) {
                violations.add("key " + k + ": message " + id + " arrived after " + before
                        + ", which follows it in (tx, id) order");
            }
        }
        return violations;
    }
}
