package io.pgtide.relay.health;

import static io.pgtide.relay.testing.Pipelines.await;
import static io.pgtide.relay.testing.Pipelines.lastRow;
import static io.pgtide.relay.testing.Pipelines.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.testing.Cli;
import io.pgtide.relay.testing.Promtool;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TableSink;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 5: {@code tide.consumer_lag} tells per pipeline whether it runs, retries, fails, is paused or has no
 * owner, with its last error, failed sends and dead letters; the relay's metrics, {@code pg-tide status} and
 * {@code pg-tide doctor} say the same. The sink is a real one that goes down: the table the pipeline writes to
 * refuses rows while {@code public.sink_down} has one (an operator-intervention error, which the relay retries).
 * The shipped alert {@code PgTidePipelineFailing}, evaluated by promtool over a real scrape, fires for it.
 */
class PipelineHealthTest {

    private static final String PIPELINE = "health-orders";
    private static final String DOWN = "sink down for maintenance";

    @TempDir
    Path work;

    @Test
    void theStateFollowsTheSinkAndStatusMetricsAndDoctorAgree(@TempDir Path routes) throws Exception {
        try (TestDatabase db = TestDatabase.withExtension()) {
            db.execute("SELECT tide.outbox_create('orders')");
            TableSink sink = TableSink.create(db, routes, PIPELINE, "orders?delay=100");
            db.execute("CREATE TABLE public.sink_down (reason text)");
            db.execute("""
                    CREATE FUNCTION public.refuse_while_down() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF EXISTS (SELECT FROM public.sink_down) THEN
                            RAISE EXCEPTION '%', (SELECT reason FROM public.sink_down LIMIT 1) USING ERRCODE = '57P03';
                        END IF;
                        RETURN NEW;
                    END $$""");
            db.execute("CREATE TRIGGER refuse BEFORE INSERT ON public.delivered"
                    + " FOR EACH ROW EXECUTE FUNCTION public.refuse_while_down()");
            db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 5)");
            Map<String, String> env = Map.of(RelaySettings.POSTGRES_URL.name(), db.url().jdbcUrl()
                    + "?user=postgres&password=postgres", RelaySettings.ROUTES.name(), routes.toString());
            try (RelayHarness relay = RelayHarness.start(db, routes, "relay-a")) {
                long first = lastRow(db, "orders");
                await(Duration.ofSeconds(20), "the first messages", () -> offset(db, PIPELINE) == first);
                assertEquals("running", state(db));
                assertEquals(0, failures(db));

                db.execute("INSERT INTO public.sink_down VALUES ('" + DOWN + "')");
                db.execute("SELECT tide.outbox_publish('orders', '{}') FROM generate_series(1, 3)");
                await(Duration.ofSeconds(10), "the pipeline to retry", () -> "retrying".equals(state(db)));
                assertTrue(db.queryOne(String.class, "SELECT last_error FROM tide.consumer_lag WHERE pipeline = ?",
                        PIPELINE).contains(DOWN), "the last error names the sink's own words");
                // five retries with backoff (0.5 s doubling, to 10 s) before the batch goes back to be polled again
                await(Duration.ofSeconds(40), "the pipeline to fail", () -> "failing".equals(state(db)));
                int failed = failures(db);
                assertTrue(failed >= 6, failed + " failed sends: the first and its five retries");

                await(Duration.ofSeconds(5), "the metrics to read the state",
                        () -> Double.valueOf(1).equals(metric(relay, "pg_tide_relay_pipeline_state", ",state=\"failing\"")));
                // sampled at or after the give-up; the view may count the next round's first send already
                assertTrue(metric(relay, "pg_tide_relay_consecutive_failures", "") >= 6);
                Promtool.assertSamples(Promtool.expression(Promtool.CNPG_RULES, "PgTidePipelineFailing"),
                        Scrape.metrics(relay.managementUrl() + "/metrics"), Promtool.CNPG_TARGET, Map.of("{cnpg_io_cluster=\"db\","
                                + " namespace=\"shop\", outbox=\"orders\", pipeline=\"" + PIPELINE + "\"}", 1.0), work);
                JsonNode status = status(env);
                assertEquals("failing", status.get("state").asText(), status.toString());
                assertTrue(status.get("last_error").asText().contains(DOWN), status.toString());
                Cli.Result doctor = Cli.run(env, "doctor");
                assertEquals(1, doctor.exit(), doctor.output());
                assertTrue(doctor.output().matches("(?s).*FAIL +pipeline " + PIPELINE + " \\(group default\\) +held by"
                        + " [^\n]*, failing: \\d+ failed send\\(s\\) since it last delivered[^\n]*" + DOWN + ".*"),
                        doctor.output());

                db.execute("DELETE FROM public.sink_down");
                long last = lastRow(db, "orders");
                await(Duration.ofSeconds(30), "the pipeline to deliver again", () -> offset(db, PIPELINE) == last);
                assertEquals("running", state(db));
                assertEquals(0, failures(db), "a delivery ends the run of failures");
                assertTrue(db.queryOne(String.class, "SELECT last_error FROM tide.consumer_lag WHERE pipeline = ?",
                        PIPELINE).contains(DOWN), "the last error stays for the record");
                await(Duration.ofSeconds(5), "the metrics to read the state",
                        () -> Double.valueOf(1).equals(metric(relay, "pg_tide_relay_pipeline_state", ",state=\"running\""))
                                && metric(relay, "pg_tide_relay_pipeline_state", ",state=\"failing\"") == null);
                assertEquals(8, sink.idsAfter(0).stream().distinct().count(), "every message delivered");

                db.queryOne(Boolean.class, "SELECT tide.relay_pause(?)", PIPELINE);
                await(Duration.ofSeconds(5), "the pipeline to show paused", () -> "paused".equals(state(db)));
                db.queryOne(Boolean.class, "SELECT tide.relay_resume(?)", PIPELINE);
                await(Duration.ofSeconds(5), "the pipeline to run again", () -> "running".equals(state(db)));
            }
            assertEquals("unowned", state(db), "no relay runs it");
            db.queryList(Long.class, "INSERT INTO tide.relay_dlq (relay_group, pipeline, outbox_name, message_id, tx,"
                    + " payload, headers, error, attempts) SELECT 'default', ?, outbox_name, id, tx, payload, headers,"
                    + " 'rejected', 1 FROM tide.tide_outbox_messages WHERE outbox_name = 'orders' ORDER BY id LIMIT 2"
                    + " RETURNING dlq_id", PIPELINE);
            assertEquals(2L, db.queryOne(Long.class, "SELECT open_dead_letters FROM tide.consumer_lag WHERE pipeline = ?",
                    PIPELINE));
            assertEquals(2, status(env).get("open_dead_letters").asInt());
        }
    }

    @Test
    void onlyTheLockHolderRecordsAFailureAndADeliveryClearsIt() throws Exception {
        try (TestDatabase db = TestDatabase.withExtension();
             Connection relay = db.connect(); Statement st = relay.createStatement()) {
            db.execute("SELECT tide.outbox_create('orders')");
            db.execute("SELECT tide.outbox_publish('orders', '{}')");
            db.execute("SELECT count(*) FROM tide.relay_poll('p1', 'orders')");
            SQLException refused = assertThrows(SQLException.class,
                    () -> st.execute("SELECT tide.relay_failed('p1', 'orders', 'broken')"));
            assertEquals("55P03", refused.getSQLState(), refused.getMessage());
            assertEquals(0, failures(db, "p1"));

            st.execute("SELECT pg_advisory_lock(tide.relay_lock_key('p1'))");
            st.execute("SELECT tide.relay_failed('p1', 'orders', 'broken')");
            st.execute("SELECT tide.relay_failed('p1', 'orders', 'broken again')");
            assertEquals(2, failures(db, "p1"));
            assertEquals("retrying", db.queryOne(String.class, "SELECT state FROM tide.consumer_lag WHERE pipeline = 'p1'"));
            st.execute("SELECT tide.relay_failed('p1', 'orders', 'gave up', true)");
            assertEquals(2, failures(db, "p1"), "giving up is not one more send");
            assertEquals("failing", db.queryOne(String.class, "SELECT state FROM tide.consumer_lag WHERE pipeline = 'p1'"));

            st.execute("SELECT tide.relay_advance('p1', 'orders', tx, id) FROM tide.tide_outbox_messages");
            assertEquals(0, failures(db, "p1"));
            assertEquals("running", db.queryOne(String.class, "SELECT state FROM tide.consumer_lag WHERE pipeline = 'p1'"));
            assertEquals("gave up", db.queryOne(String.class, "SELECT last_error FROM tide.consumer_lag WHERE pipeline = 'p1'"));
        }
    }

    private static String state(TestDatabase db) throws SQLException {
        return db.queryOne(String.class, "SELECT state FROM tide.consumer_lag WHERE pipeline = ?", PIPELINE);
    }

    private static int failures(TestDatabase db) throws SQLException {
        return failures(db, PIPELINE);
    }

    private static int failures(TestDatabase db, String pipeline) throws SQLException {
        return db.queryOne(Integer.class, "SELECT consecutive_failures FROM tide.consumer_lag WHERE pipeline = ?", pipeline);
    }

    /** The value of the pipeline's series of a metric, or null when it has none. */
    private static Double metric(RelayHarness relay, String name, String moreLabels) throws Exception {
        return Scrape.metrics(relay.managementUrl() + "/metrics")
                .get(name + "{outbox=\"orders\",pipeline=\"" + PIPELINE + "\"" + moreLabels + "}");
    }

    private static JsonNode status(Map<String, String> env) throws Exception {
        Cli.Result status = Cli.run(env, "status", "--json");
        assertEquals(0, status.exit(), status.output());
        return new ObjectMapper().readTree(status.output()).get("pipelines").get(0);
    }
}
