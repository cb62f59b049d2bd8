package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Pipelines;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/pg-tide demo} of an installation laid out as {@code mvn package} lays out target/pg-tide (bin, app jars,
 * examples/demo), started from another folder: it finds its pipelines, delivers, and stops on SIGTERM without a line
 * of complaint (the relay stops before its embedded server).
 */
class DemoLayoutTest {

    @Test
    void theDemoRunsFromTheInstallationAndStopsQuietly(@TempDir Path elsewhere) throws Exception {
        // not a @TempDir: JUnit warns about every link to a jar it deletes
        Path home = Files.createTempDirectory("pg-tide-home");
        install(home);
        Path log = elsewhere.resolve("demo.log");
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/pg-tide").toString(), "demo")
                .directory(elsewhere.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("PG_TIDE_"));
        builder.environment().put("PG_TIDE_METRICS_PORT", String.valueOf(FreePort.next()));
        Process demo = builder.start();
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

    /** Deletes the installation; its links to jars go, never the jars. */
    private static void delete(Path home) throws IOException {
        try (Stream<Path> paths = Files.walk(home)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** The layout the pom assembles: the launcher, the relay's classes as a jar beside its runtime jars, the demo. */
    private static void install(Path home) throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        Files.copy(Path.of("src/dist/bin/pg-tide"), bin.resolve("pg-tide"));
        assertTrue(bin.resolve("pg-tide").toFile().setExecutable(true));
        Path app = Files.createDirectories(home.resolve("app"));
        for (String entry : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                .split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (entry.endsWith(".jar")) {
                Files.createSymbolicLink(app.resolve(path.getFileName()), path.toAbsolutePath());
            } else if (path.endsWith("classes") && !path.endsWith("test-classes")) {
                jar(path, app.resolve("pg-tide.jar"));
            }
        }
        Path demo = Files.createDirectories(home.resolve("examples/demo"));
        try (Stream<Path> files = Files.list(Path.of("examples/demo"))) {
            for (Path file : files.toList()) {
                Files.copy(file, demo.resolve(file.getFileName()));
            }
        }
    }

    private static void jar(Path classes, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(file).toString().replace(File.separatorChar, '/')));
                try (OutputStream entry = new NonClosing(out)) {
                    Files.copy(file, entry);
                }
                out.closeEntry();
            }
        }
    }

    /** Files.copy into one entry of the jar, leaving the jar open. */
    private static final class NonClosing extends OutputStream {
        private final OutputStream out;

        NonClosing(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }
    }
}
