package io.pgtide.relay.extension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal relay loop over the extension's functions, as the relay runs them: poll a batch on any
 * session, advance the offset on the session that holds the pipeline's lock.
 */
final class Poller implements AutoCloseable {

    /** One delivered row. */
    record Row(long id, long tx, String key, String payload) {
    }

    private final Connection pollSession;
    private final Connection lockSession;
    private final String pipeline;
    private final String outbox;

    Poller(Connection pollSession, Connection lockSession, String pipeline, String outbox) throws SQLException {
        this.pollSession = pollSession;
        this.lockSession = lockSession;
        this.pipeline = pipeline;
        this.outbox = outbox;
        try (PreparedStatement ps = lockSession.prepareStatement("SELECT pg_try_advisory_lock(tide.relay_lock_key(?))")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new IllegalStateException("lock of " + pipeline + " is held elsewhere");
                }
            }
        }
    }

    /** The next batch after the offset, without moving the offset. */
    List<Row> poll(int limit) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = pollSession.prepareStatement(
                "SELECT id, tx::text::bigint, key, payload::text FROM tide.relay_poll(?, ?, ?)")) {
            ps.setString(1, pipeline);
            ps.setString(2, outbox);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4)));
                }
            }
        }
        return rows;
    }

    /**
     * Polls until the batch has at least {@code rows} rows (or 10 s pass). The horizon is server-wide: a
     * transaction open anywhere on the server (another test, another database) holds rows back for a while.
     */
    List<Row> pollAtLeast(int rows, int limit) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Row> batch = poll(limit);
        while (batch.size() < rows && System.nanoTime() < deadline) {
            Thread.sleep(20);
            batch = poll(limit);
        }
        return batch;
    }

    /** Drains until {@code rows} rows were delivered (or 10 s pass); returns them. */
    List<Row> drainAtLeast(int rows) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Row> all = new ArrayList<>(drain(1000));
        while (all.size() < rows && System.nanoTime() < deadline) {
            Thread.sleep(20);
            all.addAll(drain(1000));
        }
        return all;
    }

    /** Moves the offset to the row; true when it moved. */
    boolean advance(Row last) throws SQLException {
        return advance(lockSession, pipeline, outbox, last.tx(), last.id());
    }

    static boolean advance(Connection session, String pipeline, String outbox, long tx, long id) throws SQLException {
        try (PreparedStatement ps = session.prepareStatement("SELECT tide.relay_advance(?, ?, ?::text::xid8, ?)")) {
            ps.setString(1, pipeline);
            ps.setString(2, outbox);
            ps.setLong(3, tx);
            ps.setLong(4, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Polls and advances until a poll comes back empty; returns everything delivered. */
    List<Row> drain(int limit) throws SQLException {
        List<Row> all = new ArrayList<>();
        for (List<Row> batch = poll(limit); !batch.isEmpty(); batch = poll(limit)) {
            all.addAll(batch);
            advance(batch.get(batch.size() - 1));
        }
        return all;
    }

    @Override
    public void close() throws SQLException {
        pollSession.close();
        lockSession.close();
    }
}
