package io.pgtide.relay.examples;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.config.Setting;
import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Installation;
import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The deployment files (everything under {@code examples/}, and the {@code Dockerfile}) agree with the relay they
 * deploy: every manifest parses, names only settings the relay reads, points probes and scrapes at the port and
 * paths the relay serves, and queries only metrics a running relay exports. The image's entry point is run the
 * way the container runs it.
 */
class ExamplesAgreeWithRelayTest {

    private static final Path EXAMPLES = Path.of("examples");
    private static final Path DOCKERFILE = Path.of("Dockerfile");
    private static final Path CNPG_DOCKERFILE = EXAMPLES.resolve("cnpg/Dockerfile");
    private static final Path LAUNCHER_DIR = Path.of("src/dist/bin");
    private static final Path ROUTES = Path.of("routes");
    private static final Path SQL = Path.of("sql");

    /** Series Prometheus records itself for every scrape target: no exporter serves them. */
    private static final Set<String> PROMETHEUS_OWN_SERIES = Set.of("up");

    private static final String LIVE = "/observe/health/live";
    private static final String READY = "/observe/health/ready";
    private static final String POD_PATCH = "cnpg.io/podPatch";
    private static final Pattern SETTING_TOKEN = Pattern.compile("\\bPG_TIDE_[A-Z0-9_]*[A-Z0-9]\\b");

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** One parsed document: a YAML document, a JSON file, or a JSON patch embedded in an annotation. */
    record Document(String source, Object tree) {
    }

    // ---------------------------------------------------------------------------------------------------------
    // parsing

    @Test
    void everyYamlAndJsonFileUnderExamplesParses() throws IOException {
        List<String> errors = new ArrayList<>();
        List<Document> documents = parseAll(errors);
        assertTrue(errors.isEmpty(), "files that do not parse:\n" + String.join("\n", errors));
        assertFalse(documents.isEmpty(), "no YAML or JSON file under " + EXAMPLES.toAbsolutePath());
    }

    /** Every document under examples/; fails naming each file that does not parse. */
    private static List<Document> documents() throws IOException {
        List<String> errors = new ArrayList<>();
        List<Document> documents = parseAll(errors);
        if (!errors.isEmpty()) {
            fail("files that do not parse:\n" + String.join("\n", errors));
        }
        return documents;
    }

