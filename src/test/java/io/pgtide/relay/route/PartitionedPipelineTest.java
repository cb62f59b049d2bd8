package io.pgtide.relay.route;

import static io.pgtide.relay.testing.Pipelines.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.LogCapture;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TableSink;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, item 2: a pipeline declared once with {@code partitions=P} runs as P routes {@code <id>.<i>}, each over
 * the keys whose {@code tide.key_partition} is i, with a lock and an offset of its own. Every message arrives once,
 * each key in order; {@code consumer_lag} shows each partition; a pause by the declared name reaches every partition; a
 * changed partition count is refused by name.
 */
class PartitionedPipelineTest {

    private static final int KEYS = 20;
    /** Each running partition keeps a pool connection while its batch is sent, and the table sink takes one more. */
    private static final Map<String, String> POOL = Map.of(RelaySettings.POOL_SIZE.name(), "10");

    @Test
    void everyMessageArrivesOnceEachKeyInOrderAndEachPartitionShows(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            TableSink sink = TableSink.create(db, routes, "split", "orders?partitions=4&delay=100");
            try (RelayHarness relay = deliverAll(db, routes, sink, 400)) {
                for (int partition = 0; partition < 4; partition++) {
                    assertTrue(relay.context().getRoute("split." + partition) != null, "route split." + partition);
                }
            }
            assertEquals(400L, db.queryOne(Long.class, "SELECT count(DISTINCT id) FROM public.delivered"));
            assertEquals(400L, sink.lastArrival(), "each message once");
            assertEquals(List.of(), outOfOrderKeys(db), "each key in (tx, id) order");
            assertEquals("split.0 0/4 0|split.1 1/4 0|split.2 2/4 0|split.3 3/4 0", db.queryOne(String.class,
                    "SELECT string_agg(pipeline || ' ' || key_partition || '/' || key_partitions || ' ' || pending, '|'"
                            + " ORDER BY pipeline) FROM tide.consumer_lag WHERE partition_of = 'split'"));
            assertEquals(Boolean.TRUE, db.queryOne(Boolean.class, "SELECT tide.relay_pause('split')"));
            assertEquals(4L, db.queryOne(Long.class, "SELECT count(*) FROM tide.consumer_lag"
                    + " WHERE partition_of = 'split' AND state = 'paused'"), "the declared name pauses every partition");
        }
    }

    @Test
    void aChangedPartitionCountIsRefusedAndTheOffsetsStay(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            TableSink sink = TableSink.create(db, routes, "split", "orders?partitions=4&delay=100");
            deliverAll(db, routes, sink, 40).close();
            String offsets = offsets(db);
            Path file = routes.resolve("split.yaml");
            Files.writeString(file, Files.readString(file).replace("partitions=4", "partitions=2"));
            publish(db, 10);
            try (LogCapture log = LogCapture.open();
                    RelayHarness relay = RelayHarness.start(db, routes, "relay", POOL)) {
                await(Duration.ofSeconds(20), "the refusal", () -> log.contains("split.0",
                        "pipeline \"split\" on outbox \"orders\" runs with 4 partition(s), not 2"));
                assertEquals(40L, sink.lastArrival(), "nothing delivered under the new count");
                assertEquals(offsets, offsets(db), "no offset moved");
            }
        }
    }

    /** Publishes n messages and returns a relay that has delivered them all. */
    private static RelayHarness deliverAll(TestDatabase db, Path routes, TableSink sink, int n) throws Exception {
        publish(db, n);
        RelayHarness relay = RelayHarness.start(db, routes, "relay", POOL);
        try {
            await(Duration.ofSeconds(20), n + " messages", () -> sink.lastArrival() >= n);
            return relay;
        } catch (Exception | AssertionError e) {
            relay.close();
            throw e;
        }
    }

    /** Publishes n messages, one transaction each, over KEYS keys and a few without a key. */
    private static void publish(TestDatabase db, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', jsonb_build_object('n', ?::int), '{}', ?)", i,
                    i % 7 == 0 ? null : "k" + (i % KEYS));
        }
    }

    /** Keys whose messages reached the sink in another order than their ids (one transaction per message). */
    private static List<String> outOfOrderKeys(TestDatabase db) throws Exception {
        Map<String, Long> last = new HashMap<>();
        List<String> wrong = new ArrayList<>();
        for (String row : db.queryList(String.class, "SELECT coalesce(m.key, '') || ' ' || d.id FROM public.delivered d"
                + " JOIN tide.tide_outbox_messages m ON m.id = d.id ORDER BY d.seq")) {
            String[] parts = row.split(" ");
            long id = Long.parseLong(parts[1]);
            Long before = last.put(parts[0], id);
            if (before != null && before > id) {
                wrong.add(row);
            }
        }
        return wrong;
    }

    private static String offsets(TestDatabase db) throws Exception {
        return db.queryOne(String.class, "SELECT string_agg(pipeline || '@' || last_id, ',' ORDER BY pipeline)"
                + " FROM tide.relay_consumer_offsets");
    }
}
