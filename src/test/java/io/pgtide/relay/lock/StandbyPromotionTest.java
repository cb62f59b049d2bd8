package io.pgtide.relay.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.PgCluster;
import io.pgtide.relay.testing.PipelineYaml;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invariant 5 of docs/DESIGN.md: beside a hot standby the relay takes no lock and runs no pipeline (advisory locks
 * would work there); once the standby is promoted it starts within seconds and delivers from the offset.
 */
class StandbyPromotionTest {

    private static final String PIPELINE = PipelineYaml.logging("orders-out", "orders");

    @Test
    void aRelayBesideAStandbyIdlesAndStartsAfterPromotion(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("orders-out.yaml"), PIPELINE);
        try (PgCluster primary = PgCluster.primary()) {
            try (Connection c = primary.connect("postgres"); Statement st = c.createStatement()) {
                st.execute("CREATE EXTENSION pg_tide");
                st.execute("SELECT tide.outbox_create('orders')");
                st.execute("SELECT count(*) FROM tide.relay_poll('orders-out', 'orders')");
                for (int i = 0; i < 20; i++) {
                    st.execute("SELECT tide.outbox_publish('orders', '{}')");
                }
            }
            try (PgCluster standby = primary.replica()) {
                awaitReplayed(standby, 20);
                try (RelayHarness relay = RelayHarness.start(standby.jdbcUrl("postgres") + "?user=postgres", routes,
                        "beside-standby", Map.of())) {
                    Thread.sleep(2000);
                    assertFalse(relay.owns("orders-out"), "no pipeline runs beside a standby");
                    assertEquals(0, advisoryLocks(standby), "no lock taken on the standby");
                    HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(relay.managementUrl() + "/observe/health/ready")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, ready.statusCode(), "ready and idle beside a standby: " + ready.body());

                    primary.close();
                    long promoted = System.nanoTime();
                    standby.promote();
                    long last = 20;
                    while (offset(standby) < last) {
                        assertTrue(System.nanoTime() - promoted < Duration.ofSeconds(5).toNanos(),
                                "delivering within 5 s of promotion");
                        Thread.sleep(50);
                    }
                    assertTrue(relay.owns("orders-out"));
                }
            }
        }
    }

    private static void awaitReplayed(PgCluster standby, long rows) throws Exception {
        Pipelines.await(Duration.ofSeconds(30), "the standby to replay the outbox", () -> replayedRows(standby) >= rows);
    }

    /** The outbox rows the standby has replayed, or -1 while it still starts up. */
    private static long replayedRows(PgCluster standby) {
        try (Connection c = standby.connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM tide.tide_outbox_messages")) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    private static long advisoryLocks(PgCluster cluster) throws Exception {
        try (Connection c = cluster.connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long offset(PgCluster cluster) throws Exception {
        try (Connection c = cluster.connect("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT last_id FROM tide.relay_consumer_offsets")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }
}
