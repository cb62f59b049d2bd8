package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The relay's Kafka producers send what they hold when a send's result is awaited without a time limit, not when
 * linger.ms runs out.
 */
class FlushingKafkaClientFactoryTest {

    private static final String TOPIC = "flush-on-await";

    /** An untimed wait, which flushes; the test gives it 30 s, far less than the linger. */
    private static RecordMetadata awaited(Future<RecordMetadata> sent) {
        return assertTimeoutPreemptively(Duration.ofSeconds(30), () -> sent.get());
    }

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
                    assertEquals(i, awaited(batch.get(i)).offset(), "record " + i + " acknowledged in order");
                }
                // a record sent after that flush is flushed again by its own wait
                assertEquals(100, awaited(producer.send(new ProducerRecord<>(TOPIC, "key", "later"))).offset());
                // a wait with a time limit keeps it, and does not flush
                Future<RecordMetadata> timed = producer.send(new ProducerRecord<>(TOPIC, "key", "timed"));
                assertThrows(TimeoutException.class, () -> timed.get(1, TimeUnit.SECONDS));
                assertEquals(101, awaited(timed).offset());
            }
        }
    }
}
