package io.pgtide.relay.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The layout {@code mvn package} assembles in target/pg-tide, made from the test classpath by the pom's own rules:
 * bin/ from src/dist/bin, app/ the relay's classes as a jar and its runtime jars but the groups the {@code relay-jars}
 * execution excludes, demo-lib/ the groups the {@code demo-jars} execution includes. Jars are links into the Maven
 * repository: {@link #unlink} removes them before the folder is deleted.
 */
public final class Installation {

    public static final String APP = "app";
    public static final String DEMO_LIB = "demo-lib";

    private static final Pattern TEST_ONLY_JAR = Pattern.compile(
            ".*/(org/junit|org/opentest4j|org/apiguardian|org/scala-lang|org/apache/kafka/kafka(?!-clients/))[^ ]*");

    private Installation() {
    }

    /** Lays the installation out under {@code home}; returns it. */
    public static Path layOut(Path home) throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        try (Stream<Path> scripts = Files.list(Path.of("src/dist/bin"))) {
            for (Path script : scripts.toList()) {
                Path copy = Files.copy(script, bin.resolve(script.getFileName()));
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        String pom = Files.readString(Path.of("pom.xml"));
        Set<String> appExcludes = groups(pom, "relay-jars", "excludeGroupIds");
        Set<String> demoIncludes = groups(pom, "demo-jars", "includeGroupIds");
        Path app = Files.createDirectories(home.resolve(APP));
        Path demoLib = Files.createDirectories(home.resolve(DEMO_LIB));
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        int jars = 0;
        for (String entry : classpath.split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (entry.isBlank() || !Files.exists(path) || path.getFileName().toString().equals("test-classes")
                    || TEST_ONLY_JAR.matcher(path.toString().replace(File.separatorChar, '/')).matches()) {
                continue;
            }
            if (Files.isDirectory(path)) {
                Jars.of(path, app.resolve("pg-tide-" + path.getFileName() + ".jar"));
            } else if (entry.endsWith(".jar")) {
                String group = group(path);
                if (demoIncludes.contains(group)) {
                    link(demoLib, path);
                }
                if (!appExcludes.contains(group)) {
                    link(app, path);
                }
            }
            jars++;
        }
        assertTrue(jars > 10, "the runtime classpath looks empty: " + classpath);
        return home;
    }

    /** The image's layout: the installation without the demo-lib/ the Dockerfile removes. */
    public static Path image(Path home) throws IOException {
        layOut(home);
        unlink(home.resolve(DEMO_LIB));
        Files.delete(home.resolve(DEMO_LIB));
        return home;
    }

    /** Removes the links to jars, leaving the jars. */
    public static void unlink(Path home) throws IOException {
        try (Stream<Path> links = Files.walk(home)) {
            for (Path link : links.filter(Files::isSymbolicLink).toList()) {
                Files.delete(link);
            }
        }
    }

    private static void link(Path folder, Path jar) throws IOException {
        if (!Files.exists(folder.resolve(jar.getFileName()))) {
            Files.createSymbolicLink(folder.resolve(jar.getFileName()), jar.toAbsolutePath());
        }
    }

    /** The groupIds an execution of maven-dependency-plugin names in one of its filters. */
    private static Set<String> groups(String pom, String execution, String filter) {
        Matcher m = Pattern.compile("(?s)<id>" + execution + "</id>((?:(?!</execution>).)*)").matcher(pom);
        assertTrue(m.find(), "pom.xml has no execution " + execution);
        Matcher groups = Pattern.compile("<" + filter + ">([^<]*)</" + filter + ">").matcher(m.group(1));
        assertTrue(groups.find(), "the execution " + execution + " of pom.xml has no " + filter);
        return Set.of(groups.group(1).strip().split("\\s*,\\s*"));
    }

    /** A jar's groupId, from its place in the Maven repository (group/path/artifact/version/file.jar). */
    private static String group(Path jar) {
        Path groupFolder = jar.toAbsolutePath().getParent().getParent().getParent();
        List<String> parts = new ArrayList<>(Stream.iterate(groupFolder, p -> p != null && p.getFileName() != null,
                Path::getParent).map(p -> p.getFileName().toString()).takeWhile(name -> !name.equals("repository")).toList());
        Collections.reverse(parts);
        return String.join(".", parts);
    }
}
