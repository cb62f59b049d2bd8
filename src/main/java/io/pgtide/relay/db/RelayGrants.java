package io.pgtide.relay.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks at start-up that the relay's role has what its work needs in schema {@code tide} (the grants of
 * the CloudNativePG bootstrap), so a missing grant stops the relay with its name and the statement to run
 * instead of failing every pipeline at its first poll.
 */
public final class RelayGrants {

    /**
     * The role and each privilege it lacks as {@code <privilege> ON <object>}, from the catalog: the
     * functions the relay calls (executable by PUBLIC unless revoked; not the operator's {@code relay_rewind}),
     * the tables a poll reads and the views its metrics read.
     */
    private static final String MISSING = """
            SELECT quote_ident(current_user), m.privilege FROM (
                SELECT 'USAGE ON SCHEMA tide' WHERE NOT has_schema_privilege('tide', 'USAGE')
                UNION ALL
                SELECT 'EXECUTE ON FUNCTION ' || p.oid::regprocedure
                  FROM pg_proc p
                 WHERE p.pronamespace = 'tide'::regnamespace
                   AND (p.proname LIKE 'relay\\_%' OR p.proname IN ('outbox_sweep', 'outbox_maintain', 'oldest_open_write_tx_age', 'open_write_transactions'))
                   -- an operator's act, granted explicitly: the relay must not be able to move an offset back
                   AND p.proname <> 'relay_rewind'
                   AND NOT has_function_privilege(p.oid, 'EXECUTE')
                UNION ALL
                SELECT 'SELECT ON ' || c.oid::regclass
                  FROM pg_class c
                 WHERE c.relnamespace = 'tide'::regnamespace
                   AND c.relname IN ('tide_outbox_messages', 'outbox_messages', 'relay_consumer_offsets', 'consumer_lag', 'dead_letters')
                   AND NOT has_table_privilege(c.oid, 'SELECT')
            ) m(privilege)
            """;

    private RelayGrants() {
    }

    /** Fails with SQLSTATE 42501, naming the role, every missing grant and the GRANT statements to run. */
    public static void check(Connection connection) throws SQLException {
        String role = null;
        List<String> missing = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(MISSING); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                role = rs.getString(1);
                missing.add(rs.getString(2));
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        StringBuilder grants = new StringBuilder();
        for (String privilege : missing) {
            grants.append(" GRANT ").append(privilege).append(" TO ").append(role).append(';');
        }
        throw new SQLException("role " + role + " lacks " + String.join(", ", missing)
                + ". As the owner of schema tide, run:" + grants, "42501");
    }
}
