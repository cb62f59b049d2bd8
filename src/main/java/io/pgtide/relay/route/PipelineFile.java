package io.pgtide.relay.route;

import io.pgtide.relay.support.Causes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
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
    private final List<RouteDefinition> routes;
    private final List<Problem> problems;

    private PipelineFile(Path file, String content, List<RoutesBuilder> builders, List<RouteDefinition> routes,
            List<Problem> problems) {
        this.file = file;
        this.content = content;
        this.builders = builders;
        this.routes = routes;
        this.problems = problems;
    }

    /**
     * Parses and checks a file's text; nothing is added to the context.
     *
     * @param placeholders resolves {@code {{...}}} in endpoint URIs, or returns null where it cannot
     */
    public static PipelineFile parse(CamelContext context, Path file, String content, UnaryOperator<String> placeholders) {
        List<RoutesBuilder> builders = new ArrayList<>();
        List<RouteDefinition> routes = new ArrayList<>();
        try {
            Collection<RoutesBuilder> found = PluginHelper.getRoutesLoader(context)
                    .findRoutesBuilders(ResourceHelper.fromString("file:" + file.toAbsolutePath(), content));
            for (RoutesBuilder builder : found) {
                builders.add(builder);
                if (builder instanceof RouteBuilder routeBuilder) {
                    routes.addAll(routeBuilder.configureRoutes(context).getRoutes());
                }
            }
        } catch (Exception e) {
            return new PipelineFile(file, content, List.of(), List.of(), List.of(parseProblem(file, e)));
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
        if (problems.isEmpty()) {
            complete(context, builders);
        }
        return new PipelineFile(file, content, builders, routes, List.copyOf(problems));
    }

    /**
     * Completes every pipeline route, then prepares it again: Camel applies a route's configurations when the
     * file is parsed, before the completion named the shared one.
     */
    private static void complete(CamelContext context, List<RoutesBuilder> builders) {
        for (RoutesBuilder builder : builders) {
            if (builder instanceof RouteBuilder routeBuilder) {
                RoutesDefinition collection = routeBuilder.getRouteCollection();
                for (RouteDefinition route : collection.getRoutes()) {
                    PipelineCompletion.complete(context, route);
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

    /** The routes of the file, completed when it has no problems. */
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
    }
}
