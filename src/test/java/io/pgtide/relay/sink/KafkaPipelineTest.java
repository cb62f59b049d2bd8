package io.pgtide.relay.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgtide.relay.testing.Kafka;
import io.pgtide.relay.testing.KafkaPerClass;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The shipped outbox → Kafka pipeline, end to end against a real broker. */
class KafkaPipelineTest {

    @RegisterExtension
    static final KafkaPerClass broker = new KafkaPerClass();

    @Test
    void tenThousandMessagesFromConcurrentProducersArriveInOrderWithKeysAndHeaders(@TempDir Path routes)
            throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            Kafka.createTopic(broker.bootstrapServers(), "orders-e2e", 1);
            Pipelines.kafkaPipeline(routes, "orders-to-kafka", "orders", "orders-e2e", broker.bootstrapServers());
            List<Long> committed = Producers.publish(db, "orders", 4, 10_000);

            try (RelayHarness relay = RelayHarness.start(db, routes, "relay-a")) {
                long last = Pipelines.lastRow(db, "orders");
                Pipelines.await(Duration.ofSeconds(90), "the offset to reach the last row",
                        () -> Pipelines.offset(db, "orders-to-kafka") == last);
            }

            List<ConsumerRecord<String, String>> records =
                    Kafka.readAll(broker.bootstrapServers(), "orders-e2e", 10_000, Duration.ofSeconds(30));
            assertEquals(10_000, records.size(), "each message exactly once when nothing failed");
            Map<Long, String[]> rows = rowsById(db);
            List<Long> expectedOrder = db.queryList(Long.class, "SELECT id FROM tide.tide_outbox_messages ORDER BY tx, id");
            List<Long> delivered = new ArrayList<>();
            for (ConsumerRecord<String, String> record : records) {
                long id = Long.parseLong(Kafka.header(record, "pg_tide_id"));
                delivered.add(id);
                String[] row = rows.get(id);
                assertEquals("orders:" + id, Kafka.header(record, "pg_tide_message_id"));
                assertEquals(row[0], record.key(), "record key = the row's key");
                assertEquals(row[1], record.value(), "record value = the payload");
                assertEquals("order.created", Kafka.header(record, "type"));
                assertEquals(row[2], Kafka.header(record, "n"));
            }
            assertEquals(new HashSet<>(committed), new HashSet<>(delivered));
            assertEquals(expectedOrder, delivered, "records in (tx, id) order");
            assertEquals(expectedOrder.get(expectedOrder.size() - 1), Pipelines.offset(db, "orders-to-kafka"));
        }
    }

    private static Map<Long, String[]> rowsById(TestDatabase db) throws Exception {
        Map<Long, String[]> rows = new HashMap<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, key, payload::text, headers->>'n' FROM tide.tide_outbox_messages")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), new String[] {rs.getString(2), rs.getString(3), rs.getString(4)});
            }
        }
        return rows;
    }
}
