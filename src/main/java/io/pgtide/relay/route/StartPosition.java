package io.pgtide.relay.route;

import io.pgtide.relay.db.Database;
import io.pgtide.relay.lock.StartCondition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Map;
import org.apache.camel.Route;
import org.apache.camel.component.sql.SqlEndpoint;

/**
 * Registers a pipeline at the start position of its {@code tide:} source ({@code start=}), and a partition as which
 * one it is, before it may first poll:
 * a poll registers an unknown pipeline at the earliest message, so the registration with the chosen start must come
 * first. A registered pipeline keeps its offset ({@code tide.relay_register} does nothing then); a standby takes no
 * write. Never a reason to wait: the outbox is known to exist once this runs after {@link OutboxExists}.
 */
public final class StartPosition implements StartCondition {

    /** The route property that carries the start position ({@link PipelineCompletion}). */
    public static final String PROPERTY = "pgTideStart";

    @Override
    public String unmet(Route route, Connection session) throws SQLException {
        Object start = route.getProperties().get(PROPERTY);
        String outbox = route.getEndpoint() instanceof SqlEndpoint poll ? PipelineCheck.polledOutbox(poll.getQuery()) : null;
        if (start == null || outbox == null || Database.standby(session)) {
            return null;
        }
        Map<String, Object> properties = route.getProperties();
        // a partition registers as which one it is: tide.relay_register refuses a change of the partition count
        try (PreparedStatement ps = session.prepareStatement(
                "SELECT tide.relay_register(?, ?, NULL, ?, ?, ?, ?)")) {
            ps.setString(1, route.getRouteId());
            ps.setString(2, outbox);
            ps.setString(3, start.toString());
            ps.setObject(4, properties.get(PipelineCompletion.PARTITION_OF), Types.VARCHAR);
            ps.setInt(5, Integer.parseInt(String.valueOf(properties.getOrDefault(PipelineCompletion.PARTITION, "0"))));
            ps.setInt(6, Integer.parseInt(String.valueOf(properties.getOrDefault(PipelineCompletion.PARTITIONS, "1"))));
            ps.execute();
        }
        return null;
    }
}
