package io.pgtide.relay.cli;

import io.pgtide.relay.cli.Doctor.Finding;
import io.pgtide.relay.cli.Doctor.Verdict;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The doctor's finding for each registered pipeline, from its state in {@code tide.consumer_lag}. */
final class PipelineFindings {

    private static final String SINK_FIX = "see its sink; the relay retries, and the batch goes out once the sink takes it";

    private PipelineFindings() {
    }

    /** Each registered pipeline: its state, who holds its lock, how far behind it is, why it fails. */
    static List<Finding> read(Statement st, boolean standby) throws SQLException {
        List<Finding> findings = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT relay_group, pipeline, outbox_name, lock_holder, pending,"
                + " oldest_pending_age_seconds, paused_at::text, paused_by, state, consecutive_failures,"
                + " last_error_at::text, last_error FROM tide.consumer_lag ORDER BY relay_group, pipeline, outbox_name")) {
            while (rs.next()) {
                findings.add(finding(rs, standby));
            }
        }
        if (findings.isEmpty()) {
            findings.add(new Finding("pipelines", Verdict.WARN, "none registered yet (a pipeline registers on its first"
                    + " poll)", "start a relay with route files"));
        }
        return findings;
    }

    private static Finding finding(ResultSet rs, boolean standby) throws SQLException {
        String name = "pipeline " + rs.getString(2) + " (group " + rs.getString(1) + ")";
        String held = "held by " + rs.getString(4);
        long pending = rs.getLong(5);
        double oldest = rs.getDouble(6);
        String backlog = String.format(Locale.ROOT, "%d pending on outbox %s, oldest %.0f s", pending, rs.getString(3),
                oldest);
        String failures = rs.getInt(10) + " failed send(s) since it last delivered, the last at " + rs.getString(11)
                + ": " + rs.getString(12) + "; " + backlog;
        return switch (rs.getString(9)) {
            case "paused" -> new Finding(name, Verdict.WARN, "paused since " + rs.getString(7) + " by " + rs.getString(8)
                    + ": " + backlog, "pg-tide resume " + rs.getString(2) + " when it should deliver again");
            case "unowned" -> standby ? new Finding(name, Verdict.OK, backlog + "; owners are checked on the primary", null)
                    : new Finding(name, pending > 0 ? Verdict.FAIL : Verdict.WARN, "no relay holds it: " + backlog,
                            "start a relay with its route file, or pg-tide forget " + rs.getString(2)
                                    + " if it was removed (its offset holds retention back)");
            case "failing" -> new Finding(name, Verdict.FAIL, held + ", failing: " + failures, SINK_FIX);
            case "retrying" -> new Finding(name, Verdict.WARN, held + ", retrying: " + failures, SINK_FIX);
            default -> pending > 0 && oldest > Doctor.BEHIND_SECONDS
                    ? new Finding(name, Verdict.WARN, held + ", behind: " + backlog,
                            "see that relay's log and its pg_tide_relay_* metrics for a failing sink")
                    : new Finding(name, Verdict.OK, held + ", " + backlog, null);
        };
    }
}
