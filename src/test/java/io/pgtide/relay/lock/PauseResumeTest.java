package io.pgtide.relay.lock;

import static io.pgtide.relay.testing.Pipelines.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.Cli;
import io.pgtide.relay.testing.Locks;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.Producers;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.TableSink;
import io.pgtide.relay.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 2: {@code tide.relay_pause} stops a pipeline on every relay of the group within two lock intervals,
 * with at most the batch in flight delivered after it returns and nothing lost; the pause outlives a restart of the
 * relays, and {@code pg-tide resume} continues from the offset.
 */
class PauseResumeTest {

    private static final String PIPELINE = "paused-orders";
    private static final int BATCH = 20;
    private static final long LOCK_INTERVAL_MILLIS = 500;
    private static final Map<String, String> RELAY = Map.of(RelaySettings.LOCK_INTERVAL.name(), String.valueOf(LOCK_INTERVAL_MILLIS));

    @Test
    void pauseStopsBothRelaysSurvivesARestartAndResumeContinuesFromTheOffset(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            TableSink sink = TableSink.create(db, routes, PIPELINE, "orders?batchSize=" + BATCH + "&delay=100");
            List<Long> committed;
            long resumedAfter;
            String[] offsetAtResume;
            try (Producers producers = Producers.background(db, "orders", 2, 200)) {
                try (RelayHarness a = RelayHarness.start(db, routes, "relay-a", RELAY);
                     RelayHarness b = RelayHarness.start(db, routes, "relay-b", RELAY)) {
                    await(Duration.ofSeconds(30), "the pipeline to deliver", () -> sink.lastArrival() > 100);

                    assertEquals(Boolean.TRUE, db.queryOne(Boolean.class, "SELECT tide.relay_pause(?)", PIPELINE));
                    long arrivedAtPause = sink.lastArrival();
                    long paused = System.nanoTime();
                    await(Duration.ofSeconds(5), "both relays to stop the pipeline and free its lock",
                            () -> !running(a) && !running(b) && !Locks.held(db, "relay-a", PIPELINE)
                                    && !Locks.held(db, "relay-b", PIPELINE));
                    long stoppedMillis = (System.nanoTime() - paused) / 1_000_000;
                    assertTrue(stoppedMillis <= 2 * LOCK_INTERVAL_MILLIS, "stopped " + stoppedMillis + " ms after the pause");

                    Thread.sleep(4 * LOCK_INTERVAL_MILLIS);
                    long arrivedSince = sink.lastArrival() - arrivedAtPause;
                    assertTrue(arrivedSince <= BATCH, arrivedSince + " messages delivered after the pause returned");
                    assertFalse(a.owns(PIPELINE) || b.owns(PIPELINE), "a relay took the paused pipeline again");
                    assertTrue(metrics(a).contains("pg_tide_relay_paused{outbox=\"orders\",pipeline=\"" + PIPELINE
                            + "\"} 1.0"), "the paused metric");
                }

                try (RelayHarness restarted = RelayHarness.start(db, routes, "relay-c", RELAY)) {
                    long before = sink.lastArrival();
                    Thread.sleep(4 * LOCK_INTERVAL_MILLIS);
                    assertFalse(restarted.owns(PIPELINE) || running(restarted), "a restarted relay ran the paused pipeline");
                    assertEquals(before, sink.lastArrival(), "nothing delivered while paused");
                    assertTrue(Pipelines.offset(db, PIPELINE) > 0);

                    resumedAfter = sink.lastArrival();
                    offsetAtResume = db.queryOne(String.class, "SELECT last_tx || ' ' || last_id FROM"
                            + " tide.relay_consumer_offsets WHERE pipeline = ?", PIPELINE).split(" ");
                    Cli.Result resume = Cli.run(Map.of(RelaySettings.POSTGRES_URL.name(), db.url().jdbcUrl()
                            + "?user=postgres&password=postgres"), "resume", PIPELINE);
                    assertEquals(0, resume.exit(), resume.output());
                    assertTrue(resume.output().endsWith("pg-tide resume: pipeline \"" + PIPELINE + "\" resumed; a relay"
                            + " starts it from its offset within a lock interval"), resume.output());
                    await(Duration.ofSeconds(10), "the resumed pipeline to deliver", () -> sink.lastArrival() > resumedAfter);
                    committed = producers.stop();
                    long last = Pipelines.lastRow(db, "orders");
                    await(Duration.ofSeconds(30), "the offset to reach the last row", () -> Pipelines.offset(db, PIPELINE) == last);
                }
            }
            assertEquals(sink.outboxAfter("orders", offsetAtResume[0], Long.parseLong(offsetAtResume[1])),
                    sink.idsAfter(resumedAfter), "after the resume, exactly the rows after the offset, in order");
            Set<Long> lost = new HashSet<>(committed);
            lost.removeAll(sink.idsAfter(0));
            assertTrue(lost.isEmpty(), lost.size() + " of " + committed.size() + " committed messages lost");
        }
    }

    @Test
    void pausingAnUnknownPipelineNamesItAndThePauseIsReportedOnce(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withOutbox("orders")) {
            db.execute("SELECT count(*) FROM tide.relay_poll('p1', 'orders')");
            Exception unknown = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> db.execute("SELECT tide.relay_pause('nope')"));
            assertTrue(unknown.getMessage().contains("pipeline \"nope\" is not registered in relay group \"default\""),
                    unknown.getMessage());
            assertEquals(Boolean.TRUE, db.queryOne(Boolean.class, "SELECT tide.relay_pause('p1')"));
            assertEquals(Boolean.FALSE, db.queryOne(Boolean.class, "SELECT tide.relay_pause('p1')"));
            assertEquals(Boolean.TRUE, db.queryOne(Boolean.class, "SELECT tide.relay_paused('p1')"));
            assertEquals("postgres", db.queryOne(String.class, "SELECT paused_by FROM tide.consumer_lag WHERE pipeline = 'p1'"));
            db.execute("SELECT tide.outbox_publish('orders', '{}')");
            assertEquals(0L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_poll('p1', 'orders')"),
                    "a paused pipeline polls nothing");
            assertEquals(Boolean.TRUE, db.queryOne(Boolean.class, "SELECT tide.relay_resume('p1')"));
            assertEquals(Boolean.FALSE, db.queryOne(Boolean.class, "SELECT tide.relay_resume('p1')"));
            assertEquals(1L, db.queryOne(Long.class, "SELECT count(*) FROM tide.relay_poll('p1', 'orders')"));
        }
    }

    private static boolean running(RelayHarness relay) {
        var status = relay.context().getRouteController().getRouteStatus(PIPELINE);
        return status != null && status.isStarted();
    }

    private static String metrics(RelayHarness relay) throws Exception {
        await(Duration.ofSeconds(5), "the sampler to read the pause", () -> fetch(relay).contains("pg_tide_relay_paused{"));
        return fetch(relay);
    }

    private static String fetch(RelayHarness relay) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(relay.managementUrl() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
