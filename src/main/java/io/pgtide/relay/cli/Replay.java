package io.pgtide.relay.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code pg-tide replay --pipeline P --from F [--to T] [--limit N] --preview}: prints, one JSON line per message, what
 * a rewind of the pipeline to F would deliver again (up to its offset, or to T), from
 * {@code tide.relay_replay_preview}. It moves nothing. F and T are a message id, {@code <tx>:<id>} or an ISO-8601
 * timestamp.
 */
final class Replay {

    static final String USAGE = "pg-tide replay --pipeline <pipeline> --from <id | tx:id | timestamp>"
            + " [--to <id | tx:id | timestamp>] [--limit <n>] --preview";
    private static final Set<String> VALUED = Set.of("--pipeline", "--from", "--to", "--limit");
    private static final int DEFAULT_LIMIT = 1000;
    /** A position {@code <tx>:<id>}; a timestamp has colons too, but never only digits around one. */
    private static final String TX_ID = "\\d+:\\d+";

    private Replay() {
    }

    /** The command line, checked: every option known, the required ones there, the values readable. */
    record Request(String pipeline, String from, String to, int limit) {

        static Request parse(List<String> args) {
            Map<String, String> values = new HashMap<>();
            boolean preview = false;
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                if (arg.equals("--preview")) {
                    preview = true;
                } else if (VALUED.contains(arg) && i + 1 < args.size()) {
                    values.put(arg, args.get(++i));
                } else {
                    throw usage(VALUED.contains(arg) ? arg + " needs a value" : "unexpected argument \"" + arg + "\"");
                }
            }
            if (!preview) {
                throw usage("--preview is required: replay prints what a rewind would send again and moves nothing"
                        + " (to rewind: pg-tide pause, then SELECT tide.relay_rewind(...), then pg-tide resume)");
            }
            if (!values.containsKey("--pipeline") || !values.containsKey("--from")) {
                throw usage("--pipeline and --from are required");
            }
            int limit = DEFAULT_LIMIT;
            if (values.containsKey("--limit")) {
                try {
                    limit = Integer.parseInt(values.get("--limit"));
                } catch (NumberFormatException e) {
                    limit = 0;
                }
                if (limit < 1) {
                    throw usage("--limit " + values.get("--limit") + " is not a number of messages, 1 or more");
                }
            }
            return new Request(RelaySettings.name("--pipeline", values.get("--pipeline")),
                    target("--from", values.get("--from")), values.containsKey("--to") ? target("--to", values.get("--to")) : null,
                    limit);
        }

        private static String target(String option, String value) {
            if (value.matches("\\d+") || value.matches(TX_ID)) {
                return value;
            }
            try {
                return OffsetDateTime.parse(value).toString();
            } catch (DateTimeParseException e) {
                throw usage(option + " " + value + " is not a message id, <tx>:<id> or an ISO-8601 timestamp"
                        + " such as 2026-12-01T09:00:00Z");
            }
        }
    }

    private static Arguments.UsageException usage(String problem) {
        return new Arguments.UsageException("pg-tide replay: " + problem + " (usage: " + USAGE + ")");
    }

    /** Prints the messages as JSON lines and a summary line; returns the exit code. */
    static int run(Database database, Request request, PrintStream out, PrintStream err) throws Exception {
        ObjectMapper json = new ObjectMapper();
        try (Connection c = database.openSession("pg_tide replay")) {
            String outbox = outbox(c, request.pipeline());
            if (outbox == null) {
                err.println("pg-tide replay: no pipeline \"" + request.pipeline() + "\" is registered in this relay group");
                return 1;
            }
            String[] from = position(c, outbox, request.from(), false);
            String[] to = request.to() == null ? new String[] {null, null} : position(c, outbox, request.to(), true);
            int printed = 0;
            try (PreparedStatement ps = c.prepareStatement("SELECT outbox_name, id, tx::text, key, payload::text,"
                    + " headers::text, created_at::text FROM tide.relay_replay_preview(?, ?::xid8, ?, ?::xid8, ?, ?)")) {
                ps.setString(1, request.pipeline());
                ps.setString(2, from[0]);
                ps.setLong(3, Long.parseLong(from[1]));
                ps.setString(4, to[0]);
                ps.setObject(5, to[1] == null ? null : Long.valueOf(to[1]));
                ps.setInt(6, request.limit());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ObjectNode line = json.createObjectNode();
                        line.put("outbox", rs.getString(1));
                        line.put("id", rs.getLong(2));
                        line.put("tx", rs.getString(3));
                        line.put("key", rs.getString(4));
                        line.put("created_at", rs.getString(7));
                        line.set("headers", json.readTree(rs.getString(6)));
                        line.set("payload", json.readTree(rs.getString(5)));
                        out.println(json.writeValueAsString(line));
                        printed++;
                    }
                }
            }
            err.println("pg-tide replay: " + printed + " message(s) after " + from[0] + ":" + from[1]
                    + (printed == request.limit() ? " (the first " + printed + ": raise --limit for more)" : "")
                    + "; preview only, nothing moved");
            return 0;
        }
    }

    private static String outbox(Connection c, String pipeline) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT outbox_name FROM tide.relay_consumer_offsets"
                + " WHERE relay_group = tide.relay_group() AND pipeline = ? LIMIT 1")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * A target as a position {tx, id}: a message id is the position just before it (the message is sent again), or,
     * as the end of the range ({@code through}), the message itself; a timestamp is the position just before the first
     * message created then.
     */
    private static String[] position(Connection c, String outbox, String target, boolean through) throws SQLException {
        if (target.matches(TX_ID)) {
            return target.split(":", 2);
        }
        boolean message = target.matches("\\d+");
        try (PreparedStatement ps = c.prepareStatement(message
                ? "SELECT tx::text, id FROM tide.relay_position_before(?, ?)"
                : "SELECT tx::text, id FROM tide.relay_position_at(?, ?::timestamptz)")) {
            ps.setString(1, outbox);
            if (message) {
                ps.setLong(2, Long.parseLong(target));
            } else {
                ps.setString(2, target);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new String[] {rs.getString(1), String.valueOf(rs.getLong(2) + (message && through ? 1 : 0))};
            }
        }
    }
}
