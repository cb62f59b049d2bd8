package io.pgtide.relay.health;

import io.pgtide.relay.metrics.LagSampler;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness of the relay: the database answers and the route files have been read. A relay beside a
 * standby is ready and idle, and says so in its details; a broken route file is reported, not fatal,
 * because the other pipelines still run.
 */
public final class RelayReadiness extends AbstractHealthCheck {

    private final LagSampler sampler;
    private final Supplier<Integer> brokenRouteFiles;

    public RelayReadiness(LagSampler sampler, Supplier<Integer> brokenRouteFiles) {
        super("pg-tide", "relay");
        this.sampler = sampler;
        this.brokenRouteFiles = brokenRouteFiles;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        builder.detail("broken.route.files", brokenRouteFiles.get());
        if (!sampler.databaseReachable()) {
            builder.down().message("database not reachable: " + sampler.lastError());
            return;
        }
        builder.detail("standby", sampler.standby());
        builder.up();
        if (sampler.standby()) {
            builder.message("database is a standby: ready and idle until promotion");
        }
    }
}
