package io.pgtide.relay.lock;

import java.sql.Connection;
import java.sql.SQLException;
import org.apache.camel.Route;

/** What must hold before a guarded route may take its lock and start; checked on the pipeline's own session. */
@FunctionalInterface
public interface StartCondition {

    /** Why the route must wait (one line naming what to fix), or null when it may start. */
    String unmet(Route route, Connection session) throws SQLException;

    /** Every one of the conditions, in order: the first unmet one's reason. */
    static StartCondition allOf(StartCondition... conditions) {
        return (route, session) -> {
            for (StartCondition condition : conditions) {
                String reason = condition.unmet(route, session);
                if (reason != null) {
                    return reason;
                }
            }
            return null;
        };
    }
}
