package io.pgtide.relay.cli;

import io.pgtide.relay.config.SettingException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the demo's pipelines are: {@code examples/demo} of the installation ({@code bin/pg-tide} names it in
 * {@code pg_tide.home}; the image and {@code target/pg-tide} ship the folder), else of the working directory (a run
 * from the repository without the launcher).
 */
final class DemoFolder {

    /** The system property the launcher sets to its installation folder. */
    static final String HOME = "pg_tide.home";

    private static final Path RELATIVE = Path.of("examples", "demo");

    private DemoFolder() {
    }

    static Path find(String home, Path workingDirectory) {
        Path installed = home == null ? null : Path.of(home).resolve(RELATIVE);
        if (installed != null && Files.isDirectory(installed)) {
            return installed;
        }
        Path local = workingDirectory.resolve(RELATIVE);
        if (Files.isDirectory(local)) {
            return local;
        }
        throw new SettingException("the demo's pipelines are missing: no " + (installed == null ? "" : installed + " and no ")
                + local.toAbsolutePath().normalize() + " (set PG_TIDE_ROUTES to a folder of pipelines to run instead)");
    }
}