    private static List<Document> parseAll(List<String> errors) throws IOException {
        List<Document> documents = new ArrayList<>();
        for (Path file : files(EXAMPLES)) {
            String name = file.getFileName().toString();
            String text = Files.readString(file);
            List<Document> parsed = new ArrayList<>();
            try {
                if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                    Load load = new Load(LoadSettings.builder().setLabel(file.toString()).build());
                    int index = 0;
                    for (Object tree : load.loadAllFromString(text)) {
                        index++;
                        if (tree != null) {
                            parsed.add(new Document(file + " (document " + index + ")", tree));
                        }
                    }
                } else if (name.endsWith(".json")) {
                    parsed.add(new Document(file.toString(), JSON.readValue(text, Object.class)));
                }
            } catch (RuntimeException | IOException e) {
                errors.add(file + ": " + e.getMessage());
                continue;
            }
            // the JSON patch of CloudNativePG's pod patch annotation is a manifest too
            for (Document document : List.copyOf(parsed)) {
                maps(document.tree()).forEach(map -> {
                    if (map.get(POD_PATCH) instanceof String patch) {
                        try {
                            parsed.add(new Document(document.source() + " " + POD_PATCH, JSON.readValue(patch, Object.class)));
                        } catch (IOException e) {
                            errors.add(file + ": annotation " + POD_PATCH + " is not JSON: " + e.getMessage());
                        }
                    }
                });
            }
            documents.addAll(parsed);
        }
        return documents;
    }

    // ---------------------------------------------------------------------------------------------------------
    // settings

    @Test
    void everyPgTideVariableIsASettingOfTheRelay() throws Exception {
        Set<String> known = knownSettings();
        Map<String, String> unknown = new TreeMap<>();
        Set<String> used = new TreeSet<>();
        // env entries of every manifest
        for (Document document : documents()) {
            maps(document.tree()).forEach(map -> {
                if (map.get("env") instanceof List<?> env) {
                    for (Object entry : env) {
                        if (entry instanceof Map<?, ?> variable && variable.get("name") instanceof String name
                                && name.startsWith("PG_TIDE_")) {
                            used.add(name);
                            if (!known.contains(name)) {
                                unknown.put(name, document.source());
                            }
                        }
                    }
                }
            });
        }
        // and every PG_TIDE_* word of the Dockerfiles and of every text file under examples/ (comments, READMEs)
        List<Path> texts = new ArrayList<>(files(EXAMPLES));
        texts.add(DOCKERFILE);
        for (Path file : texts) {
            Matcher m = SETTING_TOKEN.matcher(Files.readString(file));
            while (m.find()) {
                if (!known.contains(m.group())) {
                    unknown.putIfAbsent(m.group(), file.toString());
                }
            }
        }
        assertTrue(unknown.isEmpty(), "PG_TIDE_ names the relay does not read (name=where): " + unknown
                + "; known: " + known);
        assertTrue(used.contains(RelaySettings.POSTGRES_URL.name()), "no manifest sets " + RelaySettings.POSTGRES_URL.name());
    }

    /**
     * The names the relay reads: the declared settings (RelaySettings.ALL) and their aliases, the variables the
     * launcher reads ({@code ${PG_TIDE_LIB:-...}}), and the PG_TIDE_* constants of the relay's other classes (a
     * sink's secret variable, for example).
     */
    private static Set<String> knownSettings() throws Exception {
        Set<String> known = new TreeSet<>();
        for (Setting<?> setting : RelaySettings.ALL) {
            known.add(setting.name());
            if (setting.alias() != null) {
                known.add(setting.alias());
            }
        }
        Pattern readsVariable = Pattern.compile("\\$\\{(PG_TIDE_[A-Z0-9_]+)[:]?[-=?+]");
        for (Path launcher : files(LAUNCHER_DIR)) {
            Matcher m = readsVariable.matcher(Files.readString(launcher));
            while (m.find()) {
                known.add(m.group(1));
            }
        }
        Path classes = Path.of(RelaySettings.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isDirectory(classes)) {
            for (Path file : files(classes.resolve("io/pgtide/relay"))) {
                String name = classes.relativize(file).toString();
                if (name.endsWith(".class")) {
                    try {
                        Class<?> type = Class.forName(name.substring(0, name.length() - 6).replace(File.separatorChar, '.'),
                                false, RelaySettings.class.getClassLoader());
                        known.addAll(constants(type));
                    } catch (ReflectiveOperationException | LinkageError e) {
                        // not a class whose constants can be read: it names no setting here
                    }
                }
            }
        }
        return known;
    }

    /** The values of a class's public static final String fields that start with PG_TIDE_. */
    private static Set<String> constants(Class<?> type) throws IllegalAccessException {
        Set<String> values = new TreeSet<>();
        for (Field field : type.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (Modifier.isPublic(modifiers) && Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
                    && field.getType() == String.class && Modifier.isPublic(type.getModifiers())) {
                String value = (String) field.get(null);
                if (value != null && value.startsWith("PG_TIDE_")) {
                    values.add(value);
                }
            }
        }
        return values;
    }

    // ---------------------------------------------------------------------------------------------------------
    // ports, probes, scrapes

    @Test
    void containerProbeAndServicePortsAreTheRelaysMetricsPort() throws Exception {
        int port = defaultMetricsPort();
        List<Document> documents = documents();
        List<String> problems = new ArrayList<>();
        Set<String> relayPortNames = new TreeSet<>();
        int relayContainers = 0;
        boolean liveness = false;
        String workdir = dockerfile().workdir();
        for (Document document : documents) {
            for (Map<?, ?> container : relayContainers(document.tree())) {
                relayContainers++;
                String where = document.source() + " container " + container.get("name");
                Map<String, Integer> ports = new LinkedHashMap<>();
                for (Map<?, ?> p : listOfMaps(container.get("ports"))) {
                    Object number = p.get("containerPort");
                    if (!Objects.equals(number, port)) {
                        problems.add(where + ": containerPort " + number + " is not the relay's metrics port " + port);
                    }
                    if (p.get("name") instanceof String name) {
                        ports.put(name, number instanceof Integer i ? i : -1);
                        relayPortNames.add(name);
                    }
                }
                if (ports.isEmpty()) {
                    problems.add(where + ": declares no named container port for " + port);
                }
                for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                    if (!(container.get(probe) instanceof Map<?, ?> spec)) {
                        continue;
                    }
                    liveness |= probe.equals("livenessProbe");
                    if (!(spec.get("httpGet") instanceof Map<?, ?> get)) {
                        problems.add(where + ": " + probe + " is not an httpGet probe");
                        continue;
                    }
                    Object target = get.get("port");
                    boolean ok = target instanceof Integer i ? i == port
                            : target instanceof String name && Objects.equals(ports.get(name), port);
                    if (!ok) {
                        problems.add(where + ": " + probe + " port " + target + " is not " + port);
                    }
                }
                // the routes folder: PG_TIDE_ROUTES, else routes/ under the image's working directory
                String routes = env(container).getOrDefault(RelaySettings.ROUTES.name(), workdir + "/routes");
                if (!routes.startsWith("/")) {
                    routes = workdir + "/" + routes;
                }
                String expected = routes;
                if (listOfMaps(container.get("volumeMounts")).stream().noneMatch(m -> expected.equals(m.get("mountPath")))) {
                    problems.add(where + ": nothing is mounted at the routes folder " + expected);
                }
            }
        }
        // Services in front of the relay, and what scrapes them
        Set<String> servicePortNames = new TreeSet<>();
        for (Document document : documents) {
            for (Map<?, ?> service : kind(document, "Service")) {
                for (Map<?, ?> p : listOfMaps(path(service, "spec", "ports"))) {
                    Object target = p.get("targetPort");
                    boolean relayPort = relayPortNames.contains(target) || Objects.equals(target, port)
                            || relayPortNames.contains(p.get("name"));
                    if (!relayPort) {
                        continue;
                    }
                    if (!(relayPortNames.contains(target) || Objects.equals(target, port))) {
                        problems.add(document.source() + ": Service port " + p.get("name") + " targets " + target
                                + ", not the relay's port");
                    }
                    if (p.get("name") instanceof String name) {
                        servicePortNames.add(name);
                    }
                }
            }
        }
        int monitors = 0;
        for (Document document : documents) {
            monitors += scrapedPorts(document, "ServiceMonitor", "endpoints", servicePortNames,
                    "no Service port in front of the relay", problems);
            monitors += scrapedPorts(document, "PodMonitor", "podMetricsEndpoints", relayPortNames,
                    "no port of the relay container", problems);
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(relayContainers > 0, "no relay container (image .../pg-tide:...) in any manifest");
        assertTrue(liveness, "the relay container needs a liveness probe");
        assertTrue(monitors > 0, "nothing scrapes the relay (no ServiceMonitor or PodMonitor endpoint)");
    }

    /** Checks that each endpoint of the document's monitors of a kind scrapes one of the ports; returns their number. */
    private static int scrapedPorts(Document document, String kind, String endpoints, Set<String> ports, String what,
            List<String> problems) {
        int found = 0;
        for (Map<?, ?> monitor : kind(document, kind)) {
            for (Map<?, ?> endpoint : listOfMaps(path(monitor, "spec", endpoints))) {
                found++;
                if (!ports.contains(endpoint.get("port"))) {
                    problems.add(document.source() + ": " + kind + " port " + endpoint.get("port") + " is " + what + " "
                            + ports);
                }
            }
        }
        return found;
    }

    /**
     * Issue 19 point 2: the sidecar can never make the PostgreSQL pod unready (a pod is Ready only when every
     * container is, and CloudNativePG's -rw Service routes only to Ready pods): no readiness probe, and every other
     * probe asks liveness only, which fails for no relay-side reason but a dead process. The startup probe waits at
     * least as long as the relay waits for its database.
     */
    @Test
    void theCnpgSidecarCanNeverMakeThePodUnready() throws Exception {
        List<String> problems = new ArrayList<>();
        int sidecars = 0;
        for (Document document : documents()) {
            if (!document.source().contains("cnpg")) {
                continue;
            }
            for (Map<?, ?> container : relayContainers(document.tree())) {
                sidecars++;
                String where = document.source() + " container " + container.get("name");
                if (container.containsKey("readinessProbe")) {
                    problems.add(where + ": a readinessProbe makes the database pod unready whenever the relay is");
                }
                for (String probe : List.of("startupProbe", "livenessProbe")) {
                    Object probed = path(container, probe, "httpGet", "path");
                    if (container.containsKey(probe) && !"/observe/health/live".equals(probed)) {
                        problems.add(where + ": " + probe + " asks " + probed + ", not liveness (/observe/health/live)");
                    }
                }
                long budget = number(path(container, "startupProbe", "periodSeconds"), 10)
                        * number(path(container, "startupProbe", "failureThreshold"), 3);
                long wait = Long.parseLong(env(container).getOrDefault(RelaySettings.STARTUP_TIMEOUT.name(),
                        RelaySettings.STARTUP_TIMEOUT.fallback()));
                if (!container.containsKey("startupProbe") || budget < wait) {
                    problems.add(where + ": the startupProbe allows " + budget + " s, less than "
                            + RelaySettings.STARTUP_TIMEOUT.name() + "=" + wait + " s: the kubelet kills a relay that waits");
                }
            }
        }
        assertTrue(sidecars > 0, "no relay sidecar under examples/cnpg");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** A probe's number as Kubernetes reads it, or its default. */
    private static long number(Object value, long fallback) {
        return value instanceof Number n ? n.longValue() : fallback;
    }

    private static int defaultMetricsPort() {
        return new RelaySettings(name -> null).value(RelaySettings.METRICS_PORT);
    }

    // ---------------------------------------------------------------------------------------------------------
    // the images

    @Test
    void theImageExposesTheMetricsPortAndStartsTheAssembledLauncher() throws IOException {
        DockerfileFacts image = dockerfile();
        assertTrue(image.exposed().contains(defaultMetricsPort()),
                "Dockerfile EXPOSE " + image.exposed() + " lacks the metrics port " + defaultMetricsPort());
        assertEquals(image.home(), image.workdir(), "WORKDIR must be the relay's folder: its routes/ is the default");
        assertTrue(image.user().matches("[1-9][0-9]*(:[0-9]+)?"), "USER must be a numeric non-root id: " + image.user());
        assertTrue(image.copiedFrom().matches("(.*/)?target/pg-tide/?"),
                "the runtime stage must copy the layout the pom assembles (target/pg-tide), not " + image.copiedFrom());
        Path launcher = launcherOf(image);
        assertTrue(Files.isRegularFile(launcher), "ENTRYPOINT " + image.entrypoint() + " is not in the assembled layout: "
                + launcher + " does not exist");
        // the pom copies src/dist/bin to <build>/pg-tide/bin
        String pom = Files.readString(Path.of("pom.xml"));
        assertTrue(Pattern.compile("todir=\"\\$\\{build\\.dir}/pg-tide/bin\"\\s*>\\s*<fileset dir=\"src/dist/bin\"")
                .matcher(pom).find(), "pom.xml no longer copies src/dist/bin to pg-tide/bin");
        assertEquals(List.of("run"), image.cmd(), "CMD");
    }

    @Test
    void thePostgresImageCarriesTheExtensionFilesOfSql() throws IOException {
        String dockerfile = Files.readString(CNPG_DOCKERFILE);
        String control = Files.readString(SQL.resolve("pg_tide.control"));
        Matcher version = Pattern.compile("(?m)^default_version\\s*=\\s*'([^']+)'").matcher(control);
        assertTrue(version.find(), "sql/pg_tide.control has no default_version");
        for (String file : List.of("pg_tide.control", "pg_tide--" + version.group(1) + ".sql")) {
            assertTrue(Files.isRegularFile(SQL.resolve(file)), "sql/" + file + " is missing");
            assertTrue(dockerfile.contains("sql/" + file), CNPG_DOCKERFILE + " does not copy sql/" + file);
        }
        assertFalse(dockerfile.contains(".so"), "pg_tide is pure SQL: " + CNPG_DOCKERFILE + " must not copy a .so");
        assertTrue(dockerfile.contains("ghcr.io/cloudnative-pg/postgresql:"), "base image");
    }

    record DockerfileFacts(List<Integer> exposed, String workdir, String user, String home, String copiedFrom,
            List<String> entrypoint, List<String> cmd) {
    }

    /** The facts of the runtime (last) stage of the Dockerfile. */
    private static DockerfileFacts dockerfile() throws IOException {
        String text = Files.readString(DOCKERFILE).replaceAll("\\\\\\n", " ");
        String[] stages = text.split("(?m)^FROM\\s");
        String stage = stages[stages.length - 1];
        List<Integer> exposed = new ArrayList<>();
        String workdir = null;
        String user = null;
        String home = null;
        String copiedFrom = null;
        List<String> entrypoint = List.of();
        List<String> cmd = List.of();
        for (String line : stage.split("\n")) {
            String[] parts = line.strip().split("\\s+", 2);
            if (parts.length < 2 || parts[0].startsWith("#")) {
                continue;
            }
            String argument = parts[1].strip();
            switch (parts[0].toUpperCase()) {
                case "EXPOSE" -> {
                    for (String p : argument.split("\\s+")) {
                        exposed.add(Integer.parseInt(p.replaceFirst("/tcp$", "")));
                    }
                }
                case "WORKDIR" -> workdir = argument;
                case "USER" -> user = argument;
                case "COPY" -> {
                    if (argument.startsWith("--from=")) {
                        String[] words = argument.split("\\s+");
                        copiedFrom = words[words.length - 2];
                        home = words[words.length - 1].replaceFirst("/$", "");
                    }
                }
                case "ENTRYPOINT" -> entrypoint = execForm(argument, "ENTRYPOINT");
                case "CMD" -> cmd = execForm(argument, "CMD");
                default -> {
                    // other instructions say nothing about the contract
                }
            }
        }
        assertNotNull(home, "the runtime stage copies no build output (COPY --from=...)");
        return new DockerfileFacts(exposed, workdir, user, home, copiedFrom, entrypoint, cmd);
    }

    private static List<String> execForm(String argument, String instruction) {
        try {
            List<String> words = JSON.readValue(argument, JSON.getTypeFactory().constructCollectionType(List.class, String.class));
            assertFalse(words.isEmpty(), instruction + " is empty");
            return words;
        } catch (IOException e) {
            throw new AssertionError(instruction + " must use the exec form [\"...\"]: " + argument, e);
        }
    }

    /** The launcher the ENTRYPOINT runs, found in the source tree the pom assembles from (bin/ ← src/dist/bin). */
    private static Path launcherOf(DockerfileFacts image) {
        String entry = image.entrypoint().get(0);
        assertTrue(entry.startsWith(image.home() + "/"), "ENTRYPOINT " + entry + " is outside " + image.home());
        String inLayout = entry.substring(image.home().length() + 1);
        assertTrue(inLayout.startsWith("bin/"), "ENTRYPOINT " + entry + " is not a launcher of bin/");
        return LAUNCHER_DIR.resolve(inLayout.substring("bin/".length()));
    }

    // ---------------------------------------------------------------------------------------------------------
    // a running relay: served paths, exported metrics, the routes of the ConfigMaps

    /** A sink that refuses every batch at once, so the failure metrics exist. */
    private static final String REFUSING_PIPELINE = """
            - route:
                id: examples-refused
                routeConfigurationId: pg-tide
                routePolicy: "#pgTideLock"
                errorHandler:
                  defaultErrorHandler:
                    redeliveryPolicy:
                      maximumRedeliveries: 0
                from:
                  uri: "sql:SELECT * FROM tide.relay_poll('examples-refused', 'refused')"
                  parameters: { useIterator: false, greedy: false, delay: 2000 }
                  steps:
                    - throwException:
                        exceptionType: java.lang.IllegalStateException
                        message: "this sink refuses every batch"
            """;

    @Test
    void probedAndScrapedPathsAreServedAndEveryQueriedMetricIsExported(@TempDir Path routes) throws Exception {
        List<Document> documents = documents();
        Set<String> paths = new TreeSet<>(List.of(LIVE, READY, "/metrics"));
        Map<String, String> expressions = new LinkedHashMap<>();
        for (Document document : documents) {
            for (Map<?, ?> container : relayContainers(document.tree())) {
                for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                    if (path(container, probe, "httpGet", "path") instanceof String p) {
                        paths.add(p);
                    }
                }
            }
            for (Map<?, ?> monitor : kind(document, "ServiceMonitor")) {
                listOfMaps(path(monitor, "spec", "endpoints")).forEach(e -> paths.add(scrapePath(e)));
            }
            for (Map<?, ?> monitor : kind(document, "PodMonitor")) {
                listOfMaps(path(monitor, "spec", "podMetricsEndpoints")).forEach(e -> paths.add(scrapePath(e)));
            }
            promQl(document, expressions);
        }
        assertTrue(expressions.size() >= 10, "expected the dashboard's and the rules' PromQL, found " + expressions.keySet());

        // the pipelines of the ConfigMaps, byte for byte the ones of routes/ where they share a name
        Map<String, String> configMapRoutes = configMapRoutes(documents);
        assertFalse(configMapRoutes.isEmpty(), "no ConfigMap carries a pipeline file");
        for (Map.Entry<String, String> route : configMapRoutes.entrySet()) {
            Path twin = ROUTES.resolve(route.getKey().substring(route.getKey().indexOf(' ') + 1));
            if (Files.isRegularFile(twin)) {
                assertEquals(yaml(Files.readString(twin), twin.toString()), yaml(route.getValue(), route.getKey()),
                        route.getKey() + " differs from " + twin);
            }
            Files.writeString(routes.resolve(twin.getFileName()), route.getValue());
        }
        Files.writeString(routes.resolve("examples-log.yaml"), PipelineYaml.logging("examples-log", "examples"));
        Files.writeString(routes.resolve("examples-refused.yaml"), REFUSING_PIPELINE);

        try (TestDatabase db = TestDatabase.withExtension()) {
            for (String outbox : List.of("orders", "examples", "refused")) {
                db.execute("SELECT tide.outbox_create('" + outbox + "')");
            }
            for (int i = 0; i < 5; i++) {
                db.execute("SELECT tide.outbox_publish('examples', '{\"n\": " + i + "}', '{\"type\": \"test\"}', 'k" + i + "')");
            }
            db.execute("SELECT tide.outbox_publish('refused', '{}')");
            long last = lastRow(db, "examples");
            try (RelayHarness relay = RelayHarness.start(db, routes, "examples-agree")) {
                assertEquals(List.of(), relay.relay().routeFolder().failures(), "route files that did not load");
                await(Duration.ofSeconds(30), "pipeline examples-log to deliver", () -> offset(db, "examples-log") == last);
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                String[] scrape = new String[1];
                await(Duration.ofSeconds(60), "the failure and lag metrics to appear", () -> {
                    scrape[0] = get(http, relay.managementUrl() + "/metrics").body();
                    return scrape[0].contains("pg_tide_relay_failures_total")
                            && scrape[0].contains("pg_tide_relay_pending_messages{");
                });
                for (String p : paths) {
                    HttpResponse<String> response = get(http, relay.managementUrl() + p);
                    assertEquals(200, response.statusCode(), p + " answered " + response.statusCode() + ": " + response.body());
                    if (p.equals(READY) || p.equals(LIVE)) {
                        assertTrue(response.body().contains("UP"), p + ": " + response.body());
                    }
                }
                Set<String> exported = exportedMetrics(scrape[0]);
                Map<String, String> missing = new TreeMap<>();
                for (Map.Entry<String, String> expression : expressions.entrySet()) {
                    for (String name : metricNames(expression.getKey())) {
                        if (!exported.contains(baseName(name)) && !PROMETHEUS_OWN_SERIES.contains(name)) {
                            missing.putIfAbsent(name, expression.getValue() + ": " + expression.getKey());
                        }
                    }
                }
                assertTrue(missing.isEmpty(), "metrics queried but not exported by the relay:\n"
                        + missing.entrySet().stream().map(e -> e.getKey() + "  <- " + e.getValue())
                                .collect(Collectors.joining("\n"))
                        + "\nexported: " + exported);
            }
        }
    }

    /** The path a Prometheus Operator endpoint scrapes (/metrics unless it says otherwise). */
    private static String scrapePath(Map<?, ?> endpoint) {
        return endpoint.get("path") instanceof String path ? path : "/metrics";
    }

    /** The PromQL of a document: rule and panel expressions, and the queries of dashboard variables. */
    private static void promQl(Document document, Map<String, String> into) {
        maps(document.tree()).forEach(map -> {
            if (map.get("expr") instanceof String expr && !expr.isBlank()) {
                into.putIfAbsent(expr, document.source());
            }
            if ("query".equals(map.get("type")) && map.containsKey("query")) {
                Object query = map.get("query");
                if (query instanceof Map<?, ?> q) {
                    query = q.get("query");
                }
                if (query instanceof String q && !q.isBlank()) {
                    into.putIfAbsent(q, document.source() + " variable " + map.get("name"));
                }
            }
        });
    }

    private static final Set<String> PROMQL_WORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without",
            "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2");

    /** The metric names a PromQL expression (or a Grafana label_values query) reads. */
    static Set<String> metricNames(String expression) {
        String s = expression.strip();
        Matcher labelValues = Pattern.compile("(?s)^label_values\\((.*)\\)$").matcher(s);
        if (labelValues.matches()) {
            String arguments = labelValues.group(1).replaceAll("\\{[^}]*}", "");
            int comma = arguments.lastIndexOf(',');
            s = comma < 0 ? "" : arguments.substring(0, comma);
        }
        s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("'(?:[^'\\\\]|\\\\.)*'", "''")
                .replaceAll("`[^`]*`", "``")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\$\\{[^}]*}|\\$\\w+", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\boffset\\s+-?[0-9a-z]+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w:.])([A-Za-z_:][\\w:]*)(\\s*\\()?").matcher(s);
        while (m.find()) {
            if (m.group(2) == null && !PROMQL_WORDS.contains(m.group(1).toLowerCase())) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** The metric names of a Prometheus text scrape, histogram and summary suffixes removed. */
    private static Set<String> exportedMetrics(String scrape) {
        return scrape.lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
                .map(l -> l.split("[{ ]", 2)[0])
                .map(ExamplesAgreeWithRelayTest::baseName)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static String baseName(String metric) {
        return metric.replaceFirst("_(bucket|sum|count)$", "");
    }

    /** Pipeline files carried by ConfigMaps: "file-of-the-manifest key" → the route YAML. */
    private static Map<String, String> configMapRoutes(List<Document> documents) {
        Map<String, String> routes = new TreeMap<>();
        for (Document document : documents) {
            for (Map<?, ?> configMap : kind(document, "ConfigMap")) {
                if (configMap.get("data") instanceof Map<?, ?> data) {
                    data.forEach((key, value) -> {
                        if (key instanceof String k && (k.endsWith(".yaml") || k.endsWith(".yml")) && value instanceof String v) {
                            routes.put(document.source().replace(' ', '_') + " " + k, v);
                        }
                    });
                }
            }
        }
        return routes;
    }

    private static Object yaml(String text, String source) {
        try {
            return new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(text);
        } catch (RuntimeException e) {
            throw new AssertionError(source + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // the image's entry point, run as the container runs it

    @Test
    void theEntryPointRunsTheRelayInTheImageLayoutAndStopsOnSigterm(@TempDir Path home) throws Exception {
        DockerfileFacts image = dockerfile();
        // the layout the Dockerfile copies (target/pg-tide), without the demo-lib/ the image leaves out; an empty lib/,
        // routes/ with one pipeline
        Installation.image(home);
        Files.createDirectories(home.resolve("lib"));
        Path routes = Files.createDirectories(home.resolve("routes"));
        Files.writeString(routes.resolve("entry-point-log.yaml"), PipelineYaml.logging("entry-point-log", "entry"));

        Path launcher = home.resolve(image.entrypoint().get(0).substring(image.home().length() + 1));
        List<String> command = new ArrayList<>();
        command.add(launcher.toString());
        command.addAll(image.entrypoint().subList(1, image.entrypoint().size()));
        command.addAll(image.cmd());

        try (TestDatabase db = TestDatabase.withOutbox("entry")) {
            for (int i = 0; i < 3; i++) {
                db.execute("SELECT tide.outbox_publish('entry', '{\"n\": " + i + "}')");
            }
            long last = lastRow(db, "entry");
            int port = FreePort.next();
            ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile());
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(name -> name.startsWith("PG_TIDE_") || name.startsWith("CAMEL_"));
            env.put(RelaySettings.POSTGRES_URL.name(), db.url().jdbcUrl() + "?user=postgres&password=postgres");
            env.put(RelaySettings.METRICS_PORT.name(), String.valueOf(port));
            env.put("JAVA_OPTS", "-Xmx256m -XX:+ExitOnOutOfMemoryError");
            env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator + env.getOrDefault("PATH", ""));
            Path log = home.resolve("relay.log");
            builder.redirectErrorStream(true).redirectOutput(log.toFile());
            Process process = builder.start();
            try {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                await(Duration.ofSeconds(90), "the relay to be ready", () -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("the relay exited with " + process.exitValue() + ":\n" + Files.readString(log));
                    }
                    try {
                        HttpResponse<String> ready = get(http, "http://127.0.0.1:" + port + READY);
                        return ready.statusCode() == 200 && ready.body().contains("UP");
                    } catch (IOException notYet) {
                        return false;
                    }
                });
                await(Duration.ofSeconds(30), "the pipeline's offset to move", () -> offset(db, "entry-point-log") == last);
                long stopping = System.nanoTime();
                process.destroy(); // SIGTERM, as the kubelet and docker stop send it
                boolean exited = process.waitFor(30, TimeUnit.SECONDS);
                assertTrue(exited, "the relay did not exit within 30 s of SIGTERM:\n" + Files.readString(log));
                System.out.printf("relay exited %d ms after SIGTERM with status %d%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping), process.exitValue());
                String output = Files.readString(log);
                assertTrue(output.contains("(pg-tide) shutdown in"), "no graceful shutdown on SIGTERM:\n" + output);
                assertFalse(output.contains(" ERROR "), "the relay logged errors:\n" + output);
            } finally {
                if (process.isAlive()) {
                    process.destroyForcibly().waitFor();
                }
            }
        } finally {
            // the links point into the Maven repository: remove them before the temporary folder is deleted
            Installation.unlink(home);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // helpers

    /** Regular files under a folder, by path. */
    private static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> walk = Files.walk(folder)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** Every map of a parsed tree, depth first. */
    private static Stream<Map<?, ?>> maps(Object tree) {
        List<Map<?, ?>> found = new ArrayList<>();
        visit(tree, found::add);
        return found.stream();
    }

    private static void visit(Object node, Consumer<Map<?, ?>> visitor) {
        if (node instanceof Map<?, ?> map) {
            visitor.accept(map);
            map.values().forEach(v -> visit(v, visitor));
        } else if (node instanceof List<?> list) {
            list.forEach(v -> visit(v, visitor));
        }
    }

    /** Containers running the relay image (…/pg-tide:tag or …/pg-tide@digest), wherever they are declared. */
    private static List<Map<?, ?>> relayContainers(Object tree) {
        return maps(tree).filter(m -> m.get("name") instanceof String && m.get("image") instanceof String image
                && image.replaceFirst("[:@][^/]*$", "").replaceFirst(".*/", "").equals("pg-tide")).toList();
    }

    private static List<Map<?, ?>> kind(Document document, String kind) {
        return document.tree() instanceof Map<?, ?> map && kind.equals(map.get("kind")) ? List.of(map) : List.of();
    }

    private static Object path(Object node, String... keys) {
        for (String key : keys) {
            if (!(node instanceof Map<?, ?> map)) {
                return null;
            }
            node = map.get(key);
        }
        return node;
    }

    private static List<Map<?, ?>> listOfMaps(Object node) {
        List<Map<?, ?>> maps = new ArrayList<>();
        if (node instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof Map<?, ?> map) {
                    maps.add(map);
                }
            }
        }
        return maps;
    }

    /** The plain (value) environment of a container. */
    private static Map<String, String> env(Map<?, ?> container) {
        Map<String, String> env = new TreeMap<>();
        for (Map<?, ?> variable : listOfMaps(container.get("env"))) {
            if (variable.get("name") instanceof String name && variable.get("value") != null) {
                env.put(name, String.valueOf(variable.get("value")));
            }
        }
        return env;
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
