package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.PipelineSamples;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pg-tide validate}: the relay's load checks plus the Camel YAML DSL schema, with no database. */
class ValidateTest {

    private record Run(int exit, String output) {
    }

    private static Run validate(String... args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            int exit = Validate.run(List.of(args), Path.of("routes"), out);
            return new Run(exit, bytes.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void everyShippedPipelineAndTheConfigMapPass() throws Exception {
        Run run = validate("routes", "examples/routes", "examples/demo", "examples/cnpg/routes-configmap.yaml");
        assertEquals("pg-tide validate: 10 route file(s), 0 problem(s)\n", run.output());
        assertEquals(0, run.exit());
    }

    @Test
    void eachBrokenSampleFailsWithItsLine() throws Exception {
        for (Map.Entry<String, String> expected : PipelineSamples.REFUSALS.entrySet()) {
            Path sample = PipelineSamples.BROKEN.resolve(expected.getKey());
            Run run = validate(sample.toString());
            assertEquals(1, run.exit(), run.output());
            assertTrue(run.output().startsWith(sample + ":" + expected.getValue()), run.output());
            assertTrue(run.output().endsWith("pg-tide validate: 1 route file(s), 1 problem(s)\n"), run.output());
        }
    }

    @Test
    void theDslSchemaFindsWhatTheParserLetsThrough(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("maybe.yaml");
        Files.writeString(file, Files.readString(PipelineSamples.GOOD)
                .replace("stopOnException: true", "stopOnException: maybe"));
        Run run = validate(file.toString());
        assertEquals(file + ":9: string found, boolean expected (at $[0].route.from.steps[0].split.stopOnException)\n"
                + "pg-tide validate: 1 route file(s), 1 problem(s)\n", run.output());
        assertEquals(1, run.exit());
    }

    @Test
    void aConfigMapIsCheckedKeyByKeyWithItsOwnLines(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("routes-configmap.yaml");
        Files.writeString(file, Files.readString(Path.of("examples/cnpg/routes-configmap.yaml"))
                .replace("uri: tide:orders", "uri: tide:orders?batchSise=10"));
        Run run = validate(file.toString());
        assertTrue(run.output().startsWith(file + ":21: data.orders-to-kafka.yaml: tide:orders?batchSise=10: unknown option"),
                run.output());
        assertEquals(1, run.exit());
    }

    @Test
    void aPipelineIdDefinedTwiceInOneFolderNamesBothFiles(@TempDir Path dir) throws Exception {
        Files.copy(PipelineSamples.GOOD, dir.resolve("a.yaml"));
        Files.copy(PipelineSamples.GOOD, dir.resolve("b.yaml"));
        Run run = validate(dir.toString());
        assertEquals(dir.resolve("b.yaml") + ":2: route id \"good\" is already defined by " + dir.resolve("a.yaml") + "\n"
                + "pg-tide validate: 2 route file(s), 1 problem(s)\n", run.output());
    }

    @Test
    void printShowsThePipelineAsTheRelayRunsIt() throws Exception {
        Run run = validate("--print", "routes/orders-to-kafka.yaml");
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("routeConfigurationId: pg-tide"), run.output());
        assertTrue(run.output().contains("routePolicyRef: \"#pgTideLock\""), run.output());
        assertTrue(run.output().contains("uri: \"sql:SELECT * FROM tide.relay_poll('orders-to-kafka', 'orders', 1000)"
                + "?useIterator=false&greedy=true&delay=2000&scheduler=%23pgTideWakeup\""), run.output());
    }
}
