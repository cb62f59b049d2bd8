package io.pgtide.relay.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.route.Problem;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code pg-tide status [--json]}: every pipeline's state, owner, offset, pending messages and last error, from the
 * database, and
 * the route files of the routes folder the relay would refuse, with file, line and reason.
 */
final class Status {

    private static final String QUERY = "SELECT relay_group, pipeline, outbox_name, lock_holder, last_tx::text AS last_tx,"
            + " last_id, pending, round(oldest_pending_age_seconds::numeric, 1) AS oldest_pending_age_seconds,"
            + " round(oldest_open_tx_age_seconds::numeric, 1) AS oldest_open_tx_age_seconds, owner AS last_advanced_by,"
            + " updated_at::text AS updated_at, paused_at::text AS paused_at, paused_by, state, consecutive_failures,"
            + " last_error, last_error_at::text AS last_error_at, open_dead_letters"
            + " FROM tide.consumer_lag ORDER BY relay_group, pipeline, outbox_name";

    /** Undefined table, undefined schema: the database has no pg_tide. */
    private static final Set<String> UNDEFINED = Set.of("42P01", "3F000");

    private Status() {
    }

    static void print(Database database, Path routes, boolean json, PrintStream out) throws Exception {
        List<Map<String, Object>> rows = read(database);
        Map<String, Object> files = routeFiles(routes);
        if (json) {
            Map<String, Object> status = new LinkedHashMap<>();
            status.put("pipelines", rows);
            status.put("route_files", files);
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(status));
            return;
        }
        printPipelines(rows, out);
        out.println();
        if (files.get("problems") instanceof List<?> problems) {
            out.printf(Locale.ROOT, "route files in %s: %s, %d problem(s)%n", routes, files.get("files"), problems.size());
            problems.forEach(problem -> out.println("  " + problem));
        } else {
            out.println("route files: " + files.get("error"));
        }
    }

    /** The routes folder checked as the relay checks it at load (as {@code pg-tide validate} does). */
    private static Map<String, Object> routeFiles(Path routes) throws Exception {
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("folder", routes.toString());
        if (!Files.isDirectory(routes)) {
            files.put("error", "no folder " + routes + " here (" + RelaySettings.ROUTES.name() + ")");
            return files;
        }
        Validate.Result result = Validate.check(List.of(routes), null);
        files.put("files", result.files());
        files.put("problems", result.problems().stream().map(Problem::toString).toList());
        return files;
    }

    private static void printPipelines(List<Map<String, Object>> rows, PrintStream out) {
        if (rows.isEmpty()) {
            out.println("no pipelines registered yet (a pipeline registers on its first poll)");
            return;
        }
        String format = "%-10s %-24s %-12s %-8s %-16s %9s %12s %5s  %s%n";
        out.printf(Locale.ROOT, format, "GROUP", "PIPELINE", "OUTBOX", "STATE", "OFFSET (tx:id)", "PENDING",
                "OLDEST (s)", "DLQ", "HOLDER");
        for (Map<String, Object> row : rows) {
            Object holder = row.get("lock_holder");
            out.printf(Locale.ROOT, format, row.get("relay_group"), row.get("pipeline"), row.get("outbox_name"),
                    row.get("state"), row.get("last_tx") + ":" + row.get("last_id"), row.get("pending"),
                    row.get("oldest_pending_age_seconds"), row.get("open_dead_letters"), holder == null ? "-" : holder);
            if (row.get("last_error") != null && !Integer.valueOf(0).equals(row.get("consecutive_failures"))) {
                out.printf(Locale.ROOT, "           %d failed send(s) since it last delivered, the last at %s: %s%n",
                        row.get("consecutive_failures"), row.get("last_error_at"), row.get("last_error"));
            }
        }
    }

    private static List<Map<String, Object>> read(Database database) throws SQLException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Connection c = database.openSession("pg_tide status"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(QUERY)) {
            ResultSetMetaData meta = rs.getMetaData();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnLabel(i), rs.getObject(i));
                }
                rows.add(row);
            }
        } catch (SQLException e) {
            if (UNDEFINED.contains(e.getSQLState())) {
                throw new SQLException("schema tide is missing in " + database.url().jdbcUrl() + " ("
                        + database.url().setting() + "): create the extension there, or start the relay once", e);
            }
            throw e;
        }
        return rows;
    }
}
