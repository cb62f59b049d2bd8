package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.Exchange;
import org.apache.camel.InvalidPayloadException;
import org.apache.camel.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retries are set per pipeline: a pipeline file's own Camel {@code errorHandler} replaces the relay-wide
 * {@code pg-tide.redelivery.*} defaults for that pipeline only, backs off between attempts instead of
 * spinning, and keeps the shared parts (dead letters, success-only offset advance).
 */
class RetrySettingsTest {

    private static final String PIPELINE = """
            - route:
                id: %1$s
                routeConfigurationId: pg-tide
                routePolicy: "#pgTideLock"
            %2$s
                from:
                  uri: "sql:SELECT * FROM tide.relay_poll('%1$s', 'orders')"
                  parameters: { useIterator: false, greedy: true, delay: 100 }
                  steps:
                    - bean: { beanType: "io.pgtide.relay.route.RetrySettingsTest$FlakySink", method: send }
            """;

    private static final String OWN_RETRIES = """
                errorHandler:
                  defaultErrorHandler:
                    redeliveryPolicy:
                      maximumRedeliveries: 3
                      redeliveryDelay: 200
                      useExponentialBackOff: true
                      backOffMultiplier: 2
            """;

    private TestDatabase db;

    @BeforeEach
    void relayWideDefaults() throws Exception {
        System.setProperty("pg-tide.redelivery.maximum", "1");
        System.setProperty("pg-tide.redelivery.delay", "100");
        FlakySink.reset();
        db = TestDatabase.withOutbox("orders");
    }

    @AfterEach
    void clear() throws Exception {
        System.clearProperty("pg-tide.redelivery.maximum");
        System.clearProperty("pg-tide.redelivery.delay");
        db.close();
    }

    @Test
    void aPipelinesOwnErrorHandlerSetsItsRetriesAndBackoff(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("patient.yaml"), PIPELINE.formatted("patient", OWN_RETRIES));
        Files.writeString(routes.resolve("hasty.yaml"), PIPELINE.formatted("hasty", ""));
        for (int i = 0; i < 5; i++) {
            db.execute("SELECT tide.outbox_publish('orders', '{}', NULL, 'k')");
        }
        try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
            Pipelines.await(Duration.ofSeconds(30), "two failed batches of each pipeline",
                    () -> FlakySink.exchanges("patient").size() >= 2 && FlakySink.exchanges("hasty").size() >= 2);

            List<Long> patient = FlakySink.exchanges("patient").get(0);
            assertEquals(4, patient.size(), "the pipeline's own maximumRedeliveries: 1 attempt + 3 redeliveries");
            for (int gap = 0; gap < 3; gap++) {
                long millis = (patient.get(gap + 1) - patient.get(gap)) / 1_000_000;
                assertTrue(millis >= 200L << gap, "redelivery " + (gap + 1) + " after " + millis + " ms, expected "
                        + (200 << gap) + " ms or more (exponential backoff)");
            }
            assertEquals(2, FlakySink.exchanges("hasty").get(0).size(),
                    "the other pipeline keeps the relay-wide pg-tide.redelivery.maximum=1");
            long first = db.queryOne(Long.class, "SELECT min(id) FROM tide.tide_outbox_messages");
            assertTrue(Pipelines.offset(db, "patient") < first && Pipelines.offset(db, "hasty") < first,
                    "a failing sink never moves the offset");

            db.execute("SELECT tide.outbox_publish('orders', '{\"poison\": true}', NULL, 'k')");
            db.execute("SELECT tide.outbox_publish('orders', '{}', NULL, 'k')");
            FlakySink.up = true;
            long last = Pipelines.lastRow(db, "orders");
            Pipelines.await(Duration.ofSeconds(30), "both pipelines to resume by themselves once the sink is back",
                    () -> Pipelines.offset(db, "patient") == last && Pipelines.offset(db, "hasty") == last);
            assertEquals(2L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_dlq WHERE payload ->> 'poison' IS NOT NULL"),
                    "the poison message went to the dead letters of each pipeline, its own retries or not");
            assertEquals(12, Set.copyOf(FlakySink.delivered).size(), "every other message was delivered by each pipeline");
        }
    }

    /** A sink that refuses every batch while down, and rejects a poison message for good; records attempt times. */
    public static final class FlakySink {

        static final Map<String, Map<String, List<Long>>> ATTEMPTS = new ConcurrentHashMap<>();
        static final List<String> delivered = Collections.synchronizedList(new ArrayList<>());
        static volatile boolean up;

        static void reset() {
            ATTEMPTS.clear();
            delivered.clear();
            up = false;
        }

        /** The attempt times of each failed exchange of a pipeline, in the order the exchanges started. */
        static List<List<Long>> exchanges(String pipeline) {
            return new ArrayList<>(ATTEMPTS.getOrDefault(pipeline, Map.of()).values());
        }

        public void send(Exchange exchange) throws Exception {
            String pipeline = exchange.getFromRouteId();
            if (!up) {
                ATTEMPTS.computeIfAbsent(pipeline, p -> Collections.synchronizedMap(new LinkedHashMap<>()))
                        .computeIfAbsent(exchange.getExchangeId(), id -> new ArrayList<>()).add(System.nanoTime());
                throw new ConnectException("sink down");   // an outage: retried, never dead-lettered
            }
            for (Object message : exchange.getIn().getBody(List.class)) {
                String payload = ((Message) message).getBody(String.class);
                if (payload.contains("poison")) {
                    throw new InvalidPayloadException(exchange, Map.class);
                }
            }
            for (Object message : exchange.getIn().getBody(List.class)) {
                delivered.add(pipeline + ":" + ((Message) message).getHeader("pg_tide_id"));
            }
        }
    }
}
