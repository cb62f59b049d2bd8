package io.pgtide.relay.lock;

import static io.pgtide.relay.testing.Pipelines.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.pgtide.relay.testing.HoldFirstBatch;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, the order anomaly: a batch that outlives its lock (the route's stop gives up after its grace, the
 * exchange's thread does not) must not be overtaken on the same relay by a batch polled under a new hold of the
 * lock. The relay waits for the stale batch before it takes the lock again; then every key's first arrivals stay
 * in order.
 */
class StaleBatchTest {

    @Test
    void aRelayDoesNotTakeItsLockAgainWhileABatchOfItsPreviousHoldIsBeingSent(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("CREATE TABLE public.delivered (seq bigint GENERATED ALWAYS AS IDENTITY, id bigint NOT NULL)");
            Files.writeString(routes.resolve("held.yaml"), PipelineYaml.withSteps("held", "orders", PipelineYaml.POLL, """
                    - bean: { beanType: "io.pgtide.relay.testing.HoldFirstBatch", method: "hold" }
                    - process: { ref: "#class:io.pgtide.relay.sink.InboxBatch" }
                    - to:
                        uri: "sql:INSERT INTO public.delivered (id) SELECT split_part(e ->> 'id', ':', 2)::bigint FROM jsonb_array_elements(CAST(:#${body} AS jsonb)) WITH ORDINALITY a(e, n) ORDER BY n"
                        parameters:
                          dataSource: "#pgTide"
                    """));
            db.execute("SELECT tide.outbox_publish('orders', '{}', '{}', 'k') FROM generate_series(1, 5)");
            try (LogCapture log = LogCapture.open();
                    RelayHarness relay = RelayHarness.start(db, routes, "a")) {
                HoldFirstBatch.awaitHeld();
                Locks.terminate(db, "a", "held");
                await(Duration.ofSeconds(15), "the owner to wait for the stale batch",
                        () -> log.contains("Pipeline held: a batch of its previous hold of the lock is still being sent"));
                db.execute("SELECT tide.outbox_publish('orders', '{}', '{}', 'k') FROM generate_series(1, 5)");
                assertFalse(Locks.held(db, "a", "held"), "the lock is not taken again while the stale batch is sent");
                assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM public.delivered"));
                HoldFirstBatch.letGo();
                await(Duration.ofSeconds(20), "all 10 messages", () -> db.queryOne(Long.class,
                        "SELECT count(DISTINCT id) FROM public.delivered") == 10);
            }
            List<Long> firstArrivals = db.queryList(Long.class,
                    "SELECT id FROM public.delivered GROUP BY id ORDER BY min(seq)");
            assertEquals(db.queryList(Long.class, "SELECT id FROM tide.tide_outbox_messages ORDER BY tx, id"),
                    firstArrivals, "first arrivals of the key in (tx, id) order");
        }
    }
}
