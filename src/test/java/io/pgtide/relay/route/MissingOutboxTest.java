package io.pgtide.relay.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline over an outbox that does not exist yet, logged as shipped: one line naming the outbox and the file, no
 * failed poll, and delivery once the outbox is created.
 */
class MissingOutboxTest {

    @Test
    void aMissingOutboxIsOneLineAndDeliveryStartsWhenItIsCreated(@TempDir Path routes) throws Exception {
        Path file = routes.resolve("invoices-to-log.yaml");
        Files.writeString(file, Files.readString(Path.of("examples/demo/orders-to-log.yaml"))
                .replace("orders-to-log", "invoices-to-log").replace("tide:orders", "tide:invoices"));
        try (TestDatabase db = TestDatabase.withExtension();
             ChildRelay relay = ChildRelay.startWithShippedLogging(db, routes, "relay", Map.of())) {
            Pipelines.await(Duration.ofSeconds(30), "the waiting line", () -> relay.output().contains("does not exist"));
            Thread.sleep(5000);   // the poll interval is 2 s: a failing poll would have shown by now
            String waiting = relay.output();
            List<String> warnings = waiting.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")).toList();
            assertEquals(List.of("PipelineOwner - Pipeline invoices-to-log: outbox \"invoices\" does not exist (named in "
                    + file.toAbsolutePath() + "); waiting for it (create it with SELECT tide.outbox_create('invoices'))"),
                    warnings.stream().map(line -> line.substring(line.indexOf("] ") + 2)).toList(), waiting);
            assertFalse(waiting.contains("bad SQL grammar") || waiting.contains("\tat "), waiting);

            db.execute("SELECT tide.outbox_create('invoices')");
            Producers.publish(db, "invoices", 1, 5);
            long last = Pipelines.lastRow(db, "invoices");
            Pipelines.await(Duration.ofSeconds(30), "delivery after the outbox was created",
                    () -> Pipelines.offset(db, "invoices-to-log") == last);
            String output = relay.output();
            assertTrue(output.contains("Pipeline invoices-to-log: no longer waiting"), output);
            assertEquals(1, output.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")).count(), output);
            assertEquals(5, output.lines().filter(line -> line.contains("key=") && line.contains("invoices:")).count(), output);
        }
    }
}
