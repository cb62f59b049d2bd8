package io.pgtide.relay.db;

import io.pgtide.relay.config.PostgresUrl;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A failed connection attempt in one line that names what to fix: the host, the port or the database, and the
 * setting the URL came from. The driver's own words often name neither ("The connection attempt failed.").
 */
final class ConnectionFailure {

    private ConnectionFailure() {
    }

    /** The same failure (SQL state and cause kept) with a message that names host, port and setting. */
    static SQLException explain(SQLException e, PostgresUrl url) {
        return new SQLException(describe(e, url), e.getSQLState(), e);
    }

    static String describe(SQLException e, PostgresUrl url) {
        String where = url.hostsAndPorts();
        String setting = url.setting();
        UnknownHostException unknown = cause(e, UnknownHostException.class);
        if (unknown != null) {
            return "cannot resolve host \"" + unknown.getMessage() + "\" (" + setting + ")";
        }
        if (cause(e, ConnectException.class) != null) {
            return "connection to " + where + " refused: no PostgreSQL listens there (check host and port in "
                    + setting + ")";
        }
        if (cause(e, SocketTimeoutException.class) != null || cause(e, NoRouteToHostException.class) != null) {
            return "no answer from " + where + " (check host, port and network in " + setting + ")";
        }
        String said = serverMessage(e);
        return switch (e.getSQLState() == null ? "" : e.getSQLState()) {
            case "28P01" -> said + " on " + where + " (check the password in " + setting + ")";
            case "28000" -> said + " on " + where + " (check the user in " + setting + ")";
            case "3D000" -> said + " on " + where + " (check the database name in " + setting + ")";
            default -> said + " (" + where + ", " + setting + ")";
        };
    }

    /** The server's own message, without "FATAL:" and detail lines, or the driver's message folded into one line. */
    private static String serverMessage(SQLException e) {
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String message = server != null && server.getMessage() != null ? server.getMessage() : String.valueOf(e.getMessage());
        return message.replaceAll("\\s+", " ").strip();
    }

    private static <T extends Throwable> T cause(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
