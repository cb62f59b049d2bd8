package io.pgtide.relay.bench;

import io.pgtide.relay.testing.MqttMessageCallback;
import io.pgtide.relay.testing.Names;
import io.pgtide.relay.testing.TestDatabase;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * Backlog drain through examples/routes/orders-to-mqtt.yaml to the machine's Mosquitto (QoS 1, one publish per
 * message, PUBACK awaited), with one QoS 1 subscriber on the topics. Prints msg/s from the first advanced offset
 * to the last row.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.MqttSinkBenchmark [-Dbench.messages=20000]</pre>
 */
public final class MqttSinkBenchmark {

    private MqttSinkBenchmark() {
    }

    public static void main(String[] args) {
        BenchmarkMain.exit(MqttSinkBenchmark::run);
    }

    private static void run(int messages) throws Exception {
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
}
