package io.pgtide.relay.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the {@code pg-tide} command in a JVM of its own with only the given PG_TIDE_* variables; for commands that end. */
public final class Cli {

    /** The exit code and everything the command printed (stdout and stderr), stripped. */
    public record Result(int exit, String output) {
    }

    private Cli() {
    }

    public static Result run(Map<String, String> env, String... args) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, "io.pgtide.relay.cli.PgTide"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().keySet().removeIf(k -> k.startsWith("PG_TIDE_"));
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("pg-tide " + String.join(" ", args) + " did not end within 60 s: " + output);
        }
        return new Result(process.exitValue(), output.strip());
    }
}
