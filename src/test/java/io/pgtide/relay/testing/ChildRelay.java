package io.pgtide.relay.testing;

import io.pgtide.relay.config.RelaySettings;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** A relay in a JVM of its own (the real {@code pg-tide run} entry point), to kill or terminate. */
public final class ChildRelay implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ChildRelay(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static ChildRelay start(TestDatabase db, Path routes, String instance, Map<String, String> extraEnv)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(List.of(java, "-Xmx256m", "-cp", classpath(),
                "io.pgtide.relay.cli.PgTide", "run"));
        Map<String, String> env = builder.environment();
        env.put(RelaySettings.POSTGRES_URL, db.url().jdbcUrl() + "?user=postgres&password=postgres");
        env.put(RelaySettings.ROUTES, routes.toString());
        env.put(RelaySettings.INSTANCE, instance);
        env.put(RelaySettings.LOCK_INTERVAL, "200");
        env.put(RelaySettings.POOL_SIZE, "4");
        env.put(RelaySettings.METRICS_PORT, String.valueOf(FreePort.next()));
        env.putAll(extraEnv);
        Path log = Files.createTempFile("pg-tide-child-" + instance, ".log");
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        return new ChildRelay(builder.start(), log);
    }

    /**
     * This JVM's test classpath: Surefire names it in a property; under exec:java (the benchmark commands)
     * java.class.path is Maven's own, and the project's jars are those of the class loader running the main.
     */
    private static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        if (surefire != null) {
            return surefire;
        }
        if (Thread.currentThread().getContextClassLoader() instanceof URLClassLoader loader) {
            return Arrays.stream(loader.getURLs()).map(ChildRelay::path).collect(Collectors.joining(File.pathSeparator));
        }
        return System.getProperty("java.class.path");
    }

    private static String path(URL url) {
        try {
            return Path.of(url.toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("classpath entry " + url, e);
        }
    }

    public Process process() {
        return process;
    }

    /** kill -9. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** What the child printed so far. */
    public String output() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            kill();
        }
        new File(log.toString()).delete();
    }
}
