package io.pgtide.relay.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads what the relay wrote to Kafka. */
public final class Kafka {

    private Kafka() {
    }

    public static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        createTopic(bootstrap, topic, partitions, Map.of());
    }

    /** A topic with topic-level settings (e.g. {@code message.timestamp.type=LogAppendTime}). */
    public static void createTopic(String bootstrap, String topic, int partitions, Map<String, String> configs)
            throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(Set.of(new NewTopic(topic, partitions, (short) 1).configs(configs))).all().get();
        }
    }

    /** Every record of a one-partition topic from the start, waiting until at least {@code atLeast} arrived. */
    public static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic, int atLeast,
            Duration timeout) {
        Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "enable.auto.commit", "false",
                "isolation.level", "read_committed");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = fromBeginning(config, topic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < atLeast && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // anything sent in the same moment as the last expected record
            consumer.poll(Duration.ofMillis(300)).forEach(records::add);
        }
        return records;
    }

    /**
     * How many copies of each message id ({@code pg_tide_id}) a one-partition topic holds, reading until
     * every expected id has arrived (duplicates do not count towards that) or the timeout passes.
     */
    public static Map<Long, Integer> copiesById(String bootstrap, String topic, java.util.Collection<Long> expected,
            Duration timeout) {
        Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "enable.auto.commit", "false");
        Map<Long, Integer> copies = new java.util.HashMap<>();
        Set<Long> missing = new java.util.HashSet<>(expected);
        try (KafkaConsumer<String, String> consumer = fromBeginning(config, topic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!missing.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    long id = Long.parseLong(header(record, "pg_tide_id"));
                    copies.merge(id, 1, Integer::sum);
                    missing.remove(id);
                }
            }
            // anything sent after the last expected record, to see extra copies and strangers
            consumer.poll(Duration.ofMillis(500)).forEach(r -> copies.merge(Long.parseLong(header(r, "pg_tide_id")), 1,
                    Integer::sum));
        }
        return copies;
    }

    /** The {@code pg_tide_id} of every record of a one-partition topic, in partition order, up to its end offset now. */
    public static List<Long> idsInOrder(String bootstrap, String topic, Duration timeout) {
        Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "enable.auto.commit", "false",
                "max.poll.records", "5000");
        List<Long> ids = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition), timeout).get(partition);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (consumer.position(partition, timeout) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("read " + ids.size() + " of " + end + " records of " + topic
                            + " in " + timeout.toSeconds() + " s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(r -> ids.add(Long.parseLong(header(r, "pg_tide_id"))));
            }
        }
        return ids;
    }

    public static String header(ConsumerRecord<String, String> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A consumer of partition 0 of the topic, positioned at its first record. */
    private static KafkaConsumer<String, String> fromBeginning(Map<String, Object> config, String topic) {
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        TopicPartition partition = new TopicPartition(topic, 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        return consumer;
    }
}
