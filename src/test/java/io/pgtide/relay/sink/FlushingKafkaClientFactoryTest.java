package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The relay's Kafka producers send what they hold when a send's result is awaited, not when linger.ms runs out. */
class FlushingKafkaClientFactoryTest {

    private static final String TOPIC = "flush-on-await";

    @Test
    @SuppressWarnings("unchecked")
    void awaitingASendFlushesTheProducer() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start()) {
            Kafka.createTopic(broker.bootstrapServers(), TOPIC, 1);
            Properties config = new Properties();
            config.put("bootstrap.servers", broker.bootstrapServers());
            config.put("key.serializer", StringSerializer.class.getName());
            config.put("value.serializer", StringSerializer.class.getName());
            config.put("acks", "all");
            config.put("enable.idempotence", "true");
            // far longer than the test may take: only the flush on await gets the records out in time
            config.put("linger.ms", "600000");
            try (Producer<String, String> producer = new FlushingKafkaClientFactory().getProducer(config)) {
                List<Future<RecordMetadata>> batch = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    batch.add(producer.send(new ProducerRecord<>(TOPIC, "key", "message " + i)));
                }
                for (int i = 0; i < batch.size(); i++) {
                    assertEquals(i, batch.get(i).get(30, TimeUnit.SECONDS).offset(), "record " + i + " acknowledged in order");
                }
                // a record sent after that flush is flushed again by its own wait
                Future<RecordMetadata> later = producer.send(new ProducerRecord<>(TOPIC, "key", "later"));
                assertEquals(100, later.get(30, TimeUnit.SECONDS).offset());
            }
        }
    }
}
