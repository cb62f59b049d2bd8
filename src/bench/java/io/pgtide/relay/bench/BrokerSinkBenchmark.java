package io.pgtide.relay.bench;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StreamConfiguration;
import io.pgtide.relay.testing.MqttMessageCallback;
import io.pgtide.relay.testing.Names;
import io.pgtide.relay.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import redis.clients.jedis.RedisClient;

/**
 * Backlog drains through the example pipelines to the machine's brokers, one after the other; each prints msg/s
 * from the first advanced offset to the last row, and the count its broker holds:
 * <ul>
 * <li>mqtt: examples/routes/orders-to-mqtt.yaml to Mosquitto (QoS 1, one publish per message, PUBACK awaited),
 * one QoS 1 subscriber on the topics;</li>
 * <li>nats: examples/routes/orders-to-nats.yaml into a JetStream file stream (one synchronous, acknowledged
 * publish per message);</li>
 * <li>redis: examples/routes/orders-to-redis.yaml into a Redis stream (one XADD per message, each batch pipelined
 * in one round trip).</li>
 * </ul>
 * A sink that fails is named with its error, and the others still run.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.BrokerSinkBenchmark [-Dbench.sinks=mqtt,nats,redis] [-Dbench.messages=20000]</pre>
 */
public final class BrokerSinkBenchmark {

    private BrokerSinkBenchmark() {
    }

    public static void main(String[] args) {
        Map<String, BenchmarkMain.Body> known = new LinkedHashMap<>();
        known.put("mqtt", BrokerSinkBenchmark::mqtt);
        known.put("nats", BrokerSinkBenchmark::nats);
        known.put("redis", BrokerSinkBenchmark::redis);
        List<String> sinks = List.of(System.getProperty("bench.sinks", String.join(",", known.keySet())).split(","));
        for (String sink : sinks) {
            if (!known.containsKey(sink)) {
                throw new IllegalArgumentException("bench.sinks: no sink '" + sink + "' (" + known.keySet() + ")");
            }
        }
        System.exit(BenchmarkMain.run(messages -> {
            List<String> failed = new ArrayList<>();
            for (String sink : sinks) {
                try {
                    known.get(sink).run(messages);
                } catch (Exception e) {
                    System.out.printf("%n%s failed: %s%n", sink, e);
                    failed.add(sink);
                }
            }
            if (!failed.isEmpty()) {
                throw new IllegalStateException("failed: " + failed);
            }
        }));
    }

    private static void mqtt(int messages) throws Exception {
        String prefix = Names.unique("pg-tide-bench/");
        AtomicInteger received = new AtomicInteger();
        MqttClient subscriber = new MqttClient("tcp://127.0.0.1:1883", "pg-tide-bench-sub", new MemoryPersistence());
        // a callback, not subscribe(..., IMqttMessageListener[]): that overload of paho 1.2.5 recurses forever
        subscriber.setCallback(new MqttMessageCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                received.incrementAndGet();
            }
        });
        subscriber.connect(new MqttConnectionOptions());
        subscriber.subscribe(prefix + "/#", 1);
        try (TestDatabase db = TestDatabase.withExtension()) {
            double rate = BenchmarkMain.drain(db, messages, "orders-to-mqtt", "\"orders/${header.pg_tide_key}\"",
                    "\"" + prefix + "/${header.pg_tide_key}\"", "{{mqtt.brokerUrl:tcp://localhost:1883}}",
                    "tcp://127.0.0.1:1883");
            // the subscriber trails the relay: wait until its count stops moving (Mosquitto drops QoS 1 messages
            // beyond max_queued_messages, 1000 by default, for a subscriber that falls behind)
            for (int seen = -1; seen != received.get(); Thread.sleep(1000)) {
                seen = received.get();
            }
            BenchmarkMain.report("outbox -> MQTT 5 (Mosquitto, QoS 1, topic per key, user properties)", messages,
                    rate, received.get() + " messages at the subscriber");
        } finally {
            subscriber.disconnect();
            subscriber.close();
        }
    }

    private static void nats(int messages) throws Exception {
        String name = Names.unique("pgtidebench");
        String subject = "pg-tide-bench." + name;
        try (Connection nats = Nats.connect("nats://127.0.0.1:4222"); TestDatabase db = TestDatabase.withExtension()) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(name).subjects(subject)
                    .duplicateWindow(Duration.ofMinutes(2)).build());
            try {
                double rate = BenchmarkMain.drain(db, messages, "orders-to-nats", "nats:orders", "nats:" + subject,
                        "{{nats.servers:localhost:4222}}", "127.0.0.1:4222");
                long stored = jsm.getStreamInfo(name).getStreamState().getMsgCount();
                BenchmarkMain.report("outbox -> NATS JetStream (file stream, sync publish + ack, Nats-Msg-Id)", messages, rate,
                        stored + " messages in the stream");
            } finally {
                jsm.deleteStream(name);
            }
        }
    }

    private static void redis(int messages) throws Exception {
        String stream = Names.unique("pg-tide-bench:");
        try (RedisClient redis = RedisClient.create("redis://127.0.0.1:6379"); TestDatabase db = TestDatabase.withExtension()) {
            try {
                double rate = BenchmarkMain.drain(db, messages, "orders-to-redis", "\"pg-tide:orders\"",
                        "\"" + stream + "\"", "{{redis.url:redis://localhost:6379}}", "redis://127.0.0.1:6379");
                BenchmarkMain.report("outbox -> Redis stream (XADD per message, pipelined per batch)", messages, rate,
                        redis.xlen(stream) + " entries in the stream");
            } finally {
                redis.del(stream);
            }
        }
    }
}
