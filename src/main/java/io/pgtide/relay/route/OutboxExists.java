package io.pgtide.relay.route;

import io.pgtide.relay.lock.StartCondition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.camel.Route;
import org.apache.camel.component.sql.SqlEndpoint;
import org.apache.camel.spi.Resource;

/**
 * A pipeline starts only once its outbox exists: until then it waits and never polls, so a missing outbox costs
 * one cheap query per lock interval and one log line, not a failed poll every few seconds.
 */
public final class OutboxExists implements StartCondition {

    @Override
    public String unmet(Route route, Connection session) throws SQLException {
        String outbox = route.getEndpoint() instanceof SqlEndpoint poll ? PipelineCheck.polledOutbox(poll.getQuery()) : null;
        if (outbox == null) {
            return null;
        }
        try (PreparedStatement ps = session.prepareStatement(
                "SELECT EXISTS (SELECT FROM tide.tide_outbox_config WHERE outbox_name = ?)")) {
            ps.setString(1, outbox);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1) ? null : "outbox \"" + outbox + "\" does not exist" + file(route)
                        + "; waiting for it (create it with SELECT tide.outbox_create('" + outbox + "'))";
            }
        }
    }

    /** Where the pipeline was written, so the name can be fixed there if it is the mistake. */
    private static String file(Route route) {
        Resource source = route.getSourceResource();
        return source == null ? "" : " (named in " + source.getLocation().replaceFirst("^file:", "") + ")";
    }
}
