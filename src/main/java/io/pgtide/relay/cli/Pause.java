package io.pgtide.relay.cli;

import io.pgtide.relay.db.Database;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * {@code pg-tide pause <pipeline>} and {@code pg-tide resume <pipeline>}: {@code tide.relay_pause} and
 * {@code tide.relay_resume} for the relay group, with one line saying what follows.
 */
final class Pause {

    private Pause() {
    }

    /** Pauses the pipeline (or resumes it, when {@code pause} is false); returns the exit code. */
    static int run(Database database, String pipeline, boolean pause, PrintStream out) throws SQLException {
        String command = pause ? "pause" : "resume";
        try (Connection c = database.openSession("pg_tide " + command);
             PreparedStatement st = c.prepareStatement("SELECT tide.relay_" + command + "(?)")) {
            st.setString(1, pipeline);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                boolean changed = rs.getBoolean(1);
                out.println("pg-tide " + command + ": pipeline \"" + pipeline + "\" " + (pause
                        ? changed ? "paused; each relay stops it within a lock interval, after its batch in flight"
                                : "was paused already"
                        : changed ? "resumed; a relay starts it from its offset within a lock interval"
                                : "was not paused"));
                return 0;
            }
        }
    }
}
