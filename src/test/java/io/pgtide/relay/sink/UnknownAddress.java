package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the MQTT and NATS sink tests check alike of a broker address that does not resolve: beside a good pipeline,
 * pipeline {@code orders-to-nowhere} (written by the caller) fails alone, delivers nothing, and its error names
 * the address. Publishes 200 messages to outbox orders, all of which the good pipeline delivers.
 */
final class UnknownAddress {

    private UnknownAddress() {
    }

    static void run(TestDatabase db, Path routes, String goodPipeline, String address) throws Exception {
        try (LogCapture log = LogCapture.open()) {
            Producers.publish(db, "orders", 2, 200);
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the good pipeline to deliver", () -> offset(db, goodPipeline) == last);
                await(Duration.ofSeconds(20), "an error naming " + address,
                        () -> log.contains("relay_poll('orders-to-nowhere'", address));
                assertTrue(offset(db, "orders-to-nowhere") <= 0, "the bad pipeline delivered nothing");
                // its batch is still in redelivery: do not wait out the backoff on shutdown
                relay.context().getRouteController().stopRoute("orders-to-nowhere", 1, TimeUnit.SECONDS);
            }
        }
    }
}
