package io.pgtide.relay.testing;

/** The pipeline files the tests write: one route over {@code tide.relay_poll} in the relay's full form. */
public final class PipelineYaml {

    /** How the tests poll: a batch a poll, again at once while there are rows, every 100 ms when idle. */
    public static final String POLL = "useIterator: false, greedy: true, delay: 100";

    private static final String ROUTE = """
            - route:
                id: %1$s
                routeConfigurationId: pg-tide
                routePolicy: "#pgTideLock"
                from:
                  uri: "sql:SELECT * FROM tide.relay_poll('%1$s', '%2$s')"
                  parameters: { %3$s }
                  steps:
            %4$s""";

    private PipelineYaml() {
    }

    /** Pipeline {@code id} over {@code outbox} whose batches go through {@code steps} (a YAML list, not indented). */
    public static String withSteps(String id, String outbox, String parameters, String steps) {
        return ROUTE.formatted(id, outbox, parameters, steps.indent(8));
    }

    /** A pipeline that logs each batch at DEBUG. */
    public static String logging(String id, String outbox) {
        return withSteps(id, outbox, POLL, "- to: \"log:" + id + "?level=DEBUG\"");
    }

    /** A pipeline that splits each batch and sends every message to {@code uri}, stopping at the first failure. */
    public static String perMessage(String id, String outbox, String parameters, String uri) {
        return withSteps(id, outbox, parameters, """
                - split:
                    simple: "${body}"
                    stopOnException: true
                    steps:
                      - to: "%s"
                """.formatted(uri));
    }

    /** The same with the tests' polling. */
    public static String perMessage(String id, String outbox, String uri) {
        return perMessage(id, outbox, POLL, uri);
    }
}
