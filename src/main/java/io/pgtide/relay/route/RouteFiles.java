package io.pgtide.relay.route;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the pipeline routes of a folder one file at a time, so a broken file is reported with its
 * name and line and every other file's pipelines still run.
 */
public final class RouteFiles {

    private static final Logger LOG = LoggerFactory.getLogger(RouteFiles.class);

    private RouteFiles() {
    }

    /** The YAML route files of a folder, by name. */
    public static List<Path> list(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new IOException("routes folder " + folder.toAbsolutePath() + " does not exist");
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        }
    }

    /** A route file that did not load, and why (with the line, when the YAML parser knows it). */
    public record Failure(Path file, String reason) {
    }

    /** Loads every file of the folder; returns the files that failed, each already logged. */
    public static List<Failure> loadAll(CamelContext context, Path folder) throws IOException {
        List<Failure> failures = new ArrayList<>();
        for (Path file : list(folder)) {
            try {
                load(context, file);
            } catch (Exception e) {
                failures.add(new Failure(file, describe(e)));
                LOG.error("Route file {} not loaded: {}", file, describe(e));
            }
        }
        return failures;
    }

    /** Loads the routes of one file into the context. */
    public static void load(CamelContext context, Path file) throws Exception {
        PluginHelper.getRoutesLoader(context)
                .loadRoutes(ResourceHelper.resolveResource(context, "file:" + file.toAbsolutePath()));
        LOG.info("Loaded route file {}", file);
    }

    /** The message of each cause, outermost first: YAML errors carry the line in a cause. */
    public static String describe(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && !text.toString().contains(message)) {
                text.append(text.isEmpty() ? "" : " | ").append(message.replaceAll("\\s+", " "));
            }
        }
        return text.toString();
    }
}
