package io.pgtide.relay.cli;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.db.RelayGrants;
import io.pgtide.relay.db.SchemaCheck;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code pg-tide doctor [--json]}: what an operator checks first, each check with a verdict and, when it is not
 * ok, the fix. Exits 1 when a check fails. It connects as the relay does (same settings, same role), so what it
 * finds is what the relay meets; the URL is shown with its password masked.
 */
final class Doctor {

    enum Verdict {
        OK, WARN, FAIL, SKIPPED;

        @JsonValue
        String label() {
            return this == FAIL ? "FAIL" : name().toLowerCase(Locale.ROOT);
        }
    }

    /** One check's outcome: what it looked at, what it found and what to do about it. */
    record Finding(String check, Verdict verdict, String detail, String fix) {
    }

    /** A pipeline is behind when its oldest undelivered message is older than this. */
    static final double BEHIND_SECONDS = 60;

    /** Clocks further apart than this (beyond the round trip's uncertainty) make ages and logs disagree. */
    static final double SKEW_SECONDS = 1;

    private final List<Finding> findings = new ArrayList<>();

    private Doctor() {
    }

    /** Runs every check, prints the findings and returns the exit code: 1 when one failed, else 0. */
    static int run(Path routes, Database database, boolean json, PrintStream out) throws Exception {
        Doctor doctor = new Doctor();
        doctor.routeFiles(routes);
        doctor.database(database);
        long failed = doctor.findings.stream().filter(f -> f.verdict() == Verdict.FAIL).count();
        long warned = doctor.findings.stream().filter(f -> f.verdict() == Verdict.WARN).count();
        if (json) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("database", database.url().toString());
            report.put("checks", doctor.findings);
            report.put("failed", failed);
            report.put("warnings", warned);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        } else {
            out.println("pg-tide doctor: " + database.url());
            for (Finding f : doctor.findings) {
                out.printf(Locale.ROOT, "%-7s %-28s %s%n", f.verdict().label(), f.check(),
                        f.detail());
                if (f.fix() != null) {
                    out.printf(Locale.ROOT, "%-36s fix: %s%n", "", f.fix());
                }
            }
            out.printf(Locale.ROOT, "%d check(s) failed, %d warning(s)%n", failed, warned);
        }
        return failed > 0 ? 1 : 0;
    }

    private void add(String check, Verdict verdict, String detail, String fix) {
        findings.add(new Finding(check, verdict, detail, fix));
    }

    private void routeFiles(Path routes) throws Exception {
        if (!Files.isDirectory(routes)) {
            add("route files", Verdict.WARN, "no folder " + routes + " here",
                    "set " + RelaySettings.ROUTES.name() + " to the relay's routes folder to check its files too");
            return;
        }
        Validate.Result result = Validate.check(List.of(routes), null);
        if (result.problems().isEmpty()) {
            add("route files", Verdict.OK, result.files() + " file(s) in " + routes + " load", null);
        } else {
            add("route files", Verdict.FAIL, result.problems().size() + " problem(s) in " + routes + ": "
                    + result.problems().get(0), "pg-tide validate " + routes + " lists each with its file and line");
        }
    }

    private void database(Database database) throws SQLException {
        Connection connection;
        long start = System.nanoTime();
        try {
            connection = database.openSession("pg_tide doctor");
        } catch (SQLException e) {
            add("database", Verdict.FAIL, e.getMessage(), "start PostgreSQL or correct " + database.url().setting());
            add("the other checks", Verdict.SKIPPED, "they need the database", null);
            return;
        }
        try (connection; Statement st = connection.createStatement()) {
            boolean standby = server(st, (System.nanoTime() - start) / 1_000_000);
            if (extension(st)) {
                grants(connection);
                attempt("open transactions", () -> openTransactions(st));
                attempt("pipelines", () -> findings.addAll(PipelineFindings.read(st, standby)));
                attempt("dead letters", () -> deadLetters(st));
            }
            attempt("clock", () -> clock(st));
        }
    }

    private interface Check {
        void run() throws SQLException;
    }

    /** A check the database refuses (a revoked grant, a lost connection) fails alone; the others still run. */
    private void attempt(String name, Check check) {
        try {
            check.run();
        } catch (SQLException e) {
            add(name, Verdict.FAIL, "cannot check: " + e.getMessage().replaceAll("\\s+", " ").strip(),
                    "see the grants check, or the database's log");
        }
    }

    /** Reachable, which server, primary or standby; returns whether it is a standby. */
    private boolean server(Statement st, long connectMillis) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT current_setting('server_version')")) {
            rs.next();
            boolean standby = Database.standby(st.getConnection());
            add("database", Verdict.OK, "reachable in " + connectMillis + " ms: PostgreSQL " + rs.getString(1) + ", "
                    + (standby ? "a standby (its relays wait and deliver after a promotion)" : "the primary"), null);
            return standby;
        }
    }

    /** The version of schema tide against the one this relay installs; false when there is none. */
    private boolean extension(Statement st) throws SQLException {
        String version;
        try (ResultSet rs = st.executeQuery("SELECT CASE WHEN to_regproc('tide.version') IS NOT NULL THEN tide.version()"
                + " ELSE (SELECT extversion FROM pg_extension WHERE extname = 'pg_tide') END,"
                + " to_regnamespace('tide') IS NOT NULL")) {
            rs.next();
            version = rs.getBoolean(2) ? String.valueOf(rs.getString(1)) : null;
        }
        if (version == null) {
            add("extension", Verdict.FAIL, "schema tide is missing in this database",
                    "CREATE EXTENSION pg_tide (or start the relay once as a role that may create the schema)");
            return false;
        }
        if (version.equals(SchemaCheck.VERSION)) {
            add("extension", Verdict.OK, "pg_tide " + version + ", the version this relay runs", null);
        } else {
            add("extension", Verdict.FAIL, "pg_tide " + version + " here, this relay runs " + SchemaCheck.VERSION,
                    "ALTER EXTENSION pg_tide UPDATE TO '" + SchemaCheck.VERSION + "' (the relay does it at start when"
                            + " its role owns schema tide), or run the relay image that matches " + version);
        }
        return true;
    }

    private void grants(Connection connection) {
        try {
            RelayGrants.check(connection);
            add("grants", Verdict.OK, "the role has every privilege the relay uses in schema tide", null);
        } catch (SQLException e) {
            String message = e.getMessage();
            int run = message.indexOf(" As the owner");
            add("grants", Verdict.FAIL, run < 0 ? message : message.substring(0, run),
                    run < 0 ? null : message.substring(run + 1));
        }
    }

    /** An open transaction that has written holds back every message committed after it began. */
    private void openTransactions(Statement st) throws SQLException {
        List<String> held = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT outbox_name, messages FROM tide.held_back_messages()")) {
            while (rs.next()) {
                held.add(rs.getLong(2) + " of outbox " + rs.getString(1));
            }
        }
        String oldest = null;
        Object pid = null;
        double age = 0;
        try (ResultSet rs = st.executeQuery("SELECT pid, role, database, application_name, state, age_seconds"
                + " FROM tide.open_write_transactions() LIMIT 1")) {
            if (rs.next()) {
                pid = rs.getObject(1);
                age = rs.getDouble(6);
                oldest = String.format(Locale.ROOT, "%s (role %s, database %s, %s) open for %.0f s",
                        pid == null ? rs.getString(4) : "pid " + pid + " \"" + rs.getString(4) + "\"", rs.getString(2),
                        rs.getString(3), rs.getString(5), age);
            }
        }
        String fix = pid == null ? "COMMIT PREPARED or ROLLBACK PREPARED it"
                : "end it: COMMIT or ROLLBACK in that session, or SELECT pg_terminate_backend(" + pid + ")";
        if (!held.isEmpty()) {
            add("open transactions", Verdict.FAIL, "committed messages wait (" + String.join(", ", held)
                    + ") for the oldest transaction that has written: " + oldest, fix);
        } else if (oldest != null && age > BEHIND_SECONDS) {
            add("open transactions", Verdict.WARN, oldest + ": it will hold back whatever commits next", fix);
        } else {
            add("open transactions", Verdict.OK, "none holds delivery back", null);
        }
    }

    private void deadLetters(Statement st) throws SQLException {
        List<String> open = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT pipeline, open_dead_letters FROM tide.dead_letters"
                + " ORDER BY open_dead_letters DESC, pipeline")) {
            while (rs.next()) {
                open.add(rs.getLong(2) + " of pipeline " + rs.getString(1));
            }
        }
        if (open.isEmpty()) {
            add("dead letters", Verdict.OK, "none open", null);
        } else {
            add("dead letters", Verdict.WARN, "open: " + String.join(", ", open), "read them in tide.relay_dlq;"
                    + " SELECT tide.dlq_requeue(dlq_id) sends one again, tide.dlq_resolve(dlq_id, note) closes it");
        }
    }

    /** The server's clock against this host's, measured across one round trip. */
    private void clock(Statement st) throws SQLException {
        long before = System.currentTimeMillis();
        double server;
        try (ResultSet rs = st.executeQuery("SELECT extract(epoch FROM clock_timestamp()) * 1000")) {
            rs.next();
            server = rs.getDouble(1);
        }
        long after = System.currentTimeMillis();
        double skew = (server - (before + after) / 2.0) / 1000;
        double uncertainty = (after - before) / 2000.0;
        String detail = String.format(Locale.ROOT, "the server's clock is %+.3f s from this host's (±%.3f s)", skew,
                uncertainty);
        if (Math.abs(skew) - uncertainty > SKEW_SECONDS) {
            add("clock", Verdict.WARN, detail, "run NTP (chrony) on both hosts: lag ages come from the server's clock,"
                    + " log times from this host's");
        } else {
            add("clock", Verdict.OK, detail, null);
        }
    }
}
