package io.pgtide.relay.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.RowMapper;

/** Polled rows become OutboxRows read straight from the driver; any other result keeps camel-sql's column maps. */
class OutboxRowMapperFactoryTest {

    private final OutboxRowMapperFactory factory = new OutboxRowMapperFactory();

    @Test
    void aPollBecomesOutboxRowsAndAnyOtherQueryColumnMaps() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("SELECT tide.outbox_publish('orders', '{\"n\": 1}', '{\"type\": \"created\", \"v\": 2}', 'k1')");
            db.execute("SELECT tide.outbox_publish('orders', '{\"n\": 2}', NULL, NULL)");

            List<?> polled = query(db, "SELECT * FROM tide.relay_poll('p', 'orders')");
            assertEquals(2, polled.size());
            OutboxRow first = assertInstanceOf(OutboxRow.class, polled.get(0));
            OutboxRow second = assertInstanceOf(OutboxRow.class, polled.get(1));
            Map<?, ?> expected = (Map<?, ?>) query(db, "SELECT * FROM tide.tide_outbox_messages ORDER BY tx, id LIMIT 1").get(0);
            long id = ((Number) expected.get("id")).longValue();
            assertEquals(new OutboxRow("p", "orders", id, expected.get("tx").toString(),
                    "k1", "{\"n\": 1}", "{\"v\": 2, \"type\": \"created\"}", first.created(), "orders:" + id), first);
            assertEquals(((java.sql.Timestamp) expected.get("created_at")).toInstant(), CreatedAt.parse(first.created()),
                    "created_at as PostgreSQL prints it, read back to the instant the row holds");
            assertEquals(CreatedAt.parse(first.created()), CreatedAt.parse(OutboxRow.of(expected).created()),
                    "a column map's created_at reads as the same instant");
            assertEquals(null, second.key());
            assertEquals(OutboxRow.of(expected).payload(), first.payload());

            List<?> other = query(db, "SELECT 1 AS id, 'x' AS outbox_name");
            Map<?, ?> row = assertInstanceOf(Map.class, other.get(0));
            assertEquals(1, row.get("ID"));
            assertEquals("x", row.get("outbox_name"));
        }
    }

    private List<?> query(TestDatabase db, String sql) throws Exception {
        RowMapper<?> mapper = factory.newColumnRowMapper();
        List<Object> rows = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(mapper.mapRow(rs, rows.size()));
            }
        }
        return rows;
    }
}
