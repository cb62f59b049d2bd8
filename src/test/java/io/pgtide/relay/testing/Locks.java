package io.pgtide.relay.testing;

import java.sql.SQLException;

/** What the database says about pipeline lock sessions (named {@code pg_tide <instance> <pipeline>}). */
public final class Locks {

    private Locks() {
    }

    /** True when the instance's session holds the pipeline's advisory lock. */
    public static boolean held(TestDatabase db, String instance, String pipeline) throws SQLException {
        return Boolean.TRUE.equals(db.queryOne(Boolean.class, "SELECT EXISTS (SELECT 1 FROM pg_locks l"
                + " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                + " AND a.application_name = ?)", "pg_tide " + instance + " " + pipeline));
    }

    /** pg_terminate_backend on the instance's lock session for the pipeline; returns how many it ended. */
    public static int terminate(TestDatabase db, String instance, String pipeline) throws SQLException {
        return db.queryOne(Integer.class, "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity"
                + " WHERE application_name = ?", "pg_tide " + instance + " " + pipeline);
    }
}
