package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Names.unique;
import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamState;
import io.nats.client.impl.Headers;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TcpProxy;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/routes/orders-to-nats.yaml against the machine's NATS JetStream server: stable ids as
 * {@code Nats-Msg-Id} (a batch delivered twice is stored once), keys and headers, at-least-once through a
 * connection cut and through a stream that refuses publishes for longer than the redelivery budget, order
 * per key, and a bad server address that fails only its own pipeline. Its burst insert serves
 * MqttSinkTest and RedisSinkTest too.
 */
class NatsSinkTest {

    private static final String EXAMPLE = "examples/routes/orders-to-nats.yaml";
    private static final String NATS_HOST = "127.0.0.1";
    private static final int NATS_PORT = 4222;

    private static Connection nats;
    private static JetStreamManagement jsm;

    @BeforeAll
    static void connect() throws Exception {
        nats = Nats.connect("nats://" + NATS_HOST + ":" + NATS_PORT);
        jsm = nats.jetStreamManagement();
    }

    @AfterAll
    static void disconnect() throws Exception {
        nats.close();
    }

    @Test
    void deliversIdsKeysAndHeadersInOrderAndARedeliveredBatchIsStoredOnce(@TempDir Path routes) throws Exception {
        String name = unique("t");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); JetStreamStream stream = JetStreamStream.create(name)) {
            writePipeline(routes, "orders-to-nats", stream.subject, NATS_HOST + ":" + NATS_PORT);
            List<Long> committed = Producers.publish(db, "orders", 4, 600);
            long last = lastRow(db, "orders");
            // every publish on the subject, duplicates included: the stream is what dedups
            AtomicInteger published = new AtomicInteger();
            Dispatcher raw = nats.createDispatcher(m -> published.incrementAndGet());
            raw.subscribe(stream.subject);
            nats.flush(Duration.ofSeconds(2));

            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-nats") == last);
            }
            List<MessageInfo> stored = stream.read();
            assertEquals(committed.size(), stored.size(), "each message stored once when nothing failed");
            OutboxRows rows = OutboxRows.of(db, "orders");
            List<Long> delivered = new ArrayList<>();
            for (MessageInfo m : stored) {
                Headers h = m.getHeaders();
                long id = Long.parseLong(h.getFirst("pg_tide_id"));
                delivered.add(id);
                assertEquals("orders:" + id, h.getFirst("pg_tide_message_id"));
                assertEquals("orders:" + id, h.getFirst("Nats-Msg-Id"), "the stable id is JetStream's dedup id");
                assertEquals(rows.key.get(id), h.getFirst("pg_tide_key"));
                assertEquals("orders", h.getFirst("pg_tide_outbox"));
                assertEquals("order.created", h.getFirst("type"));
                assertEquals(rows.n.get(id), h.getFirst("n"));
                assertEquals(rows.payload.get(id), new String(m.getData(), StandardCharsets.UTF_8));
                assertEquals(stream.subject, m.getSubject());
            }
            assertEquals(new HashSet<>(committed), new HashSet<>(delivered));
            assertEquals(rows.order, delivered, "stored in (tx, id) order");
            await(Duration.ofSeconds(5), "the raw subscriber to see every publish", () -> published.get() == 600);

            // deliver everything again, as a relay does after a crash before its offset moved
            db.execute("UPDATE tide.relay_consumer_offsets SET last_tx = '0', last_id = 0 WHERE pipeline = 'orders-to-nats'");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row again",
                        () -> offset(db, "orders-to-nats") == last);
            }
            await(Duration.ofSeconds(5), "the raw subscriber to see every publish twice", () -> published.get() == 1200);
            assertEquals(600, stream.state().getMsgCount(), "the redelivered batches were published and stored once");
            raw.unsubscribe(stream.subject);
        }
    }

    @Test
    void aConnectionCutMidStreamLosesNothingAndHoldsTheOffset(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); JetStreamStream stream = JetStreamStream.create(unique("t"));
             TcpProxy proxy = TcpProxy.to(NATS_HOST, NATS_PORT)) {
            writePipeline(routes, "orders-to-nats", stream.subject, NATS_HOST + ":" + proxy.port());
            List<Long> committed = ConnectionCut.run(db, routes, "orders-to-nats", proxy, "NATS", Duration.ZERO,
                    stream::ids);
            List<Long> delivered = stream.pgTideIds();
            OutboxRows.assertNoneLost(committed, delivered);
            assertEquals(delivered.size(), new HashSet<>(delivered).size(),
                    "publishes repeated around the cut were deduplicated by Nats-Msg-Id");
            OutboxRows.of(db, "orders").assertOrderPerKey(delivered);
        }
    }

    /**
     * The stream stops capturing the subject for longer than the redelivery budget, so NATS answers every publish
     * with an error. The batch must fail as a whole and come again from its start: a split that went on after the
     * failed message would store later messages of its key before it.
     */
    @Test
    void aStreamRefusingPublishesFailsTheWholeBatchWhichComesBackInOrder(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); JetStreamStream stream = JetStreamStream.create(unique("t"))) {
            writePipeline(routes, "orders-to-nats", stream.subject, NATS_HOST + ":" + NATS_PORT);
            WholeBatchFailure.run(db, routes, "orders-to-nats", stream::refuse, () -> {
                assertEquals(100, stream.state().getMsgCount(), "nothing of the burst was stored");
                stream.accept();
            });
            List<Long> delivered = stream.pgTideIds();
            assertEquals(500, delivered.size(), "each message stored once");
            OutboxRows.of(db, "orders").assertOrderPerKey(delivered);
        }
    }

    @Test
    void anUnknownServerFailsOnlyItsPipelineAndNamesTheAddress(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); JetStreamStream stream = JetStreamStream.create(unique("t"))) {
            writePipeline(routes, "orders-to-nats", stream.subject, NATS_HOST + ":" + NATS_PORT);
            writePipeline(routes, "orders-to-nowhere", stream.subject, "no-such-host.invalid:4222");
            UnknownAddress.run(db, routes, "orders-to-nats", "no-such-host.invalid:4222");
            assertEquals(200, stream.state().getMsgCount());
        }
    }

    /** A memory stream of its own with a subject of its own and a 2 minute duplicate window; deleted on close. */
    private static final class JetStreamStream implements AutoCloseable {
        final String name;
        final String subject;

        private JetStreamStream(String name) {
            this.name = name;
            this.subject = "pg-tide-test." + name;
        }

        static JetStreamStream create(String name) throws Exception {
            JetStreamStream stream = new JetStreamStream(name);
            jsm.addStream(StreamConfiguration.builder().name(name).subjects(stream.subject)
                    .storageType(StorageType.Memory).duplicateWindow(Duration.ofMinutes(2)).build());
            return stream;
        }

        StreamState state() throws Exception {
            return jsm.getStreamInfo(name).getStreamState();
        }

        /** Every stored message, in stream order. */
        List<MessageInfo> read() throws Exception {
            StreamState state = state();
            List<MessageInfo> messages = new ArrayList<>();
            if (state.getMsgCount() == 0) {
                return messages;
            }
            for (long seq = state.getFirstSequence(); seq <= state.getLastSequence(); seq++) {
                messages.add(jsm.getMessage(name, seq));
            }
            return messages;
        }

        /** The pg_tide_id of every stored message, in stream order. */
        List<Long> pgTideIds() throws Exception {
            List<Long> ids = new ArrayList<>();
            for (MessageInfo m : read()) {
                ids.add(Long.parseLong(m.getHeaders().getFirst("pg_tide_id")));
            }
            return ids;
        }

        Set<Long> ids() throws Exception {
            return new HashSet<>(pgTideIds());
        }

        /** The stream stops capturing the subject: each publish is answered with an error (no responders). */
        void refuse() throws Exception {
            jsm.updateStream(StreamConfiguration.builder(jsm.getStreamInfo(name).getConfiguration())
                    .subjects(subject + ".parked").build());
        }

        void accept() throws Exception {
            jsm.updateStream(StreamConfiguration.builder(jsm.getStreamInfo(name).getConfiguration())
                    .subjects(subject).build());
        }

        @Override
        public void close() throws Exception {
            jsm.deleteStream(name);
        }
    }

    /** The example pipeline with its id, subject and server swapped, as the relay would load it. */
    private static void writePipeline(Path folder, String pipeline, String subject, String servers) throws Exception {
        String yaml = Files.readString(Path.of(EXAMPLE))
                .replace("orders-to-nats", pipeline)
                .replace("nats:orders", "nats:" + subject)
                .replace("{{nats.servers:localhost:4222}}", servers);
        Files.writeString(folder.resolve(pipeline + ".yaml"), yaml);
    }
}
