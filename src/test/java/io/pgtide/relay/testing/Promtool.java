package io.pgtide.relay.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Prometheus's own {@code promtool test rules}: evaluates the expression of an alert rule of a PrometheusRule file
 * over the samples of a real scrape, held constant, with the labels the ServiceMonitor adds.
 */
public final class Promtool {

    /** The alert rules the CloudNativePG example ships. */
    public static final Path CNPG_RULES = Path.of("examples/cnpg/prometheus-rules.yaml");
    /** The labels the ServiceMonitor of examples/cnpg adds to every series. */
    public static final Map<String, String> CNPG_TARGET = Map.of("job", "pg-tide-relay", "namespace", "shop",
            "cnpg_io_cluster", "db", "pod", "db-1");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Promtool() {
    }

    /** The expression of the alert rule with this name. */
    public static String expression(Path prometheusRule, String alert) throws Exception {
        for (JsonNode group : YAML.readTree(prometheusRule.toFile()).path("spec").path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (alert.equals(rule.path("alert").asText())) {
                    return rule.path("expr").asText().strip();
                }
            }
        }
        throw new AssertionError("no alert " + alert + " in " + prometheusRule);
    }

    /**
     * Runs {@code promtool test rules}: the expression over the scraped samples must give exactly the expected samples
     * (series as promtool prints them, e.g. {@code {outbox="orders", pipeline="x"}} → value).
     */
    public static void assertSamples(String expression, Map<String, Double> scrape, Map<String, String> targetLabels,
            Map<String, Double> expected, Path work) throws Exception {
        ObjectNode test = YAML.createObjectNode();
        test.put("interval", "1m");
        ArrayNode input = test.putArray("input_series");
        scrape.forEach((series, value) -> {
            if (!Double.isNaN(value)) {
                input.addObject().put("series", withLabels(series, targetLabels)).put("values", value + "+0x30");
            }
        });
        ObjectNode exprTest = test.putArray("promql_expr_test").addObject();
        exprTest.put("expr", expression);
        exprTest.put("eval_time", "10m");
        ArrayNode samples = exprTest.putArray("exp_samples");
        expected.forEach((labels, value) -> samples.addObject().put("labels", labels).put("value", value));

        ObjectNode file = YAML.createObjectNode();
        file.putArray("rule_files");
        file.put("evaluation_interval", "1m");
        file.putArray("tests").add(test);
        Path testFile = work.resolve("promtool-test.yaml");
        YAML.writeValue(testFile.toFile(), file);
        Process promtool = new ProcessBuilder("promtool", "test", "rules", testFile.toString()).redirectErrorStream(true).start();
        String output = new String(promtool.getInputStream().readAllBytes());
        if (!promtool.waitFor(60, TimeUnit.SECONDS) || promtool.exitValue() != 0) {
            throw new AssertionError("promtool: " + expression + "\n" + output);
        }
    }

    private static String withLabels(String series, Map<String, String> extra) {
        int brace = series.indexOf('{');
        String name = brace < 0 ? series : series.substring(0, brace);
        String own = brace < 0 ? "" : series.substring(brace + 1, series.length() - 1).replaceAll(",$", "");
        Map<String, String> added = new TreeMap<>(extra);
        String labels = added.entrySet().stream().map(e -> e.getKey() + "=\"" + e.getValue() + "\"")
                .collect(Collectors.joining(","));
        return name + "{" + (own.isEmpty() ? labels : own + "," + labels) + "}";
    }
}
