package io.pgtide.relay.lock;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.camel.Route;

/** A pipeline an operator paused ({@code tide.relay_pause}) does not start on any relay until it is resumed. */
public final class NotPaused implements StartCondition {

    @Override
    public String unmet(Route route, Connection session) throws SQLException {
        try (PreparedStatement ps = session.prepareStatement("SELECT paused_by, paused_at::text"
                + " FROM tide.relay_consumer_offsets WHERE relay_group = tide.relay_group() AND pipeline = ?"
                + " AND paused_at IS NOT NULL LIMIT 1")) {
            ps.setString(1, route.getRouteId());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? "paused by " + rs.getString(1) + " at " + rs.getString(2) + "; resume it with"
                        + " pg-tide resume " + route.getRouteId() + " (or SELECT tide.relay_resume('"
                        + route.getRouteId() + "'))" : null;
            }
        }
    }
}
