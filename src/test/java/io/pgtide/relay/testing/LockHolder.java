package io.pgtide.relay.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** A session that holds a pipeline's advisory lock as a running relay would, under an application name; closing ends it. */
public final class LockHolder implements AutoCloseable {

    private final Connection session;

    private LockHolder(Connection session) {
        this.session = session;
    }

    public static LockHolder hold(TestDatabase db, String pipeline, String applicationName) throws SQLException {
        Connection session = db.connect();
        try (Statement st = session.createStatement()) {
            st.execute("SET application_name = '" + applicationName + "'");
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('" + pipeline + "'))");
            return new LockHolder(session);
        } catch (SQLException e) {
            session.close();
            throw e;
        }
    }

    @Override
    public void close() throws SQLException {
        session.close();
    }
}
