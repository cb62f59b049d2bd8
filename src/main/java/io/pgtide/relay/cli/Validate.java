package io.pgtide.relay.cli;

import io.pgtide.relay.route.DslSchema;
import io.pgtide.relay.route.PipelineFile;
import io.pgtide.relay.route.Problem;
import io.pgtide.relay.route.YamlTree;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RoutesDefinition;
import org.apache.camel.support.PluginHelper;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * {@code pg-tide validate [--print] [file or folder ...]}: route files checked the way the relay checks them when
 * they load, plus the Camel YAML DSL schema, with no database: for CI and pre-commit hooks. A Kubernetes ConfigMap
 * is checked key by key. Prints {@code file:line: problem} for each problem and exits 1 when there is one;
 * {@code --print} also prints each pipeline as the relay runs it (completed).
 */
final class Validate {

    /** One route file's text: a file of its own, or one key of a ConfigMap (its lines counted from {@code offset}). */
    private record Source(Path file, String key, String content, int offset) {

        String name() {
            return key == null ? file.toString() : file + " (data." + key + ")";
        }

        Problem located(Problem problem) {
            return key == null ? problem
                    : new Problem(file, problem.line() == 0 ? 0 : offset + problem.line(), "data." + key + ": " + problem.message());
        }
    }

    private Validate() {
    }

    /** Checks the files and folders named (the routes folder when none is) and returns the exit code. */
    static int run(List<String> args, Path defaultFolder, PrintStream out) throws Exception {
        boolean print = args.contains("--print");
        List<Path> paths = args.stream().filter(a -> !a.equals("--print")).map(Path::of).toList();
        for (Path path : paths) {
            if (!Files.exists(path)) {
                out.println(path + ": no such file or folder");
                return 2;
            }
        }
        Result result = check(paths.isEmpty() ? List.of(defaultFolder) : paths, print ? out : null);
        result.problems().forEach(out::println);
        out.println("pg-tide validate: " + result.files() + " route file(s), " + result.problems().size() + " problem(s)");
        return result.problems().isEmpty() ? 0 : 1;
    }

    /** What checking found: how many route files, and their problems. */
    record Result(int files, List<Problem> problems) {
    }

    /**
     * Checks route files and folders as the relay does when they load; ids are unique within each path (what one
     * relay loads: a folder, or a ConfigMap). With {@code print}, each pipeline is printed as the relay runs it.
     */
    static Result check(List<Path> paths, PrintStream print) throws Exception {
        DslSchema schema = DslSchema.load();
        List<Problem> problems = new ArrayList<>();
        // never started, so never stopped: closing it would only log Camel's shutdown lines
        CamelContext context = new DefaultCamelContext();
        int files = 0;
        for (Path path : paths) {
            Map<String, String> routeIds = new HashMap<>();
            for (Path file : files(path)) {
                for (Source source : sources(file)) {
                    files++;
                    checkSource(context, schema, source, routeIds, print).stream().map(source::located).forEach(problems::add);
                }
            }
        }
        return new Result(files, problems);
    }

    private static List<Problem> checkSource(CamelContext context, DslSchema schema, Source source,
            Map<String, String> routeIds, PrintStream print) throws Exception {
        List<Problem> found = new ArrayList<>(schema.problems(source.file(), source.content()));
        if (!found.isEmpty()) {
            return found;
        }
        PipelineFile parsed = PipelineFile.parse(context, source.file(), source.content(), uri -> resolve(context, uri));
        found.addAll(parsed.problems());
        for (RouteDefinition route : parsed.routes()) {
            String other = route.getRouteId() == null ? null : routeIds.putIfAbsent(route.getRouteId(), source.name());
            if (other != null && !other.equals(source.name())) {
                found.add(new Problem(source.file(), route.getLineNumber(), "route id \"" + route.getRouteId()
                        + "\" is already defined by " + other));
            }
        }
        if (print != null && parsed.problems().isEmpty()) {
            print.println("# " + source.name() + ", as the relay runs it");
            print.println(PluginHelper.getModelToYAMLDumper(context).dumpModelAsYaml(context, collection(parsed)));
        }
        return found;
    }

    private static RoutesDefinition collection(PipelineFile parsed) {
        RoutesDefinition routes = new RoutesDefinition();
        routes.setRoutes(parsed.routes());
        return routes;
    }

    private static String resolve(CamelContext context, String uri) {
        try {
            return context.resolvePropertyPlaceholders(uri);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static List<Path> files(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return List.of(path);
        }
        try (Stream<Path> files = Files.list(path)) {
            return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** A route file, or each route file a ConfigMap holds under {@code data}. */
    private static List<Source> sources(Path file) throws IOException {
        String content = Files.readString(file);
        Optional<Node> root = YamlTree.parse(content);
        if (root.isEmpty() || !(YamlTree.value(root.get(), "kind") instanceof ScalarNode kind)
                || !kind.getValue().equals("ConfigMap")) {
            return List.of(new Source(file, null, content, 0));
        }
        List<Source> entries = new ArrayList<>();
        Node data = YamlTree.value(root.get(), "data");
        if (data instanceof MappingNode mapping) {
            for (NodeTuple entry : mapping.getValue()) {
                String key = ((ScalarNode) entry.getKeyNode()).getValue();
                if ((key.endsWith(".yaml") || key.endsWith(".yml")) && entry.getValueNode() instanceof ScalarNode text) {
                    // a block scalar starts on the line after its key
                    int offset = YamlTree.line(text);
                    entries.add(new Source(file, key, text.getValue(), offset));
                }
            }
        }
        return entries;
    }
}
