package io.pgtide.relay.sink;

import static io.pgtide.relay.testing.Names.unique;
import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import io.pgtide.relay.testing.LogCapture;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/routes/orders-to-rabbitmq.yaml against the machine's RabbitMQ: the stable id as the AMQP
 * message id, the row's key as the routing key, persistent messages with the outbox headers, publisher
 * confirms holding the offset through a connection cut, order per key, and wrong credentials that fail
 * only their own pipeline with an error naming the settings.
 */
class RabbitMqSinkTest {

    private static final String EXAMPLE = "examples/routes/orders-to-rabbitmq.yaml";
    private static final String HOST = "127.0.0.1";
    private static final int PORT = 5672;
    /**
     * Longer than the error handler's redelivery budget (0.5+1+2+4+8 s of backoff): a message exhausts its
     * retries and the batch fails as a whole, the path where a split that went on after a failed message
     * would let later messages of a key overtake it.
     */
    private static final long CUT_MILLIS = 18_000;

    /** The test's own connection, straight to the broker (never through the proxy). */
    private static Connection rabbit;

    @BeforeAll
    static void connect() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(HOST);
        factory.setPort(PORT);
        factory.setUsername("guest");
        factory.setPassword("guest");
        rabbit = factory.newConnection("pg-tide RabbitMqSinkTest");
    }

    @AfterAll
    static void disconnect() throws Exception {
        rabbit.close();
    }

    @Test
    void deliversPersistentMessagesWithIdKeyAndHeadersInOrder(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Topology topology = Topology.create()) {
            writePipeline(routes, "orders-to-rabbitmq", topology.exchange, PORT);
            List<Long> committed = new ArrayList<>(Producers.publish(db, "orders", 4, 400));
            for (int i = 0; i < 3; i++) {   // rows without a key go with the pipeline's fixed routing key
                committed.add(db.queryOne(Long.class, "SELECT tide.outbox_publish('orders', '{\"keyless\": true}',"
                        + " '{\"type\": \"order.created\", \"n\": \"none\"}')"));
            }
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the offset to reach the last row", () -> offset(db, "orders-to-rabbitmq") == last);
            }

            List<GetResponse> received = topology.drain(committed.size(), Duration.ofSeconds(10));
            assertEquals(committed.size(), received.size(), "each message once when nothing failed");
            assertEquals(0, topology.channel.messageCount(topology.queue), "nothing more");
            OutboxRows rows = OutboxRows.of(db, "orders");
            List<Long> delivered = new ArrayList<>();
            for (GetResponse r : received) {
                AMQP.BasicProperties p = r.getProps();
                long id = Long.parseLong(header(p, "pg_tide_id"));
                delivered.add(id);
                assertEquals("orders:" + id, p.getMessageId(), "AMQP message-id = the stable id");
                assertEquals("orders:" + id, header(p, "pg_tide_message_id"));
                assertEquals(2, p.getDeliveryMode(), "persistent");
                String key = rows.key.get(id);
                assertEquals(key == null ? "orders" : key, r.getEnvelope().getRoutingKey(),
                        "routing key = the row's key, else the pipeline's fixed one");
                assertEquals(key, header(p, "pg_tide_key"));
                assertEquals("orders", header(p, "pg_tide_outbox"));
                assertEquals("order.created", header(p, "type"));
                assertEquals(rows.n.get(id), header(p, "n"));
                assertEquals(rows.payload.get(id), new String(r.getBody(), StandardCharsets.UTF_8));
                assertTrue(p.getHeaders().keySet().stream().noneMatch(h -> h.startsWith("Camel")),
                        "no Camel internals on the wire: " + p.getHeaders().keySet());
            }
            assertEquals(new HashSet<>(committed), new HashSet<>(delivered));
            assertEquals(rows.order, delivered, "one queue: the messages arrive in (tx, id) order");
        }
    }

    @Test
    void aConnectionCutMidStreamLosesNothingKeepsOrderPerKeyAndHoldsTheOffset(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Topology topology = Topology.create();
             TcpProxy proxy = TcpProxy.to(HOST, PORT)) {
            writePipeline(routes, "orders-to-rabbitmq", topology.exchange, proxy.port());
            List<Long> delivered = topology.consume();
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay");
                 Producers producers = Producers.background(db, "orders", 2, 100)) {
                await(Duration.ofSeconds(20), "first deliveries", () -> offset(db, "orders-to-rabbitmq") > 0);
                // a burst, so that the cut catches a large batch half sent: its later messages of a key must not
                // overtake an earlier one that failed (with a trickle, batches hold a message or two)
                List<Long> burst = Producers.publish(db, "orders", 4, 3000);
                long backlog = lastRow(db, "orders") - offset(db, "orders-to-rabbitmq");

                proxy.cut();
                Thread.sleep(1500);
                long stalled = offset(db, "orders-to-rabbitmq");
                topology.awaitQuiet(delivered);
                List<Long> upToOffset = OutboxRows.of(db, "orders").upTo(stalled);
                assertFalse(upToOffset.isEmpty());
                assertTrue(new HashSet<>(delivered).containsAll(upToOffset),
                        "every message up to the offset reached the queue (was confirmed) before the offset moved");
                Thread.sleep(CUT_MILLIS - 1500);
                assertEquals(stalled, offset(db, "orders-to-rabbitmq"), "the offset does not move while RabbitMQ is cut off");
                assertTrue(lastRow(db, "orders") > stalled, "messages kept coming during the outage");

                proxy.restore();
                List<Long> committed = new ArrayList<>(producers.stop());
                committed.addAll(burst);
                System.out.println("backlog when the connection was cut: " + backlog + " messages");
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(30), "the offset to reach the last row after the outage",
                        () -> offset(db, "orders-to-rabbitmq") == last);
                topology.awaitQuiet(delivered);

                OutboxRows.assertNoneLost(committed, delivered);
                OutboxRows.of(db, "orders").assertOrderPerKey(delivered);
            }
        }
    }

    @Test
    void wrongCredentialsFailOnlyTheirPipelineAndNameTheSettings(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders"); Topology topology = Topology.create();
             LogCapture log = LogCapture.open()) {
            writePipeline(routes, "orders-to-rabbitmq", topology.exchange, PORT);
            String bad = Files.readString(Path.of(EXAMPLE))
                    .replace("orders-to-rabbitmq", "orders-to-rabbitmq-wrong-login")
                    .replace("ordersRabbitMq", "wrongLoginRabbitMq")
                    .replace("spring-rabbitmq:orders", "spring-rabbitmq:" + topology.exchange)
                    .replace("{{rabbitmq.host:localhost}}", HOST)
                    .replace("{{rabbitmq.username:guest}}", "{{rabbitmq.username:pg-tide-nobody}}")
                    .replace("{{rabbitmq.password:guest}}", "{{rabbitmq.password:not-the-password}}");
            Files.writeString(routes.resolve("orders-to-rabbitmq-wrong-login.yaml"), bad);
            Producers.publish(db, "orders", 2, 200);
            long last = lastRow(db, "orders");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(30), "the good pipeline to deliver", () -> offset(db, "orders-to-rabbitmq") == last);
                await(Duration.ofSeconds(20), "an error naming the settings",
                        () -> log.contains("pg-tide-nobody", "rabbitmq.username", "rabbitmq.password"));
                assertTrue(offset(db, "orders-to-rabbitmq-wrong-login") <= 0, "the pipeline with the wrong login delivered nothing");
                System.out.println("error as logged: " + log.find("pg-tide-nobody", "rabbitmq.username"));
                // test time only: a stopping relay lets in-flight batches finish their retries (up to 30 s)
                relay.context().getShutdownStrategy().setTimeout(2);
            }
            assertFalse(log.contains("not-the-password"), "the password is never logged");
            assertEquals(200, topology.drain(200, Duration.ofSeconds(10)).size());
        }
    }

    /** The example pipeline with its id, exchange and broker address swapped, as the relay would load it. */
    private static void writePipeline(Path folder, String pipeline, String exchange, int port) throws Exception {
        String yaml = Files.readString(Path.of(EXAMPLE))
                .replace("orders-to-rabbitmq", pipeline)
                .replace("spring-rabbitmq:orders", "spring-rabbitmq:" + exchange)
                .replace("{{rabbitmq.host:localhost}}", HOST)
                .replace("{{rabbitmq.port:5672}}", String.valueOf(port));
        Files.writeString(folder.resolve(pipeline + ".yaml"), yaml);
    }

    private static String header(AMQP.BasicProperties properties, String name) {
        Object value = properties.getHeaders() == null ? null : properties.getHeaders().get(name);
        return value == null ? null : value.toString();
    }

    /** A topic exchange of its own bound with "#" to a queue of its own; both deleted on close. */
    private static final class Topology implements AutoCloseable {
        final String exchange;
        final String queue;
        final Channel channel;

        private Topology(String name) throws Exception {
            this.exchange = "pg-tide-test." + name;
            this.queue = exchange;
            this.channel = rabbit.createChannel();
            channel.exchangeDeclare(exchange, "topic", false);
            channel.queueDeclare(queue, false, false, false, null);
            channel.queueBind(queue, exchange, "#");
        }

        static Topology create() throws Exception {
            return new Topology(unique("t"));
        }

        /** Takes up to {@code count} messages off the queue, waiting at most {@code timeout} for them. */
        List<GetResponse> drain(int count, Duration timeout) throws Exception {
            List<GetResponse> received = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (received.size() < count && System.nanoTime() < deadline) {
                GetResponse response = channel.basicGet(queue, true);
                if (response == null) {
                    Thread.sleep(20);
                } else {
                    received.add(response);
                }
            }
            return received;
        }

        /** Consumes in the background: the pg_tide_id of every delivery, duplicates included, in arrival order. */
        List<Long> consume() throws Exception {
            List<Long> ids = new CopyOnWriteArrayList<>();
            Channel consumer = rabbit.createChannel();
            consumer.basicConsume(queue, true, (tag, delivery) ->
                    ids.add(Long.parseLong(header(delivery.getProperties(), "pg_tide_id"))), tag -> { });
            return ids;
        }

        /** Waits until the queue is empty and nothing arrived for half a second. */
        void awaitQuiet(List<Long> ids) throws Exception {
            int seen = -1;
            while (seen != ids.size() || channel.messageCount(queue) > 0) {
                seen = ids.size();
                Thread.sleep(500);
            }
        }

        @Override
        public void close() throws Exception {
            channel.queueDelete(queue);
            channel.exchangeDelete(exchange);
            channel.close();
        }
    }
}
