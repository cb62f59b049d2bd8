package io.pgtide.relay.testing;

import io.opentelemetry.api.OpenTelemetry;
import io.pgtide.relay.Relay;
import io.pgtide.relay.config.RelaySettings;
import io.pgtide.relay.db.Database;
import io.pgtide.relay.trace.Tracing;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.camel.CamelContext;

/** A relay running in this JVM against a test database, with its own instance name. */
public record RelayHarness(Database database, Relay relay, String instance, int metricsPort, CamelContext context)
        implements AutoCloseable {

    /** Starts a relay on the database with the route files of a folder. */
    public static RelayHarness start(TestDatabase db, Path routes, String instance) throws Exception {
        return start(db, routes, instance, Map.of());
    }

    public static RelayHarness start(TestDatabase db, Path routes, String instance, Map<String, String> extra)
            throws Exception {
        return start(db.url().jdbcUrl() + "?user=postgres&password=postgres", routes, instance, extra);
    }

    /** Starts a relay whose spans, when its settings turn tracing on, go to the given OpenTelemetry. */
    public static RelayHarness start(TestDatabase db, Path routes, String instance, Map<String, String> extra,
            OpenTelemetry openTelemetry) throws Exception {
        return start(db.url().jdbcUrl() + "?user=postgres&password=postgres", routes, instance, extra,
                settings -> Tracing.fromSettings(settings, openTelemetry));
    }

    /** Starts a relay on any database URL. */
    public static RelayHarness start(String url, Path routes, String instance, Map<String, String> extra)
            throws Exception {
        return start(url, routes, instance, extra, Tracing::fromSettings);
    }

    private static RelayHarness start(String url, Path routes, String instance, Map<String, String> extra,
            Function<RelaySettings, Tracing> tracing) throws Exception {
        Map<String, String> env = new HashMap<>(extra);
        env.put(RelaySettings.POSTGRES_URL.name(), url);
        env.put(RelaySettings.ROUTES.name(), routes.toString());
        env.put(RelaySettings.INSTANCE.name(), instance);
        env.putIfAbsent(RelaySettings.LOCK_INTERVAL.name(), "200");
        env.putIfAbsent(RelaySettings.POOL_SIZE.name(), "4");
        env.putIfAbsent(RelaySettings.METRICS_PORT.name(), String.valueOf(FreePort.next()));
        env.putIfAbsent(RelaySettings.METRICS_INTERVAL.name(), "500");
        // several relays share this JVM: the CLI connector of one would delete the others' ~/.camel files
        env.putIfAbsent(RelaySettings.CAMEL_CLI.name(), "false");
        RelaySettings settings = new RelaySettings(env::get);
        Database database = new Database(settings.postgresUrl(), settings.group(), settings.instance(),
                settings.value(RelaySettings.POOL_SIZE));
        Relay relay = new Relay(settings, database, tracing.apply(settings));
        return new RelayHarness(database, relay, instance, settings.value(RelaySettings.METRICS_PORT), relay.start());
    }

    /** Base URL of the metrics and health endpoints. */
    public String managementUrl() {
        return "http://127.0.0.1:" + metricsPort;
    }

    /** True while this relay owns the pipeline. */
    public boolean owns(String pipeline) {
        return relay.locks().owns(pipeline);
    }

    @Override
    public void close() throws Exception {
        relay.stop();
        database.close();
    }
}
