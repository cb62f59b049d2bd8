package io.pgtide.relay.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.ChildRelay;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch is bounded in bytes as well as rows: 40 messages of 5 MiB (200 MiB, more than the whole heap) pass through
 * a relay started as shipped (bin/pg-tide's default -Xmx160m), each delivered whole, and the relay stays up.
 */
class LargeMessagesTest {

    private static final int MESSAGES = 40;
    private static final int BLOB = 5 * 1024 * 1024;

    @TempDir
    Path routes;

    @Test
    void fortyMessagesOfFiveMibPassThroughTheDefaultHeap() throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("big")) {
            db.execute("CREATE TABLE delivered (id bigint, chars bigint)");
            // random text: a message keeps its size in memory whatever TOAST makes of it on disk
            db.execute("SELECT tide.outbox_publish('big', jsonb_build_object('blob', string_agg(md5(i::text || ':' || n::text), '')))"
                    + " FROM generate_series(1, " + MESSAGES + ") n, generate_series(1, " + BLOB / 32 + ") i GROUP BY n");
            Files.writeString(routes.resolve("big.yaml"), """
                    - route:
                        id: big-to-table
                        from:
                          uri: tide:big
                          steps:
                            - split:
                                simple: "${body}"
                                stopOnException: true
                                steps:
                                  - to: "sql:INSERT INTO delivered (id, chars) VALUES (:#${header.pg_tide_id}::bigint, :#${body.length()}::bigint)?dataSource=#pgTide"
                    """);
            try (ChildRelay relay = ChildRelay.startAsShipped(db, routes, "large", Map.of())) {
                Pipelines.await(Duration.ofSeconds(120), MESSAGES + " large messages delivered",
                        () -> db.queryOne(Long.class, "SELECT count(*) FROM delivered") >= MESSAGES || !relay.process().isAlive());
                assertTrue(relay.process().isAlive(), "the relay is still up:\n" + relay.output());
                assertFalse(relay.output().contains("OutOfMemoryError"), relay.output());
            }
            assertEquals(MESSAGES, db.queryOne(Long.class, "SELECT count(DISTINCT id) FROM delivered"));
            assertEquals(Boolean.TRUE, db.queryOne(Boolean.class, "SELECT bool_and(chars > " + BLOB + ") FROM delivered"),
                    "each message delivered whole");
        }
    }
}
