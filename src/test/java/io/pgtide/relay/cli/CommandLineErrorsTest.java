package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.Cli;
import io.pgtide.relay.testing.FreePort;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code pg-tide run} with a bad or missing setting: one clear line, the setting's name, no secret. */
class CommandLineErrorsTest {

    private static final String DATABASE = "postgresql://postgres@127.0.0.1:5432/test";

    private static Cli.Result run(Map<String, String> env) throws Exception {
        return Cli.run(env, "run");
    }

    @Test
    void anUnreachableDatabaseIsOneLine() throws Exception {
        Cli.Result result = run(Map.of("PG_TIDE_RELAY_POSTGRES_URL",
                "postgresql://app:s3cret-pw@127.0.0.1:" + FreePort.next() + "/app"));
        assertEquals(1, result.exit());
        assertEquals(1, result.output().lines().count(), result.output());
        assertTrue(result.output().startsWith("pg-tide: database: Connection to 127.0.0.1:"), result.output());
        assertFalse(result.output().contains("s3cret-pw"));
    }

    @Test
    void aMissingDatabaseIsOneLine() throws Exception {
        Cli.Result result = run(Map.of("PG_TIDE_RELAY_POSTGRES_URL", "postgresql://postgres:s3cret-pw@127.0.0.1:5432/no_such_db"));
        assertEquals(1, result.exit());
        assertEquals(1, result.output().lines().count(), result.output());
        assertTrue(result.output().contains("no_such_db") && result.output().contains("does not exist"), result.output());
        assertFalse(result.output().contains("s3cret-pw"));
    }

    @Test
    void aMissingOrBadSettingNamesIt() throws Exception {
        Cli.Result missing = run(Map.of());
        assertEquals(2, missing.exit());
        assertTrue(missing.output().contains("PG_TIDE_RELAY_POSTGRES_URL is not set"), missing.output());
        Cli.Result bad = run(Map.of("PG_TIDE_RELAY_POSTGRES_URL", "postgresql://u:s3cret-pw@db/app?service=x"));
        assertEquals(2, bad.exit());
        assertEquals(1, bad.output().lines().count(), bad.output());
        assertTrue(bad.output().contains("PG_TIDE_RELAY_POSTGRES_URL") && bad.output().contains("\"service\""), bad.output());
        assertFalse(bad.output().contains("s3cret-pw"));
    }

    @Test
    void aMetricsPortOutOfRangeIsOneLineNamingTheSetting() throws Exception {
        Cli.Result result = run(Map.of("PG_TIDE_RELAY_POSTGRES_URL", DATABASE, "PG_TIDE_METRICS_PORT", "99999"));
        assertEquals(2, result.exit(), result.output());
        assertEquals("pg-tide: configuration: PG_TIDE_METRICS_PORT must be a port number, 1 to 65535, not \"99999\"",
                result.output());
    }

    @Test
    void aMetricsPortInUseIsOneLineNamingTheSettingAndThePort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            int port = taken.getLocalPort();
            Cli.Result result = run(Map.of("PG_TIDE_RELAY_POSTGRES_URL", DATABASE, "PG_TIDE_METRICS_PORT", String.valueOf(port)));
            assertEquals(2, result.exit(), result.output());
            assertEquals("pg-tide: configuration: PG_TIDE_METRICS_PORT: port " + port
                    + " is in use by another process: stop it or choose another port", result.output());
        }
    }
}
