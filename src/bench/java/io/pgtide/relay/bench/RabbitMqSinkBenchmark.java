package io.pgtide.relay.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Backlog drain, outbox → RabbitMQ on this machine (127.0.0.1:5672, guest/guest), with
 * examples/routes/orders-to-rabbitmq.yaml as shipped: one persistent publish per message, each waiting
 * for its publisher confirm. The benchmark declares a topic exchange bound with "#" to one queue, durable
 * unless {@code -Dbench.durable=false} (deleted at the end): RabbitMQ confirms a persistent message in a
 * durable queue only once it is on disk. msg/s from the first advanced offset to the last row.
 * <pre>mvn -q -B -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.RabbitMqSinkBenchmark [-Dbench.messages=20000] [-Dbench.durable=false]</pre>
 */
public final class RabbitMqSinkBenchmark {

    private static final String PIPELINE = "orders-to-rabbitmq";

    private RabbitMqSinkBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.getInteger("bench.messages", 20_000);
        String exchange = "pg-tide-bench." + System.nanoTime();
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(5672);
        factory.setUsername("guest");
        factory.setPassword("guest");
        try (Connection rabbit = factory.newConnection("pg-tide benchmark"); Channel channel = rabbit.createChannel();
             TestDatabase db = TestDatabase.withExtension()) {
            channel.exchangeDeclare(exchange, "topic", false);
            boolean durable = Boolean.parseBoolean(System.getProperty("bench.durable", "true"));
            channel.queueDeclare(exchange, durable, false, false, null);
            channel.queueBind(exchange, exchange, "#");
            try {
                Backlog.fill(db, messages);
                Path routes = Files.createTempDirectory("bench-routes");
                Files.writeString(routes.resolve(PIPELINE + ".yaml"), Files.readString(Path.of("examples/routes/" + PIPELINE + ".yaml"))
                        .replace("spring-rabbitmq:orders", "spring-rabbitmq:" + exchange)
                        .replace("{{rabbitmq.host:localhost}}", "127.0.0.1"));
                double rate = Backlog.drainRate(db, routes, PIPELINE);
                long queued = channel.messageCount(exchange);
                System.out.printf(Locale.ROOT, "%nbacklog drain outbox -> RabbitMQ on 127.0.0.1, 1 KiB JSON, persistent,"
                        + " %s queue, publisher confirm per message%n", durable ? "durable" : "non-durable");
                System.out.printf(Locale.ROOT, "  orders-to-rabbitmq  %,7d msgs  %,8.0f msg/s  (%,d messages in the queue)%n",
                        messages, rate, queued);
            } finally {
                channel.queueDelete(exchange);
                channel.exchangeDelete(exchange);
            }
        }
        System.exit(0);
    }
}
