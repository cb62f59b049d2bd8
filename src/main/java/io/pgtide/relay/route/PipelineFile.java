package io.pgtide.relay.route;

import io.pgtide.relay.support.Causes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.CamelContext;
import org.apache.camel.RouteConfigurationsBuilder;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RoutesDefinition;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;

/**
 * One route file, parsed with Camel's YAML DSL into route definitions, each pipeline route checked
 * ({@link PipelineCheck}) and, when the whole file passes, completed ({@link PipelineCompletion}). Parsing adds
 * nothing to the context: {@link #addTo} does, and only for a file without problems.
 */
public final class PipelineFile {

    /** "line 12" in a YAML parser's message (its marks count from 1 in the text they print). */
    private static final Pattern LINE = Pattern.compile("line (\\d+)");

    private final Path file;
    private final String content;
    private final List<RoutesBuilder> builders;
    /** Builders holding only the routes of partitions 1 and up of the file's partitioned pipelines. */
    private final List<RoutesBuilder> partitionCopies;
    private final List<RouteDefinition> routes;
    private final List<Problem> problems;

    private PipelineFile(Path file, String content, List<RoutesBuilder> builders, List<RoutesBuilder> partitionCopies,
            List<RouteDefinition> routes, List<Problem> problems) {
        this.file = file;
        this.content = content;
        this.builders = builders;
        this.partitionCopies = partitionCopies;
        this.routes = routes;
        this.problems = problems;
    }

    /**
     * Parses and checks a file's text; nothing is added to the context.
     *
     * @param placeholders resolves {@code {{...}}} in endpoint URIs, or returns null where it cannot
     */
    public static PipelineFile parse(CamelContext context, Path file, String content, UnaryOperator<String> placeholders) {
        List<RoutesBuilder> builders;
        List<RouteDefinition> routes = new ArrayList<>();
        try {
            builders = builders(context, file, content);
            for (RoutesBuilder builder : builders) {
                if (builder instanceof RouteBuilder routeBuilder) {
                    routes.addAll(routeBuilder.getRouteCollection().getRoutes());
                }
            }
        } catch (Exception e) {
            return new PipelineFile(file, content, List.of(), List.of(), List.of(), List.of(parseProblem(file, e)));
        }
        List<Problem> problems = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (RouteDefinition route : routes) {
            problems.addAll(PipelineCheck.problems(file, route, placeholders));
            if (route.hasCustomIdAssigned() && !ids.add(route.getRouteId())) {
                problems.add(new Problem(file, route.getLineNumber(), "route id \"" + route.getRouteId()
                        + "\" appears twice in this file"));
            }
        }
        List<RoutesBuilder> partitionCopies = new ArrayList<>();
        if (problems.isEmpty()) {
            try {
                partitionCopies = partitionCopies(context, file, content, routes);
            } catch (Exception e) {
                return new PipelineFile(file, content, List.of(), List.of(), List.of(), List.of(parseProblem(file, e)));
            }
            complete(context, builders, 0);
        }
        return new PipelineFile(file, content, builders, partitionCopies, routes, List.copyOf(problems));
    }

    /**
     * The routes of partitions 1 to P-1 of the file's partitioned pipelines, each from a parse of its own, so that no
     * step definition is shared between two routes (the first parse is partition 0): a partitioned pipeline is
     * declared once and runs as P routes. Each copy is completed here; it holds only partition routes.
     */
    private static List<RoutesBuilder> partitionCopies(CamelContext context, Path file, String content,
            List<RouteDefinition> routes) throws Exception {
        int most = routes.stream().mapToInt(PipelineCompletion::partitions).max().orElse(1);
        List<RoutesBuilder> copies = new ArrayList<>();
        for (int partition = 1; partition < most; partition++) {
            for (RoutesBuilder builder : builders(context, file, content)) {
                if (builder instanceof RouteBuilder routeBuilder) {
                    int kept = partition;
                    routeBuilder.getRouteCollection().getRoutes().removeIf(r -> PipelineCompletion.partitions(r) <= kept);
                    if (!routeBuilder.getRouteCollection().getRoutes().isEmpty()) {
                        routes.addAll(routeBuilder.getRouteCollection().getRoutes());
                        complete(context, List.of(builder), partition);
                        copies.add(builder);
                    }
                }
            }
        }
        return copies;
    }

    /** Camel's route builders for the file's text, their routes configured (nothing is added to the context). */
    private static List<RoutesBuilder> builders(CamelContext context, Path file, String content) throws Exception {
        List<RoutesBuilder> builders = new ArrayList<>();
        for (RoutesBuilder builder : PluginHelper.getRoutesLoader(context)
                .findRoutesBuilders(ResourceHelper.fromString("file:" + file.toAbsolutePath(), content))) {
            builders.add(builder);
            if (builder instanceof RouteBuilder routeBuilder) {
                routeBuilder.configureRoutes(context);
            }
        }
        return builders;
    }

    /**
     * Completes every pipeline route as the given partition, then prepares it again: Camel applies a route's
     * configurations when the file is parsed, before the completion named the shared one.
     */
    private static void complete(CamelContext context, List<RoutesBuilder> builders, int partition) {
        for (RoutesBuilder builder : builders) {
            if (builder instanceof RouteBuilder routeBuilder) {
                RoutesDefinition collection = routeBuilder.getRouteCollection();
                for (RouteDefinition route : collection.getRoutes()) {
                    PipelineCompletion.complete(context, route, partition);
                    route.markUnprepared();
                    collection.prepareRoute(route);
                }
            }
        }
    }

    private static Problem parseProblem(Path file, Exception e) {
        String reason = Causes.describe(e);
        Matcher line = LINE.matcher(reason);
        return new Problem(file, line.find() ? Integer.parseInt(line.group(1)) : 0, reason);
    }

    public Path file() {
        return file;
    }

    public String content() {
        return content;
    }

    /** Why the file is refused; empty when it may run. */
    public List<Problem> problems() {
        return problems;
    }

    /** The routes of the file, completed when it has no problems (a partitioned pipeline's as one route per partition). */
    public List<RouteDefinition> routes() {
        return routes;
    }

    /** Adds the file's route configurations, then its routes, to the context, as Camel's own loader does. */
    public void addTo(CamelContext context) throws Exception {
        if (!problems.isEmpty()) {
            throw new IllegalStateException(file + " has problems: " + problems);
        }
        for (RoutesBuilder builder : builders) {
            if (builder instanceof RouteConfigurationsBuilder configurations) {
                context.addRoutesConfigurations(configurations);
            }
        }
        for (RoutesBuilder builder : builders) {
            context.addTemplatedRoutes(builder);
        }
        for (RoutesBuilder builder : builders) {
            context.addRoutes(builder);
        }
        for (RoutesBuilder copy : partitionCopies) {
            context.addRoutes(copy);
        }
    }
}
