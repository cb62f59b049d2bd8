package io.pgtide.relay.cli;

import io.pgtide.relay.db.Database;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * {@code pg-tide forget <pipeline>}: unregisters a pipeline that no relay runs any more (its file was removed), so
 * that its offset no longer holds the retention of its outbox back. A pipeline that still runs is refused.
 */
final class Forget {

    private Forget() {
    }

    /** Unregisters every registration of the pipeline in the relay group; returns the exit code. */
    static int run(Database database, String pipeline, PrintStream out) throws SQLException {
        try (Connection c = database.openSession("pg_tide forget")) {
            if (Database.standby(c)) {
                out.println("pg-tide forget: the database is a standby: forget the pipeline on the primary");
                return 1;
            }
            // the pipeline's own lock, held while its rows go: no relay can start it in between
            if (!queryBoolean(c, "SELECT tide.relay_try_lock(?)", pipeline)) {
                out.println("pg-tide forget: pipeline \"" + pipeline + "\" is running (" + holder(c, pipeline)
                        + "): remove its file from every relay first");
                return 1;
            }
            try {
                return unregister(c, pipeline, out);
            } finally {
                queryBoolean(c, "SELECT pg_advisory_unlock(tide.relay_lock_key(?))", pipeline);
            }
        }
    }

    private static int unregister(Connection c, String pipeline, PrintStream out) throws SQLException {
        int forgotten = 0;
        try (PreparedStatement st = c.prepareStatement("SELECT outbox_name, last_tx::text, last_id,"
                + " tide.relay_unregister(pipeline, outbox_name) FROM tide.consumer_lag"
                + " WHERE relay_group = tide.relay_group() AND pipeline = ?")) {
            st.setString(1, pipeline);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    out.println("pg-tide forget: pipeline \"" + pipeline + "\" of outbox \"" + rs.getString(1)
                            + "\" unregistered (its offset was " + rs.getString(2) + ":" + rs.getLong(3)
                            + "); a pipeline of that name would start again from the oldest message kept");
                    forgotten++;
                }
            }
        }
        if (forgotten == 0) {
            out.println("pg-tide forget: no pipeline \"" + pipeline + "\" is registered in this relay group");
            return 1;
        }
        return 0;
    }

    private static String holder(Connection c, String pipeline) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT tide.relay_lock_holder(?)")) {
            st.setString(1, pipeline);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() && rs.getString(1) != null ? "held by " + rs.getString(1) : "its lock is held";
            }
        }
    }

    private static boolean queryBoolean(Connection c, String sql, String pipeline) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            st.setString(1, pipeline);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
