package io.pgtide.relay.testing;

import io.pgtide.relay.config.RelaySettings;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** A relay in a JVM of its own (the real {@code pg-tide run} entry point), to kill or terminate. */
public final class ChildRelay implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ChildRelay(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** A relay with test settings: lock checks every 200 ms, a pool of 4, a 256 MiB heap. */
    public static ChildRelay start(TestDatabase db, Path routes, String instance, Map<String, String> extraEnv)
            throws IOException {
        Map<String, String> env = new HashMap<>(Map.of(RelaySettings.LOCK_INTERVAL.name(), "200", RelaySettings.POOL_SIZE.name(), "4"));
        env.putAll(extraEnv);
        return launch(db, routes, instance, List.of("-Xmx256m"), env);
    }

    /**
     * A relay with test settings that logs as shipped (src/main/resources/log4j2.properties, not the test
     * configuration), for tests of what a user sees.
     */
    public static ChildRelay startWithShippedLogging(TestDatabase db, Path routes, String instance,
            Map<String, String> extraEnv) throws IOException {
        Map<String, String> env = new HashMap<>(Map.of(RelaySettings.LOCK_INTERVAL.name(), "200", RelaySettings.POOL_SIZE.name(), "4"));
        env.putAll(extraEnv);
        URL shipped = ChildRelay.class.getClassLoader().getResource("log4j2.properties");
        return launch(db, routes, instance, List.of("-Xmx256m", "-Dlog4j2.configurationFile=" + shipped), env);
    }

    /** A relay as shipped, for benchmarks: the launcher's default JVM options and the relay's default settings. */
    public static ChildRelay startAsShipped(TestDatabase db, Path routes, String instance, Map<String, String> extraEnv)
            throws IOException {
        return launch(db, routes, instance, launcherJavaOptions(), extraEnv);
    }

    private static ChildRelay launch(TestDatabase db, Path routes, String instance, List<String> javaOptions,
            Map<String, String> extraEnv) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(javaOptions);
        command.addAll(List.of("-cp", classpath(), "io.pgtide.relay.cli.PgTide", "run"));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("PG_TIDE_"));
        env.put(RelaySettings.POSTGRES_URL.name(), db.url().jdbcUrl() + "?user=postgres&password=postgres");
        env.put(RelaySettings.ROUTES.name(), routes.toString());
        env.put(RelaySettings.INSTANCE.name(), instance);
        env.put(RelaySettings.METRICS_PORT.name(), String.valueOf(FreePort.next()));
        env.putAll(extraEnv);
        Path log = Files.createTempFile("pg-tide-child-" + instance, ".log");
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        return new ChildRelay(builder.start(), log);
    }

    /** The JVM options of bin/pg-tide when JAVA_OPTS is not set. */
    private static List<String> launcherJavaOptions() throws IOException {
        Matcher defaults = Pattern.compile("\\$\\{JAVA_OPTS:-([^}]*)}").matcher(Files.readString(Path.of("src/dist/bin/pg-tide")));
        if (!defaults.find()) {
            throw new IllegalStateException("src/dist/bin/pg-tide has no ${JAVA_OPTS:-...} default");
        }
        return List.of(defaults.group(1).trim().split("\\s+"));
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
