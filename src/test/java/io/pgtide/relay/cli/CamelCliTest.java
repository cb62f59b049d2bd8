package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.CamelCli;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Camel's own CLI sees a running relay: {@code camel ps}, {@code camel get route} and {@code camel get health}. */
class CamelCliTest {

    @TempDir
    Path routes;
    @TempDir
    Path work;

    @Test
    void psGetRouteAndGetHealthShowTheRelay() throws Exception {
        String pid = String.valueOf(ProcessHandle.current().pid());
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)");
            Files.writeString(routes.resolve("orders-to-log.yaml"), """
                    - route:
                        id: orders-to-log
                        from:
                          uri: tide:orders
                          steps:
                            - to: log:delivered?level=DEBUG
                    """);
            CamelCli camel;
            try (RelayHarness relay = RelayHarness.start(db, routes, "cli-test", Map.of(RelaySettings.CAMEL_CLI.name(), "true"))) {
                camel = CamelCli.resolve(relay.context().getVersion(), work);
                Pipelines.await(Duration.ofSeconds(30), "the pipeline's offset",
                        () -> Pipelines.offset(db, "orders-to-log") == Pipelines.lastRow(db, "orders"));

                // the connector writes its status file every 2 s
                String[] route = new String[1];
                Pipelines.await(Duration.ofSeconds(30), "camel get route to list the pipeline",
                        () -> (route[0] = camel.run("get", "route", pid)).contains("orders-to-log"));
                assertTrue(line(route[0], "orders-to-log").contains("Started"), route[0]);
                assertTrue(line(route[0], "orders-to-log").contains("relay_poll"), route[0]);

                String ps = camel.run("ps");
                assertTrue(Pattern.compile("(?m)^\\s*" + pid + "\\s+pg-tide\\s+1/1\\s+Running").matcher(ps).find(), ps);

                String health = camel.run("get", "health");
                assertTrue(Pattern.compile("(?m)^\\s*" + pid + "\\s+pg-tide\\s.*pg-tide/relay\\s+R\\s+UP\\s").matcher(health).find(),
                        health);
            }
            // a stopped relay leaves nothing behind in ~/.camel
            String after = camel.run("ps");
            assertFalse(Pattern.compile("(?m)^\\s*" + pid + "\\s").matcher(after).find(), after);
        }
    }

    private static String line(String output, String containing) {
        return output.lines().filter(l -> l.contains(containing)).findFirst()
                .orElseThrow(() -> new AssertionError("no line with " + containing + " in:\n" + output));
    }
}
