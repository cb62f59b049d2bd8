package io.pgtide.relay.health;

import io.pgtide.relay.metrics.LagSampler;
import io.pgtide.relay.route.RouteFolder;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness of the relay: the database answers and the route files have been read. A relay beside a
 * standby is ready and idle, and says so in its details; a refused route file and a pipeline that waits (for its
 * outbox, say) are reported in the details, not fatal, because the other pipelines still run.
 */
public final class RelayReadiness extends AbstractHealthCheck {

    private final LagSampler sampler;
    private final Supplier<List<RouteFolder.Failure>> refusedFiles;
    private final Supplier<Map<String, String>> waitingPipelines;

    public RelayReadiness(LagSampler sampler, Supplier<List<RouteFolder.Failure>> refusedFiles,
            Supplier<Map<String, String>> waitingPipelines) {
        super("pg-tide", "relay");
        this.sampler = sampler;
        this.refusedFiles = refusedFiles;
        this.waitingPipelines = waitingPipelines;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<RouteFolder.Failure> refused = refusedFiles.get();
        builder.detail("broken.route.files", refused.size());
        refused.forEach(failure -> builder.detail("route.file." + failure.file().getFileName(), failure.reason()));
        waitingPipelines.get().forEach((pipeline, reason) -> builder.detail("pipeline." + pipeline + ".waiting", reason));
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
