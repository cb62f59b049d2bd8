package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka pipeline whose broker cannot be reached, logged as shipped: the relay says so once in its own words, the
 * Kafka client's connection warnings stay quiet, and SIGTERM ends the relay in seconds with the batch unacknowledged.
 */
class UnreachableKafkaTest {

    private static final String PIPELINE = "orders-to-kafka";

    @Test
    void theRelaySaysOnceThatTheBrokerIsUnreachableAndStopsPromptly(@TempDir Path routes) throws Exception {
        int closed = FreePort.next();
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            Producers.publish(db, "orders", 1, 10);
            Pipelines.kafkaPipeline(routes, PIPELINE, "orders", "orders", "127.0.0.1:" + closed);
            try (ChildRelay relay = ChildRelay.startWithShippedLogging(db, routes, "relay", Map.of())) {
                try {
                    Pipelines.await(Duration.ofSeconds(30), "the relay's own line", () -> relay.output().contains("SinkStateLog"));
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + ":\n" + relay.output(), e);
                }
                Thread.sleep(10_000);   // the client retries a few times a second: none of it may show
                String running = relay.output();
                List<String> warnings = running.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")).toList();
                assertEquals(1, warnings.size(), running);
                assertTrue(warnings.get(0).endsWith("SinkStateLog - Pipeline orders-to-kafka: its sink cannot reach a Kafka"
                        + " broker at 127.0.0.1:" + closed + " (TimeoutException: Topic orders not present in metadata after"
                        + " 5000 ms.); retrying until it can"), warnings.get(0));

                long stop = System.nanoTime();
                relay.process().destroy();
                assertTrue(relay.process().waitFor(10, TimeUnit.SECONDS), "SIGTERM ends the relay within 10 s:\n" + relay.output());
                long stopMillis = (System.nanoTime() - stop) / 1_000_000;
                String output = relay.output();
                assertFalse(output.contains("Exception\n") || output.contains("\tat ") || output.contains("InterruptedException"),
                        "no stack trace on the way out:\n" + output);
                assertEquals(1, output.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")).count(), output);
                assertTrue(Pipelines.offset(db, PIPELINE) <= 0, "nothing was acknowledged, so the offset did not move");
                System.out.println("stopped in " + stopMillis + " ms");
            }
        }
    }
}
