package io.pgtide.relay.bench;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The database's share of a drain, with nothing else: a plain JDBC loop of {@code tide.relay_poll} (the SQL
 * every pipeline runs) and {@code tide.relay_advance} on a lock-holding session, reading every column, until
 * a poll comes back empty. Checks the (tx, id) order on the way.
 */
final class RawRead {

    /** What the loop read and how long it took. */
    record Figure(long rows, long batches, long nanos, long advanceNanos, List<String> problems) {
        double rowsPerSecond() {
            return rows / (nanos / 1e9);
        }

        double batchesPerSecond() {
            return batches / (nanos / 1e9);
        }
    }

    private RawRead() {
    }

    static Figure drain(TestDatabase db, String pipeline, String outbox, int limit) throws SQLException {
        return drain(db, pipeline, outbox, limit, "tide.relay_poll", false);
    }

    /**
     * The same drain through another function of relay_poll's signature, for comparisons in one database; with
     * {@code literal}, its arguments written into the statement, as a pipeline's route writes them (PostgreSQL then
     * plans the prepared statement once, generically, instead of choosing between plans for parameters).
     */
    static Figure drain(TestDatabase db, String pipeline, String outbox, int limit, String pollFunction, boolean literal)
            throws SQLException {
        List<String> problems = new ArrayList<>();
        try (Connection pollSession = db.connect(); Connection lockSession = db.connect()) {
            try (PreparedStatement lock = lockSession.prepareStatement("SELECT pg_try_advisory_lock(tide.relay_lock_key(?))")) {
                lock.setString(1, pipeline);
                try (ResultSet rs = lock.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        throw new IllegalStateException("the lock of pipeline " + pipeline + " is held elsewhere");
                    }
                }
            }
            String call = literal ? "('" + pipeline + "', '" + outbox + "', " + limit + ")" : "(?, ?, ?)";
            try (PreparedStatement poll = pollSession.prepareStatement("SELECT * FROM " + pollFunction + call);
                 PreparedStatement advance = lockSession.prepareStatement("SELECT tide.relay_advance(?, ?, ?::xid8, ?)")) {
                if (!literal) {
                    poll.setString(1, pipeline);
                    poll.setString(2, outbox);
                    poll.setInt(3, limit);
                }
                advance.setString(1, pipeline);
                advance.setString(2, outbox);
                long rows = 0;
                long batches = 0;
                long bytes = 0; // everything read is used, so nothing is skipped
                long prevTx = -1;
                long prevId = -1;
                long outOfOrder = 0;
                long notAdvanced = 0;
                long advanceNanos = 0;
                long start = System.nanoTime();
                while (true) {
                    int inBatch = 0;
                    String lastTx = null;
                    long lastId = 0;
                    try (ResultSet rs = poll.executeQuery()) {
                        while (rs.next()) {
                            long id = rs.getLong(3);
                            String tx = rs.getString(4);
                            String key = rs.getString(5);
                            bytes += rs.getString(1).length() + rs.getString(2).length() + tx.length()
                                    + (key == null ? 0 : key.length()) + rs.getString(6).length() + rs.getString(7).length()
                                    + rs.getString(8).length();
                            long txValue = Long.parseLong(tx);
                            if (txValue < prevTx || (txValue == prevTx && id <= prevId)) {
                                outOfOrder++;
                            }
                            prevTx = txValue;
                            prevId = id;
                            lastTx = tx;
                            lastId = id;
                            inBatch++;
                        }
                    }
                    if (inBatch == 0) {
                        break;
                    }
                    rows += inBatch;
                    batches++;
                    long advanceStart = System.nanoTime();
                    advance.setString(3, lastTx);
                    advance.setLong(4, lastId);
                    try (ResultSet rs = advance.executeQuery()) {
                        if (!rs.next() || !rs.getBoolean(1)) {
                            notAdvanced++;
                        }
                    }
                    advanceNanos += System.nanoTime() - advanceStart;
                }
                long nanos = System.nanoTime() - start;
                if (outOfOrder > 0) {
                    problems.add(outOfOrder + " rows out of (tx, id) order or repeated");
                }
                if (notAdvanced > 0) {
                    problems.add(notAdvanced + " advances returned false");
                }
                if (rows > 0 && bytes == 0) {
                    problems.add("no bytes read");
                }
                return new Figure(rows, batches, nanos, advanceNanos, problems);
            }
        }
    }
}
