package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.Cli;
import io.pgtide.relay.testing.FreePort;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The command line's refusals: a bad or missing setting, an unreachable database, an unknown option. Each is one
 * line that names what to fix (setting, host, port, database, folder) and never a secret; the whole output is
 * compared.
 */
class CommandLineErrorsTest {

    private static final String URL = "PG_TIDE_RELAY_POSTGRES_URL";
    private static final String DATABASE = "postgresql://postgres@127.0.0.1:5432/test";

    private static Cli.Result run(Map<String, String> env) throws Exception {
        return Cli.run(env, "run");
    }

    /** The relay, given this database URL, exits 1 with exactly this line after "pg-tide: database: ". */
    private static void assertDatabaseRefused(String url, String line) throws Exception {
        Cli.Result result = run(Map.of(URL, url));
        assertEquals(1, result.exit());
        assertEquals("pg-tide: database: " + line, result.output());
    }

    @Test
    void anUnknownHostIsNamed() throws Exception {
        assertDatabaseRefused("postgresql://app:s3cret-pw@nohost.invalid:5432/app",
                "cannot resolve host \"nohost.invalid\" (PG_TIDE_RELAY_POSTGRES_URL)");
    }

    @Test
    void aClosedPortIsNamedWithItsHost() throws Exception {
        int port = FreePort.next();
        assertDatabaseRefused("postgresql://app:s3cret-pw@127.0.0.1:" + port + "/app",
                "connection to 127.0.0.1:" + port + " refused: no PostgreSQL listens there"
                        + " (check host and port in PG_TIDE_RELAY_POSTGRES_URL)");
    }

    @Test
    void aMissingDatabaseIsNamed() throws Exception {
        assertDatabaseRefused("postgresql://postgres:s3cret-pw@127.0.0.1:5432/no_such_db",
                "database \"no_such_db\" does not exist on 127.0.0.1:5432"
                        + " (check the database name in PG_TIDE_RELAY_POSTGRES_URL)");
    }

    @Test
    void anUnknownUserIsNamed() throws Exception {
        assertDatabaseRefused("postgresql://no_such_role:s3cret-pw@127.0.0.1:5432/postgres",
                "role \"no_such_role\" does not exist on 127.0.0.1:5432"
                        + " (check the user in PG_TIDE_RELAY_POSTGRES_URL)");
    }

    @Test
    void aStartUpWaitSaysOnceWhatItWaitsFor() throws Exception {
        int port = FreePort.next();
        Cli.Result result = run(Map.of(URL, "postgresql://app@127.0.0.1:" + port + "/app", "PG_TIDE_STARTUP_TIMEOUT_S", "5"));
        assertEquals(1, result.exit());
        String refused = "connection to 127.0.0.1:" + port + " refused: no PostgreSQL listens there"
                + " (check host and port in PG_TIDE_RELAY_POSTGRES_URL)";
        List<String> lines = result.output().lines().toList();
        assertEquals(2, lines.size(), "one line for the wait, not one per attempt, then the failure: " + result.output());
        assertTrue(lines.get(0).endsWith("WARN  [main] Relay - Waiting for the database (up to 5 s, PG_TIDE_STARTUP_TIMEOUT_S): "
                + refused), result.output());
        assertEquals("pg-tide: database: " + refused, lines.get(1));
    }

    @Test
    void aMissingOrBadSettingNamesIt() throws Exception {
        Cli.Result missing = run(Map.of());
        assertEquals(2, missing.exit());
        assertTrue(missing.output().startsWith("pg-tide: configuration: PG_TIDE_RELAY_POSTGRES_URL is not set"), missing.output());
        assertEquals(1, missing.output().lines().count(), missing.output());
        Cli.Result bad = run(Map.of(URL, "postgresql://u:s3cret-pw@db/app?service=x"));
        assertEquals(2, bad.exit());
        assertEquals("pg-tide: configuration: PG_TIDE_RELAY_POSTGRES_URL: the libpq parameter \"service\" has no"
                + " PgJDBC equivalent; remove it or use a jdbc:postgresql: URL", bad.output());
        assertFalse(bad.output().contains("s3cret-pw"));
    }

    @Test
    void aMissingRoutesFolderIsRefusedBeforeStartUp() throws Exception {
        // the closed port proves the folder is checked before any connection is tried
        String url = "postgresql://app@127.0.0.1:" + FreePort.next() + "/app";
        Cli.Result result = run(Map.of(URL, url, "PG_TIDE_ROUTES", "no/such/routes"));
        assertEquals(2, result.exit());
        assertEquals("pg-tide: configuration: PG_TIDE_ROUTES: the routes folder "
                + Path.of("no/such/routes").toAbsolutePath() + " does not exist", result.output());
    }

    @Test
    void statusOnADatabaseWithoutTheSchemaSaysSo() throws Exception {
        Cli.Result result = Cli.run(Map.of(URL, "postgresql://postgres@127.0.0.1:5432/postgres"), "status");
        assertEquals(1, result.exit());
        assertEquals("pg-tide: database: schema tide is missing in jdbc:postgresql://127.0.0.1:5432/postgres"
                + " (PG_TIDE_RELAY_POSTGRES_URL): create the extension there, or start the relay once", result.output());
    }

    @Test
    void everySubcommandRefusesAnUnknownOption() throws Exception {
        Map<String, String> env = Map.of(URL, "postgresql://postgres@127.0.0.1:5432/test");
        Map<String, String> usages = Map.of("run", "pg-tide run", "demo", "pg-tide demo",
                "status", "pg-tide status [--json]", "validate", "pg-tide validate [--print] [file or folder...]");
        for (Map.Entry<String, String> usage : usages.entrySet()) {
            Cli.Result result = Cli.run(env, usage.getKey(), "--bogus");
            assertEquals(2, result.exit(), result.output());
            assertEquals("pg-tide " + usage.getKey() + ": unknown option \"--bogus\" (usage: " + usage.getValue() + ")",
                    result.output());
        }
        Cli.Result operand = Cli.run(env, "status", "extra");
        assertEquals(2, operand.exit(), operand.output());
        assertEquals("pg-tide status: unexpected argument \"extra\" (usage: pg-tide status [--json])", operand.output());
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
