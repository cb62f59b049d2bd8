package io.pgtide.relay.route;

import io.pgtide.relay.support.Causes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline files of a folder, each loaded on its own: a broken file is reported with its name and
 * line while every other file's pipelines run. {@link #rescan()} applies edits safely: a changed file is
 * parsed first and swapped in only if it parses (else the running version stays), a new file starts its
 * pipelines, and a deleted file's pipelines are stopped and removed, which releases their locks.
 */
public final class RouteFolder {

    /** A route file that did not load, and why (with the line, when the YAML parser knows it). */
    public record Failure(Path file, String reason) {
    }

    /** A file as it is running: its text and the routes it made. */
    private record Loaded(String content, Set<String> routeIds) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(RouteFolder.class);

    private final CamelContext context;
    private final Path folder;
    private final Map<Path, Loaded> loaded = new HashMap<>();
    private final Map<Path, Failure> failures = new HashMap<>();
    private final Map<Path, String> rejected = new HashMap<>();
    private boolean loadedOnce;

    public RouteFolder(CamelContext context, Path folder) {
        this.context = context;
        this.folder = folder;
    }

    /** Files that are broken now, by name. */
    public synchronized List<Failure> failures() {
        return failures.values().stream().sorted((a, b) -> a.file().compareTo(b.file())).toList();
    }

    /** Loads every file; a missing folder is an error naming it. */
    public synchronized List<Failure> loadAll() throws IOException {
        loadedOnce = true;
        for (Path file : files()) {
            String content = Files.readString(file);
            try {
                load(file, content);
            } catch (Exception e) {
                fail(file, content, e);
            }
        }
        return failures();
    }

    /** Applies what changed in the folder since the last look. */
    public synchronized void rescan() throws IOException {
        if (!loadedOnce) {
            return;
        }
        List<Path> present = files();
        for (Path gone : new ArrayList<>(loaded.keySet())) {
            if (!present.contains(gone)) {
                LOG.info("Route file {} was deleted: removing its pipelines {}", gone, loaded.get(gone).routeIds());
                remove(loaded.remove(gone).routeIds());
            }
        }
        failures.keySet().retainAll(present);
        rejected.keySet().retainAll(present);
        for (Path file : present) {
            String content = Files.readString(file);
            Loaded running = loaded.get(file);
            if (running != null && running.content().equals(content) || content.equals(rejected.get(file))) {
                continue;
            }
            replace(file, running, content);
        }
    }

    private void replace(Path file, Loaded running, String content) {
        try {
            validate(file, content);
        } catch (Exception e) {
            fail(file, content, e);
            if (running != null) {
                LOG.warn("Route file {}: keeping the running version of {}", file, running.routeIds());
            }
            return;
        }
        try {
            if (running != null) {
                remove(running.routeIds());
                loaded.remove(file);
            }
            load(file, content);
            LOG.info("Route file {} {}: pipelines {}", file, running == null ? "added" : "reloaded",
                    loaded.get(file).routeIds());
        } catch (Exception e) {
            fail(file, content, e);
            if (running != null) {
                restore(file, running);
            }
        }
    }

    private void restore(Path file, Loaded running) {
        try {
            load(file, running.content());
            LOG.warn("Route file {}: restored the previous version", file);
        } catch (Exception e) {
            LOG.error("Route file {}: the previous version does not load again either: {}", file, Causes.describe(e));
        }
    }

    /** Parses the file into route definitions without adding them anywhere. */
    private void validate(Path file, String content) throws Exception {
        for (RoutesBuilder builder : PluginHelper.getRoutesLoader(context).findRoutesBuilders(resource(file, content))) {
            if (builder instanceof RouteBuilder routes) {
                routes.configureRoutes(context);
            }
        }
    }

    private void load(Path file, String content) throws Exception {
        Set<String> before = routeIds();
        try {
            PluginHelper.getRoutesLoader(context).loadRoutes(resource(file, content));
        } catch (Exception e) {
            // a route that could not be created (a bad endpoint URI...) must not stay half-added
            Set<String> partial = routeIds();
            partial.removeAll(before);
            remove(partial);
            throw e;
        }
        Set<String> added = routeIds();
        added.removeAll(before);
        loaded.put(file, new Loaded(content, added));
        failures.remove(file);
        rejected.remove(file);
        LOG.info("Loaded route file {}: {}", file, added);
    }

    private void fail(Path file, String content, Exception e) {
        Failure failure = new Failure(file, Causes.describe(e));
        failures.put(file, failure);
        rejected.put(file, content);
        LOG.error("Route file {} not loaded: {}", file, failure.reason());
    }

    private void remove(Set<String> routeIds) {
        Model model = context.getCamelContextExtension().getContextPlugin(Model.class);
        for (String id : routeIds) {
            RouteDefinition definition = model.getRouteDefinition(id);
            try {
                if (definition != null) {
                    model.removeRouteDefinition(definition);
                }
            } catch (Exception e) {
                LOG.error("Removing pipeline {} failed: {}", id, Causes.describe(e));
            }
        }
    }

    private Set<String> routeIds() {
        Set<String> ids = new LinkedHashSet<>();
        for (RouteDefinition definition : context.getCamelContextExtension().getContextPlugin(Model.class)
                .getRouteDefinitions()) {
            ids.add(definition.getRouteId());
        }
        return ids;
    }

    private Resource resource(Path file, String content) {
        return ResourceHelper.fromString("file:" + file.toAbsolutePath(), content);
    }

    private List<Path> files() throws IOException {
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
}
