package io.pgtide.relay.route;

import static io.pgtide.relay.testing.Pipelines.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.SettingException;
import io.pgtide.relay.route.PipelineSource;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TableSink;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 1: the {@code start} option of a pipeline's source. {@code latest} skips the backlog and delivers
 * what comes after it registers; a timestamp starts at the first message created then; {@code consumer_lag} says
 * which; a registered pipeline keeps its offset whatever its file says later.
 */
class StartPositionTest {

    @Test
    void latestSkipsTheBacklogAndDeliversWhatComesAfter(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            publish(db, 50);
            TableSink sink = TableSink.create(db, routes, "from-latest", "orders?start=latest&delay=100");
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(10), "the pipeline to register", () -> Pipelines.offset(db, "from-latest") >= 0);
                assertEquals(Pipelines.lastRow(db, "orders"), Pipelines.offset(db, "from-latest"), "registered at the end");
                List<Long> after = publish(db, 10);
                await(Duration.ofSeconds(10), "the new messages", () -> Pipelines.offset(db, "from-latest") == after.get(9));
                Thread.sleep(500);
                assertEquals(after, sink.idsAfter(0), "only the messages published after it registered, in order");
            }
            assertEquals("latest", db.queryOne(String.class,
                    "SELECT start_position FROM tide.consumer_lag WHERE pipeline = 'from-latest'"));
        }
    }

    @Test
    void aTimestampStartsAtTheFirstMessageCreatedThen(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            publish(db, 30);
            Thread.sleep(50);
            Instant start = db.queryOne(java.sql.Timestamp.class, "SELECT now()").toInstant();
            List<Long> expected = publish(db, 20);
            TableSink sink = TableSink.create(db, routes, "from-time", "orders?delay=100&start=" + start);
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay")) {
                await(Duration.ofSeconds(10), "the pipeline to deliver", () -> Pipelines.offset(db, "from-time") == expected.get(19));
                Thread.sleep(500);
                assertEquals(expected, sink.idsAfter(0), "the messages from the timestamp on, in order");
            }
            assertEquals(Boolean.TRUE, db.queryOne(Boolean.class,
                    "SELECT start_position::timestamptz = ?::timestamptz FROM tide.consumer_lag WHERE pipeline = 'from-time'",
                    start.toString()));
        }
    }

    @Test
    void aRegisteredPipelineKeepsItsOffsetAndABadStartIsRefusedByName() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            publish(db, 5);
            db.execute("SELECT tide.relay_register('p1', 'orders')");
            db.execute("SELECT tide.relay_register('p1', 'orders', NULL, 'latest')");
            assertEquals(0L, Pipelines.offset(db, "p1"));
            SQLException bad = assertThrows(SQLException.class,
                    () -> db.execute("SELECT tide.relay_register('p2', 'orders', NULL, 'yesterday-ish')"));
            assertTrue(bad.getMessage().contains("start position 'yesterday-ish' of pipeline \"p2\" is not earliest,"
                    + " latest or a timestamp"), bad.getMessage());
        }
        SettingException refused = assertThrows(SettingException.class, () -> PipelineSource.parse("tide:orders?start=soon"));
        assertTrue(refused.getMessage().startsWith("tide:orders?start=soon: start=soon is not where a new pipeline starts"),
                refused.getMessage());
    }

    private static List<Long> publish(TestDatabase db, int count) throws SQLException {
        return db.queryList(Long.class, "SELECT tide.outbox_publish('orders', jsonb_build_object('n', g))"
                + " FROM generate_series(1, ?) g", count);
    }
}
