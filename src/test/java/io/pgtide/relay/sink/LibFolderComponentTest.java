package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Jars;
import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.TestDatabase;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Camel component the relay does not bundle works once its jar is in the relay's lib/ folder: the real
 * launcher (src/dist/bin/pg-tide) runs as a child process and a pipeline delivers through camel-stream to
 * a file; the same pipeline file without the jar fails with an error naming the component.
 *
 * <p>The jar comes from the local Maven repository and is never downloaded here: {@code .ci/run} fetches
 * it before the tests with
 * {@code mvn -B -ntp dependency:get -Dartifact=org.apache.camel:camel-stream:<camel version> -Dtransitive=false}
 * (camel-stream needs nothing beyond camel-support, which the relay ships). Run that line once by hand to
 * run this test outside CI.
 *
 * <p>The relay layout is {@code <build dir>/pg-tide} when {@code mvn package} made it from the current
 * classes; otherwise the test assembles the same layout: bin/pg-tide from src/dist, app/ with the compiled
 * relay as a jar plus the jars of the test classpath (a superset of the relay's runtime dependencies), and
 * lib/.
 */
class LibFolderComponentTest {

    private static final String COMPONENT_CLASS = "org.apache.camel.component.stream.StreamComponent";

    private static Path componentJar;

    @BeforeAll
    static void findTheComponentJar() {
        String version = camelVersion();
        Path repository = Path.of(System.getProperty("maven.repo.local",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString()));
        componentJar = repository.resolve(Path.of("org", "apache", "camel", "camel-stream", version,
                "camel-stream-" + version + ".jar"));
        assertTrue(Files.isRegularFile(componentJar), componentJar + " is missing: .ci/run fetches it with"
                + " mvn -B -ntp dependency:get -Dartifact=org.apache.camel:camel-stream:" + version + " -Dtransitive=false");
        // the proof needs a component the relay does not ship: the test classpath holds every relay jar
        assertThrows(ClassNotFoundException.class, () -> Class.forName(COMPONENT_CLASS),
                "camel-stream is on the relay's classpath already: pick another component for this test");
    }

    @Test
    void aComponentJarInLibDeliversAndWithoutItThePipelineFailsNamingTheComponent(@TempDir Path work) throws Exception {
        Path home = relayLayout(work.resolve("pg-tide"));
        try {
            deliverWithAndWithoutTheJar(home, work);
        } finally {
            // app/ links jars outside the temp folder: remove the links, never what they point to
            try (Stream<Path> links = Files.list(home.resolve("app"))) {
                for (Path link : links.filter(Files::isSymbolicLink).toList()) {
                    Files.delete(link);
                }
            }
        }
    }

    private static void deliverWithAndWithoutTheJar(Path home, Path work) throws Exception {
        Path routes = Files.createDirectories(work.resolve("routes"));
        Path out = work.resolve("orders.jsonl");
        // one line per message in a file, through camel-stream (from lib/)
        Files.writeString(routes.resolve("orders-to-file.yaml"),
                PipelineYaml.perMessage("orders-to-file", "orders", "stream:file?fileName=" + out + "&encoding=UTF-8"));

        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            Producers.publish(db, "orders", 2, 300);
            long last = db.queryOne(Long.class, "SELECT id FROM tide.tide_outbox_messages ORDER BY tx DESC, id DESC LIMIT 1");

            // without the jar: the pipeline fails with an error naming the component's scheme, and delivers nothing
            try (Launched relay = Launched.start(home, db, routes, work.resolve("without-jar.log"))) {
                String error = relay.awaitOutput(Duration.ofSeconds(60), "stream://file");
                System.out.println("without the jar in lib/: " + error);
                assertTrue(error.contains("orders-to-file"), "the error names the pipeline: " + error);
                assertTrue(error.contains("component"), "the error says a component is missing: " + error);
                Thread.sleep(1000);
                assertFalse(Files.exists(out) && Files.size(out) > 0, "nothing delivered without the component");
                assertTrue(Pipelines.offset(db, "orders-to-file") <= 0);
                assertTrue(relay.process.isAlive(), "a pipeline that cannot be created stops only itself");
            }

            // the same layout and pipeline file with the jar dropped into lib/
            Files.copy(componentJar, home.resolve("lib").resolve(componentJar.getFileName()));
            try (Launched relay = Launched.start(home, db, routes, work.resolve("with-jar.log"))) {
                Pipelines.await(Duration.ofSeconds(60), "the offset to reach the last row", () -> {
                    assertTrue(relay.process.isAlive(), "the relay exited:\n" + relay.output());
                    return Pipelines.offset(db, "orders-to-file") == last;
                }, () -> "relay output:\n" + relay.output());
            }
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            assertEquals(db.queryList(String.class, "SELECT payload::text FROM tide.tide_outbox_messages ORDER BY tx, id"), lines, "one line per message, each payload once, in (tx, id) order");
        }
    }

    /** The real launcher with its own environment, output to a file; stopped on close (SIGTERM, then kill). */
    private static final class Launched implements AutoCloseable {
        final Process process;
        final Path log;

        private Launched(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        static Launched start(Path home, TestDatabase db, Path routes, Path log) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(home.resolve("bin").resolve("pg-tide").toString(), "run");
            Map<String, String> env = builder.environment();
            env.remove("PG_TIDE_LIB");
            env.remove("PG_TIDE_POSTGRES_URL");
            // the launcher runs `java` from the PATH: the JDK running this test
            env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator + env.getOrDefault("PATH", ""));
            env.put("JAVA_OPTS", "-Xmx256m");
            env.put("PG_TIDE_RELAY_POSTGRES_URL", "postgresql://postgres:postgres@" + db.server().host() + ":"
                    + db.server().port() + "/" + db.name());
            env.put("PG_TIDE_ROUTES", routes.toString());
            env.put("PG_TIDE_RELAY_INSTANCE", "lib-folder-test");
            env.put("PG_TIDE_LOCK_INTERVAL_MS", "200");
            env.put("PG_TIDE_METRICS_PORT", String.valueOf(FreePort.next()));
            builder.directory(routes.getParent().toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            return new Launched(builder.start(), log);
        }

        String output() throws IOException {
            return Files.exists(log) ? Files.readString(log) : "";
        }

        /** Waits for a line holding {@code text} (or the process to end) and returns that line. */
        String awaitOutput(Duration timeout, String text) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                String output = output();
                for (String line : output.split("\n")) {
                    if (line.contains(text)) {
                        return line;
                    }
                }
                if (!process.isAlive() && !output().contains(text)) {  // printed nothing more after exiting
                    throw new AssertionError("the relay exited (" + process.exitValue() + ") without \"" + text + "\":\n" + output);
                }
                Thread.sleep(100);
            }
            throw new AssertionError("no \"" + text + "\" within " + timeout.toSeconds() + " s:\n" + output());
        }

        @Override
        public void close() throws Exception {
            process.destroy();   // SIGTERM: the relay stops its routes and releases its locks
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * bin/, app/ and an empty lib/ under {@code home}: app/ links the jars of {@code mvn package}'s
     * target/pg-tide/app when they are at least as new as the compiled classes, else the compiled classes
     * as a jar and the test classpath's jars.
     */
    private static Path relayLayout(Path home) throws Exception {
        Path testClasses = Path.of(LibFolderComponentTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path buildDir = testClasses.getParent();
        Path classes = buildDir.resolve("classes");
        Path app = Files.createDirectories(home.resolve("app"));
        Files.createDirectories(home.resolve("lib"));
        Path bin = Files.createDirectories(home.resolve("bin"));
        Files.copy(Path.of("src/dist/bin/pg-tide"), bin.resolve("pg-tide"));
        assertTrue(bin.resolve("pg-tide").toFile().setExecutable(true));

        Path packaged = buildDir.resolve("pg-tide").resolve("app");
        if (Files.isRegularFile(packaged.resolve("pg-tide.jar"))
                && Files.getLastModifiedTime(packaged.resolve("pg-tide.jar")).compareTo(newest(classes)) >= 0) {
            System.out.println("relay layout: app/ of " + packaged.getParent());
            try (Stream<Path> jars = Files.list(packaged)) {
                for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                    Files.createSymbolicLink(app.resolve(jar.getFileName()), jar);
                }
            }
        } else {
            System.out.println("relay layout: assembled from " + classes + " and the test classpath");
            Jars.of(classes, app.resolve("pg-tide.jar"));
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            for (String entry : classpath.split(File.pathSeparator)) {
                Path jar = Path.of(entry);
                if (entry.endsWith(".jar") && Files.isRegularFile(jar) && !Files.exists(app.resolve(jar.getFileName()))) {
                    Files.createSymbolicLink(app.resolve(jar.getFileName()), jar.toAbsolutePath());
                }
            }
        }
        return home;
    }

    private static FileTime newest(Path folder) throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).map(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).max(FileTime::compareTo).orElse(FileTime.fromMillis(0));
        }
    }

    /** Camel's version, from the camel-api jar on the classpath (the relay never mixes Camel versions). */
    private static String camelVersion() {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Matcher m = Pattern.compile("camel-api-([0-9][^" + Pattern.quote(File.separator) + "]*)\\.jar").matcher(classpath);
        assertTrue(m.find(), "camel-api is not on the classpath");
        return m.group(1);
    }
}
