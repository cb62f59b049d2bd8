package io.pgtide.relay.trace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.pgtide.relay.config.RelaySettings;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.support.service.ServiceSupport;

/**
 * The relay's tracing ({@code PG_TIDE_TRACING}): off, or a tracer whose spans OpenTelemetry's SDK exports as the
 * usual {@code OTEL_*} variables say. As a Camel service it stops after the routes, so the last spans are flushed.
 */
public final class Tracing extends ServiceSupport {

    /** Defaults any OTEL_* variable or otel.* property overrides: the relay's metrics are Prometheus's, not OTLP's. */
    private static final Map<String, String> DEFAULTS = Map.of(
            "otel.service.name", "pg-tide",
            "otel.metrics.exporter", "none",
            "otel.logs.exporter", "none");
    private static final String SCOPE = "io.pgtide.relay";

    private final Tracer tracer;
    private final OpenTelemetrySdk owned;

    private Tracing(Tracer tracer, OpenTelemetrySdk owned) {
        this.tracer = tracer;
        this.owned = owned;
    }

    /** Off unless the setting turns it on; then an SDK configured from the environment. */
    public static Tracing fromSettings(RelaySettings settings) {
        if (!settings.value(RelaySettings.TRACING)) {
            return new Tracing(null, null);
        }
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> DEFAULTS)
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
        return new Tracing(sdk.getTracer(SCOPE), sdk);
    }

    /** Off unless the setting turns it on; then spans go to the given OpenTelemetry, which its owner closes. */
    public static Tracing fromSettings(RelaySettings settings, OpenTelemetry openTelemetry) {
        return new Tracing(settings.value(RelaySettings.TRACING) ? openTelemetry.getTracer(SCOPE) : null, null);
    }

    /** The per-message send spans, when tracing is on. */
    public Optional<SendSpans> sendSpans() {
        return tracer == null ? Optional.empty() : Optional.of(new SendSpans(tracer));
    }

    @Override
    protected void doStop() {
        if (owned != null) {
            owned.close();
        }
    }
}
