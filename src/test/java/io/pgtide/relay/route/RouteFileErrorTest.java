package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.route.RouteFolder;
import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Invariant 7 of docs/DESIGN.md: a broken pipeline file is reported with file and line; the others keep running. */
class RouteFileErrorTest {

    private static final String GOOD = PipelineYaml.logging("good", "orders");

    @Test
    void brokenFilesAreNamedWithTheirLineAndTheGoodPipelineRuns(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("good.yaml"), GOOD);
        Files.writeString(routes.resolve("bad-indent.yaml"), GOOD.replace("good", "bad1").replace("    from:", "  from:"));
        Files.writeString(routes.resolve("bad-field.yaml"), GOOD.replace("good", "bad2").replace("steps:", "stepz:"));
        Files.writeString(routes.resolve("bad-yaml.yaml"), "- route:\n    id: [unclosed\n");
        Files.writeString(routes.resolve("bad-uri.yaml"), GOOD.replace("good", "bad3").replace("level=DEBUG", "nosuchoption=1"));
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            for (int i = 0; i < 5; i++) {
                db.execute("SELECT tide.outbox_publish('orders', '{}')");
            }
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                List<RouteFolder.Failure> failures = relay.relay().routeFolder().failures();
                assertEquals(List.of("bad-field.yaml", "bad-indent.yaml", "bad-uri.yaml", "bad-yaml.yaml"),
                        failures.stream().map(f -> f.file().getFileName().toString()).toList());
                assertTrue(failures.get(2).reason().contains("nosuchoption"), "names the setting: " + failures.get(2).reason());
                for (RouteFolder.Failure failure : failures.stream().filter(f -> !f.file().endsWith("bad-uri.yaml")).toList()) {
                    assertTrue(failure.reason().matches("(?s).*line \\d+.*"), "names the line: " + failure.reason());
                    assertTrue(failure.reason().contains(failure.file().getFileName().toString()),
                            "names the file: " + failure.reason());
                }
                long last = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(20), "the good pipeline to deliver",
                        () -> Pipelines.offset(db, "good") == last);
            }
        }
    }
}
