package io.pgtide.relay.testing;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Apache Camel's CLI ({@code camel ...}, as jbang installs it), run in a JVM of its own against local Camel processes. */
public final class CamelCli {

    private static final Path POM = Path.of("src/test/camel-cli/pom.xml");

    private final String classpath;

    private CamelCli(String classpath) {
        this.classpath = classpath;
    }

    /** Resolves camel-jbang-core of the given Camel version with Maven (from the local repository once fetched). */
    public static CamelCli resolve(String camelVersion, Path work) throws Exception {
        Path file = work.resolve("camel-cli.classpath");
        Process mvn = new ProcessBuilder("mvn", "-B", "-q", "-ntp", "-f", POM.toString(), "dependency:build-classpath",
                "-Dcamel.version=" + camelVersion, "-Dmdep.outputFile=" + file.toAbsolutePath())
                .redirectErrorStream(true).start();
        String output = new String(mvn.getInputStream().readAllBytes());
        if (!mvn.waitFor(5, TimeUnit.MINUTES) || mvn.exitValue() != 0) {
            throw new AssertionError("resolving Camel's CLI failed: " + output);
        }
        String testClasses = Path.of(CamelCli.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        return new CamelCli(testClasses + java.io.File.pathSeparator + Files.readString(file).strip());
    }

    /** Runs {@code camel <args>} and returns what it printed. */
    public String run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, CamelCli.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("camel " + String.join(" ", args) + " did not end within 60 s: " + output);
        }
        return output;
    }

    /** The CLI's entry point, as the camel launcher calls it; reflection keeps the CLI off the test classpath. */
    public static void main(String[] args) throws Exception {
        Method run = Class.forName("org.apache.camel.dsl.jbang.core.commands.CamelJBangMain").getMethod("run", String[].class);
        run.invoke(null, (Object) args);
    }
}
