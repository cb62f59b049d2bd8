package io.pgtide.relay.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.config.PostgresUrl;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Refusals the machine's trust-auth server never gives, described from the server's own error. */
class ConnectionFailureTest {

    private static final PostgresUrl URL = PostgresUrl.parse("PG_TIDE_RELAY_POSTGRES_URL",
            "postgresql://app:s3cret@db1:5433,db2/app");

    private static SQLException server(String state, String message) {
        return new PSQLException(new ServerErrorMessage("SFATAL\0C" + state + "\0M" + message + "\0"));
    }

    @Test
    void aWrongPasswordNamesUserHostAndSetting() {
        assertEquals("password authentication failed for user \"app\" on db1:5433,db2:5432 (check the password in"
                + " PG_TIDE_RELAY_POSTGRES_URL)",
                ConnectionFailure.describe(server("28P01", "password authentication failed for user \"app\""), URL));
    }

    @Test
    void anyOtherServerRefusalIsOneLineWithWhereAndSetting() {
        assertEquals("too many connections for role \"app\" (db1:5433,db2:5432, PG_TIDE_RELAY_POSTGRES_URL)",
                ConnectionFailure.describe(server("53300", "too many connections for role \"app\""), URL));
    }
}
