package io.pgtide.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, item 4: {@code pg-tide replay --preview} prints, as JSON lines in delivery order, exactly the messages a
 * rewind to {@code --from} would deliver again (up to the offset or {@code --to}), and moves nothing.
 */
class ReplayPreviewTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void printsWhatARewindWouldSendAgainAndMovesNothing() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders");
             Database database = new Database(db.url(), "default", "replay-test", 1);
             Connection relay = db.connect(); Statement st = relay.createStatement()) {
            List<Long> ids = new ArrayList<>(db.queryList(Long.class, "SELECT tide.outbox_publish('orders',"
                    + " jsonb_build_object('n', g), '{\"h\": \"v\"}', 'k' || g) FROM generate_series(1, 10) g"));
            Thread.sleep(50);
            Timestamp later = db.queryOne(Timestamp.class, "SELECT now()");
            ids.addAll(db.queryList(Long.class, "SELECT tide.outbox_publish('orders', jsonb_build_object('n', g))"
                    + " FROM generate_series(11, 15) g"));
            db.queryList(Long.class, "SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)"); // not delivered yet
            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('p1'))");
            st.execute("SELECT count(*) FROM tide.relay_poll('p1', 'orders')");
            st.execute("SELECT tide.relay_advance('p1', 'orders', tx, id) FROM tide.tide_outbox_messages WHERE id = " + ids.get(14));
            String offset = db.queryOne(String.class, "SELECT last_tx || ':' || last_id FROM tide.relay_consumer_offsets");

            List<JsonNode> fromId = replay(database, "--pipeline", "p1", "--from", String.valueOf(ids.get(7)), "--preview");
            assertEquals(ids.subList(7, 15), idsOf(fromId), "from message 8 on, up to the offset, in order");
            JsonNode first = fromId.get(0);
            assertEquals("orders", first.get("outbox").asText());
            assertEquals("k8", first.get("key").asText());
            assertEquals(8, first.get("payload").get("n").asInt());
            assertEquals("v", first.get("headers").get("h").asText());

            assertEquals(ids.subList(10, 15), idsOf(replay(database, "--pipeline", "p1", "--from", later.toInstant().toString(),
                    "--preview")), "from the timestamp on");
            String tx = db.queryOne(String.class, "SELECT tx::text FROM tide.tide_outbox_messages WHERE id = ?", ids.get(2));
            assertEquals(ids.subList(3, 6), idsOf(replay(database, "--pipeline", "p1", "--from", tx + ":" + ids.get(2),
                    "--to", String.valueOf(ids.get(5)), "--preview")), "after a position, through a message");
            assertEquals(ids.subList(0, 2), idsOf(replay(database, "--from", String.valueOf(ids.get(0)), "--pipeline", "p1",
                    "--limit", "2", "--preview")));

            assertEquals(offset, db.queryOne(String.class, "SELECT last_tx || ':' || last_id FROM tide.relay_consumer_offsets"),
                    "a preview moves nothing");
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_rewinds"));
        }
    }

    @Test
    void badArgumentsAreRefusedByName() {
        assertEquals("pg-tide replay: --from yesterday is not a message id, <tx>:<id> or an ISO-8601 timestamp such as"
                + " 2026-12-01T09:00:00Z (usage: " + Replay.USAGE + ")", refused("--pipeline", "p1", "--from", "yesterday", "--preview"));
        assertTrue(refused("--pipeline", "p1", "--from", "5").startsWith("pg-tide replay: --preview is required"));
        assertTrue(refused("--pipeline", "p1", "--from").startsWith("pg-tide replay: --from needs a value"));
        assertTrue(refused("--from", "5", "--preview").startsWith("pg-tide replay: --pipeline and --from are required"));
    }

    private static String refused(String... args) {
        return assertThrows(Arguments.UsageException.class, () -> Replay.Request.parse(List.of(args))).getMessage();
    }

    private List<JsonNode> replay(Database database, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, Replay.run(database, Replay.Request.parse(List.of(args)), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)), err.toString(StandardCharsets.UTF_8));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("preview only, nothing moved"), err.toString(StandardCharsets.UTF_8));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(json.readTree(line));
            }
        }
        return lines;
    }

    private static List<Long> idsOf(List<JsonNode> lines) {
        return lines.stream().map(line -> line.get("id").asLong()).toList();
    }
}
