package io.pgtide.relay.route;

import io.pgtide.relay.support.Causes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline files of a folder, each loaded on its own: a file is parsed and checked ({@link PipelineFile}) and
 * refused as a whole, with file and line, when anything in it is wrong or when it defines a route id or a source
 * another file defines already; every other file's pipelines keep running. {@link #rescan()} applies edits
 * safely: a changed file replaces its running version only once it passed every check (else the running version
 * stays), a new file starts its pipelines, and a deleted file's pipelines are stopped and removed, which releases
 * their locks. A refused file is reported once per content, not at every look.
 */
public final class RouteFolder {

    /** A route file that is refused now, and why (each problem with its line). */
    public record Failure(Path file, List<Problem> problems) {

        /** Every problem, file:line first, in one line. */
        public String reason() {
            return problems.stream().map(Problem::toString).collect(Collectors.joining("; "));
        }
    }

    /** A file as it is running: its text, the routes it made, and their sources. */
    private record Loaded(String content, Set<String> routeIds, Set<String> sources) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(RouteFolder.class);

    private final CamelContext context;
    private final Path folder;
    private final Map<Path, Loaded> loaded = new HashMap<>();
    private final Map<Path, Failure> failures = new HashMap<>();
    /** The content of each refused file, so that it is not tried (and reported) again until it changes. */
    private final Map<Path, String> rejected = new HashMap<>();
    /** Refused files that clashed with another file: tried again whenever another file goes away or changes. */
    private final Set<Path> clashed = new HashSet<>();
    private Consumer<List<Failure>> failuresChanged = failures -> { };
    private boolean loadedOnce;

    public RouteFolder(CamelContext context, Path folder) {
        this.context = context;
        this.folder = folder;
    }

    /** Called with the refused files whenever that list changes. */
    public void onFailuresChanged(Consumer<List<Failure>> listener) {
        this.failuresChanged = listener;
    }

    /** Files that are refused now, by name. */
    public synchronized List<Failure> failures() {
        return failures.values().stream().sorted((a, b) -> a.file().compareTo(b.file())).toList();
    }

    /** The file each running route came from. */
    public synchronized Map<String, Path> routeFiles() {
        Map<String, Path> files = new HashMap<>();
        loaded.forEach((file, running) -> running.routeIds().forEach(id -> files.put(id, file)));
        return files;
    }

    /** Loads every file; a missing folder is an error naming it. */
    public synchronized void loadAll() throws IOException {
        loadedOnce = true;
        for (Path file : files()) {
            replace(file, null, Files.readString(file));
        }
        failuresChanged.accept(failures());
    }

    /** Applies what changed in the folder since the last look. */
    public synchronized void rescan() throws IOException {
        if (!loadedOnce) {
            return;
        }
        List<Path> present = files();
        List<Failure> before = failures();
        Set<Path> tried = new HashSet<>();
        for (Path gone : new ArrayList<>(loaded.keySet())) {
            if (!present.contains(gone)) {
                LOG.info("Route file {} was deleted: removing its pipelines {}", gone, loaded.get(gone).routeIds());
                remove(loaded.remove(gone).routeIds());
                tried.add(gone);
            }
        }
        failures.keySet().retainAll(present);
        rejected.keySet().retainAll(present);
        clashed.retainAll(present);
        for (Path file : present) {
            String content = Files.readString(file);
            Loaded running = loaded.get(file);
            if (running != null && running.content().equals(content) || content.equals(rejected.get(file))) {
                continue;
            }
            replace(file, running, content);
            tried.add(file);
        }
        if (!tried.isEmpty()) {
            // a file that clashed with one that is gone or changed may run now
            for (Path file : new ArrayList<>(clashed)) {
                if (!tried.contains(file)) {
                    rejected.remove(file);
                    replace(file, loaded.get(file), Files.readString(file));
                }
            }
        }
        if (!failures().equals(before)) {
            failuresChanged.accept(failures());
        }
    }

    private void replace(Path file, Loaded running, String content) {
        PipelineFile parsed = PipelineFile.parse(context, file, content, this::resolve);
        List<Problem> problems = new ArrayList<>(parsed.problems());
        List<Problem> clashes = clashes(file, parsed);
        problems.addAll(clashes);
        if (!problems.isEmpty()) {
            refuse(file, content, problems, !clashes.isEmpty());
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
            add(parsed);
            LOG.info("Route file {} {}: pipelines {}", file, running == null ? "loaded" : "reloaded",
                    loaded.get(file).routeIds());
        } catch (Exception e) {
            refuse(file, content, List.of(new Problem(file, 0, Causes.describe(e))), false);
            if (running != null) {
                restore(file, running);
            }
        }
    }

    /** Route ids and sources the file shares with another running file: Camel would silently replace or fail on them. */
    private List<Problem> clashes(Path file, PipelineFile parsed) {
        List<Problem> problems = new ArrayList<>();
        for (RouteDefinition route : parsed.routes()) {
            String id = route.getRouteId();
            loaded.forEach((other, running) -> {
                if (other.equals(file)) {
                    return;
                }
                if (running.routeIds().contains(id)) {
                    problems.add(new Problem(file, route.getLineNumber(), "route id \"" + id + "\" is already defined by "
                            + other + ": give this pipeline an id of its own (the running one is left alone)"));
                } else if (running.sources().contains(source(route))) {
                    problems.add(new Problem(file, route.getInput().getLineNumber(), "source " + source(route)
                            + " is already consumed by " + other + " (a second consumer is not allowed): remove one"));
                }
            });
        }
        return problems;
    }

    private void restore(Path file, Loaded running) {
        try {
            add(PipelineFile.parse(context, file, running.content(), this::resolve));
            LOG.warn("Route file {}: restored the previous version", file);
        } catch (Exception e) {
            LOG.error("Route file {}: the previous version does not load again either: {}", file, Causes.describe(e));
        }
    }

    private void add(PipelineFile parsed) throws Exception {
        Set<String> before = routeIds();
        try {
            parsed.addTo(context);
        } catch (Exception e) {
            // a route that could not be created (a bad endpoint URI...) must not stay half-added
            Set<String> partial = routeIds();
            partial.removeAll(before);
            remove(partial);
            throw e;
        }
        Set<String> added = routeIds();
        added.removeAll(before);
        Set<String> sources = parsed.routes().stream().map(RouteFolder::source).collect(Collectors.toSet());
        loaded.put(parsed.file(), new Loaded(parsed.content(), added, sources));
        failures.remove(parsed.file());
        rejected.remove(parsed.file());
        clashed.remove(parsed.file());
    }

    private void refuse(Path file, String content, List<Problem> problems, boolean clash) {
        Failure failure = new Failure(file, List.copyOf(problems));
        Failure previous = failures.put(file, failure);
        rejected.put(file, content);
        if (clash) {
            clashed.add(file);
        }
        if (previous == null || !previous.equals(failure)) {
            LOG.error("Route file refused: {}", failure.reason());
        }
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

    private static String source(RouteDefinition route) {
        return route.getInput() == null ? null : route.getInput().getEndpointUri();
    }

    /** An endpoint URI with its property placeholders resolved, or null when one of them cannot be. */
    private String resolve(String uri) {
        try {
            return context.resolvePropertyPlaceholders(uri);
        } catch (RuntimeException e) {
            return null;
        }
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
