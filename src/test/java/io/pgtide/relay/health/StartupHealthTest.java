package io.pgtide.relay.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.FreePort;
import io.pgtide.relay.testing.Pipelines;
import io.pgtide.relay.testing.RelayHarness;
import io.pgtide.relay.testing.Scrape;
import io.pgtide.relay.testing.TcpProxy;
import io.pgtide.relay.testing.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19 point 2: the health port answers from the first second, while the relay waits for a database that does
 * not answer yet: liveness UP (a kubelet must not kill a relay that only waits), readiness DOWN with the reason;
 * then Camel's server takes the port over once the database answers.
 */
class StartupHealthTest {

    @Test
    void theHealthPortAnswersWhileTheDatabaseIsUnreachable(@TempDir Path routes) throws Exception {
        int metricsPort = FreePort.next();
        String health = "http://127.0.0.1:" + metricsPort + "/observe/health";
        try (TestDatabase db = TestDatabase.withExtension(); TcpProxy database = TcpProxy.to(db.server().host(), db.server().port())) {
            database.cut();
            String url = "jdbc:postgresql://127.0.0.1:" + database.port() + "/" + db.name() + "?user=postgres&password=postgres";
            CompletableFuture<RelayHarness> relay = CompletableFuture.supplyAsync(() -> {
                try {
                    return RelayHarness.start(url, routes, "relay", Map.of("PG_TIDE_STARTUP_TIMEOUT_S", "60",
                            "PG_TIDE_METRICS_PORT", String.valueOf(metricsPort)));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Pipelines.await(Duration.ofSeconds(5), "the health port to answer", () -> answers(health + "/live"));
                Thread.sleep(2500);   // a failed connection attempt or two
                assertEquals(200, Scrape.get(health + "/live").statusCode(), "alive while waiting");
                HttpResponse<String> ready = Scrape.get(health + "/ready");
                assertEquals(503, ready.statusCode());
                assertTrue(ready.body().contains("waiting for the database"), ready.body());

                database.restore();
                Pipelines.await(Duration.ofSeconds(30), "Camel's server on the port",
                        () -> relay.isDone() && Scrape.get("http://127.0.0.1:" + metricsPort + "/metrics").statusCode() == 200);
                Pipelines.await(Duration.ofSeconds(10), "readiness from the relay",
                        () -> Scrape.get(health + "/ready").statusCode() == 200);
            } finally {
                database.restore();
                relay.get(60, TimeUnit.SECONDS).close();
            }
        }
    }

    private static boolean answers(String url) {
        try {
            return Scrape.get(url).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }
}
