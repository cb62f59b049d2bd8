package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Names.unique;
import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.MqttMessageCallback;
import io.pgtide.relay.testing.OutboxRows;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TcpProxy;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/routes/orders-to-mqtt.yaml against the machine's Mosquitto: QoS 1 publishes to {@code <prefix>/<key>}
 * with the stable id, key and headers as MQTT 5 user properties, received by a paho subscriber in the test;
 * at-least-once through connection cuts (short, and longer than the redelivery budget), order per key, and an
 * unknown broker that fails only its own pipeline.
 */
class MqttSinkTest {

    private static final String EXAMPLE = "examples/routes/orders-to-mqtt.yaml";
    private static final String HOST = "127.0.0.1";
    private static final int PORT = 1883;

    @Test
    void deliversIdsKeysAndHeadersAsUserPropertiesInOrder(@TempDir Path routes) throws Exception {
        String prefix = unique("pg-tide-test/");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Subscriber subscriber = Subscriber.on(prefix)) {
            writePipeline(routes, "orders-to-mqtt", prefix, "tcp://" + HOST + ":" + PORT);
            List<Long> committed = Producers.publish(db, "orders", 4, 600);
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-mqtt") == last);
            }
            await(Duration.ofSeconds(5), "the subscriber to receive every message", () -> subscriber.received.size() >= 600);
            Thread.sleep(300);
            assertEquals(600, subscriber.received.size(), "each message once when nothing failed");
            OutboxRows rows = OutboxRows.of(db, "orders");
            for (Received m : subscriber.received) {
                long id = Long.parseLong(m.user.get("pg_tide_id"));
                assertEquals("orders:" + id, m.user.get("pg_tide_message_id"), "the stable id is a user property");
                assertEquals(rows.key.get(id), m.user.get("pg_tide_key"));
                assertEquals("orders", m.user.get("pg_tide_outbox"));
                assertEquals("order.created", m.user.get("type"));
                assertEquals(rows.n.get(id), m.user.get("n"));
                assertEquals(prefix + "/" + rows.key.get(id), m.topic, "one topic per key");
                assertEquals(rows.payload.get(id), m.payload);
                assertEquals("application/json", m.contentType);
                assertEquals(1, m.qos);
            }
            assertEquals(new HashSet<>(committed), new HashSet<>(subscriber.ids()));
            assertEquals(rows.order, subscriber.ids(), "received in (tx, id) order");
        }
    }

    @Test
    void aConnectionCutMidStreamLosesNothingAndHoldsTheOffset(@TempDir Path routes) throws Exception {
        throughProxy(routes, (db, subscriber, proxy) -> {
            // the subscriber is connected directly: what the broker acknowledged reaches it within moments
            List<Long> committed = ConnectionCut.run(db, routes, "orders-to-mqtt", proxy, "Mosquitto",
                    Duration.ofSeconds(2), subscriber::ids);
            Thread.sleep(500);
            OutboxRows.assertNoneLost(committed, subscriber.ids());
            OutboxRows.of(db, "orders").assertOrderPerKey(subscriber.ids());
        });
    }

    /**
     * A cut longer than the redelivery budget (a publish without a connection fails at once): the batch must fail
     * as a whole and come again from its start. A split that went on after the failed message would deliver later
     * messages of its key before it.
     */
    @Test
    void aLongCutFailsTheWholeBatchWhichComesBackInOrder(@TempDir Path routes) throws Exception {
        throughProxy(routes, (db, subscriber, proxy) -> {
            WholeBatchFailure.run(db, routes, "orders-to-mqtt", proxy::cut, proxy::restore);
            Thread.sleep(500);
            assertEquals(500, new HashSet<>(subscriber.ids()).size(), "every message arrived");
            OutboxRows.of(db, "orders").assertOrderPerKey(subscriber.ids());
        });
    }

    /** What a test does with pipeline orders-to-mqtt publishing through a proxy to Mosquitto. */
    @FunctionalInterface
    private interface ProxiedScenario {
        void run(TestDatabase db, Subscriber subscriber, TcpProxy proxy) throws Exception;
    }

    /** Runs the scenario on outbox orders, the pipeline's broker address leading through a proxy; the subscriber is connected directly. */
    private static void throughProxy(Path routes, ProxiedScenario scenario) throws Exception {
        String prefix = unique("pg-tide-test/");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Subscriber subscriber = Subscriber.on(prefix);
             TcpProxy proxy = TcpProxy.to(HOST, PORT)) {
            writePipeline(routes, "orders-to-mqtt", prefix, "tcp://" + HOST + ":" + proxy.port());
            scenario.run(db, subscriber, proxy);
        }
    }

    @Test
    void anUnknownBrokerFailsOnlyItsPipelineAndNamesTheAddress(@TempDir Path routes) throws Exception {
        String prefix = unique("pg-tide-test/");
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Subscriber subscriber = Subscriber.on(prefix)) {
            writePipeline(routes, "orders-to-mqtt", prefix, "tcp://" + HOST + ":" + PORT);
            writePipeline(routes, "orders-to-nowhere", prefix, "tcp://no-such-host.invalid:1883");
            UnknownAddress.run(db, routes, "orders-to-mqtt", "no-such-host.invalid");
            await(Duration.ofSeconds(5), "the good pipeline's messages", () -> subscriber.received.size() >= 200);
        }
    }

    /**
     * A broker that refuses a message (PUBACK 0x87 not authorized, from a Mosquitto ACL) fails its send: the offset
     * stays before it, the messages before it are delivered, and once the ACL allows it (reloaded on SIGHUP) it and
     * everything after it arrive. "Not authorized" is a setup problem, not a permanent failure: no dead letter.
     */
    @Test
    void aMessageTheBrokerRefusesHoldsTheOffsetUntilItIsAccepted(@TempDir Path dir) throws Exception {
        Path routes = Files.createDirectory(dir.resolve("routes"));
        int port = FreePort.next();
        Path acl = dir.resolve("acl");
        Files.writeString(acl, "topic readwrite orders/#\ntopic deny orders/forbidden\n");
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\nacl_file " + acl
                + "\nuser root\npersistence false\n");
        Process mosquitto = new ProcessBuilder("/usr/sbin/mosquitto", "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        String brokerUrl = "tcp://" + HOST + ":" + port;
        try {
            await(Duration.ofSeconds(10), "the private Mosquitto to listen", () -> {
                try (java.net.Socket socket = new java.net.Socket(HOST, port)) {
                    return true;
                } catch (java.io.IOException e) {
                    assertTrue(mosquitto.isAlive(), "mosquitto exited: " + Files.readString(dir.resolve("mosquitto.log")));
                    return false;
                }
            });
            try (TestDatabase db = TestDatabase.withOutbox("orders"); Subscriber subscriber = Subscriber.on(brokerUrl, "orders")) {
                writePipeline(routes, "orders-to-mqtt", "orders", brokerUrl);
                for (String key : List.of("k1", "k2", "forbidden", "k1", "k2")) {   // one transaction each: in this order
                    db.execute("INSERT INTO tide.tide_outbox_messages (outbox_name, key, payload, headers) VALUES ('orders', '"
                            + key + "', '{\"key\": \"" + key + "\"}', '{\"type\": \"order.created\"}')");
                }
                long forbidden = db.queryOne(Long.class,
                        "SELECT id FROM tide.tide_outbox_messages WHERE key = 'forbidden'");
                List<Long> order = OutboxRows.of(db, "orders").order;
                List<Long> before = order.subList(0, order.indexOf(forbidden));
                assertEquals(2, before.size());
                long last = lastRow(db, "orders");
                try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                    // the batch fails as a whole (the offset moves per batch), but what came before the refusal is sent
                    await(Duration.ofSeconds(20), "the messages before the refused one",
                            () -> new HashSet<>(subscriber.ids()).containsAll(before));
                    assertTrue(offset(db, "orders-to-mqtt") < forbidden, "the offset passed the message the broker refused");
                    // longer than the redelivery budget (0.5 + 1 + 2 + 4 + 8 s): the batch fails and comes back
                    for (int i = 0; i < 40; i++) {
                        Thread.sleep(500);
                        assertTrue(offset(db, "orders-to-mqtt") < forbidden,
                                "the offset passed the message the broker refused");
                    }
                    assertEquals(new HashSet<>(before), new HashSet<>(subscriber.ids()), "nothing from the refused message on");
                    assertEquals(0L, db.queryOne(Long.class, "SELECT coalesce(sum(open_dead_letters), 0)::bigint"
                            + " FROM tide.dead_letters"), "not authorized is no permanent failure");

                    Files.writeString(acl, "topic readwrite orders/#\n");
                    new ProcessBuilder("kill", "-HUP", Long.toString(mosquitto.pid())).inheritIO().start().waitFor();
                    await(Duration.ofSeconds(40), "the offset to reach the last row once the broker accepts",
                            () -> offset(db, "orders-to-mqtt") == last);
                }
                OutboxRows rows = OutboxRows.of(db, "orders");
                await(Duration.ofSeconds(5), "every message at the subscriber",
                        () -> new HashSet<>(subscriber.ids()).containsAll(rows.order));
                assertTrue(subscriber.received.stream().anyMatch(m -> m.topic().equals("orders/forbidden")));
                rows.assertOrderPerKey(subscriber.ids());
            }
        } finally {
            mosquitto.destroy();
            if (!mosquitto.waitFor(5, TimeUnit.SECONDS)) {
                mosquitto.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** The example pipeline with its id, topic prefix and broker swapped, as the relay would load it. */
    private static void writePipeline(Path folder, String pipeline, String prefix, String brokerUrl) throws Exception {
        String yaml = Files.readString(Path.of(EXAMPLE))
                .replace("orders-to-mqtt", pipeline)
                .replace("\"orders/${header.pg_tide_key}\"", "\"" + prefix + "/${header.pg_tide_key}\"")
                .replace("{{mqtt.brokerUrl:tcp://localhost:1883}}", brokerUrl)
                .replace("ordersMqtt", pipeline.replace("-", "") + "Mqtt");   // the client bean: one name per file
        Files.writeString(folder.resolve(pipeline + ".yaml"), yaml);
    }

    /** One received MQTT message. */
    record Received(String topic, String payload, Map<String, String> user, String contentType, int qos) {
    }

    /** A paho MQTT 5 client subscribed at QoS 1 to {@code <prefix>/#}, directly on the broker. */
    static final class Subscriber extends MqttMessageCallback implements AutoCloseable {
        final List<Received> received = new CopyOnWriteArrayList<>();
        private final MqttClient client;

        private Subscriber(String brokerUrl, String prefix) throws MqttException {
            client = new MqttClient(brokerUrl, unique("pg-tide-test-"), new MemoryPersistence());
            client.setCallback(this);
            client.connect(new MqttConnectionOptions());
            client.subscribe(prefix + "/#", 1);
        }

        static Subscriber on(String prefix) throws MqttException {
            return new Subscriber("tcp://" + HOST + ":" + PORT, prefix);
        }

        static Subscriber on(String brokerUrl, String prefix) throws MqttException {
            return new Subscriber(brokerUrl, prefix);
        }

        List<Long> ids() {
            return received.stream().map(m -> Long.parseLong(m.user.get("pg_tide_id"))).toList();
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            Map<String, String> user = new HashMap<>();
            MqttProperties properties = message.getProperties();
            for (UserProperty p : properties.getUserProperties()) {
                user.put(p.getKey(), p.getValue());
            }
            received.add(new Received(topic, new String(message.getPayload(), StandardCharsets.UTF_8), user,
                    properties.getContentType(), message.getQos()));
        }

        @Override
        public void close() throws MqttException {
            client.disconnect();
            client.close();
        }
    }
}
