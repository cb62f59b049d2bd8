package io.pgtide.relay.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * The relay's own Prometheus metrics, {@code pg_tide_relay_*}, labelled by pipeline: what it delivered
 * and how fast, what failed and why, whether it holds the lock; and, from {@link LagSampler}, what the
 * database says is still pending.
 */
public final class RelayMetrics {

    /** Failure causes, the values of the {@code cause} label. */
    public static final String SINK = "sink";
    public static final String OFFSET = "offset";
    public static final String LOCK_LOST = "lock_lost";
    /** What became of a poison message, the values of the {@code action} label. */
    public static final String DEAD_LETTERED = "dead_lettered";
    public static final String HELD = "held";

    private static final Duration[] BATCH_DURATION_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)};

    private final MeterRegistry registry;
    private final Predicate<String> lockHeld;
    private final Map<String, Boolean> pipelines = new ConcurrentHashMap<>();
    private final Map<String, PipelineLag> lag = new ConcurrentHashMap<>();
    private volatile double oldestOpenTransactionAge;
    private volatile double standby;
    private final MultiGauge refusedFiles;
    private final MultiGauge registrationsUnseen;
    private final MultiGauge pipelineState;

    public RelayMetrics(MeterRegistry registry, Predicate<String> lockHeld) {
        this.registry = registry;
        this.lockHeld = lockHeld;
        Gauge.builder("pg_tide_relay_oldest_open_transaction_age_seconds", this, m -> m.oldestOpenTransactionAge)
                .description("Age of the oldest open write transaction on the server: it holds delivery back")
                .register(registry);
        Gauge.builder("pg_tide_relay_standby", this, m -> m.standby)
                .description("1 while the database is a standby in recovery: the relay runs no pipeline")
                .register(registry);
        refusedFiles = MultiGauge.builder("pg_tide_relay_route_file_problems")
                .description("Problems of a route file the relay refused to load (its pipelines do not run)")
                .register(registry);
        registrationsUnseen = MultiGauge.builder("pg_tide_relay_registration_unseen_seconds")
                .description("Seconds since a registered pipeline of the group last polled, whether or not a relay"
                        + " runs it: a registration nobody polls holds retention back")
                .register(registry);
        pipelineState = MultiGauge.builder("pg_tide_relay_pipeline_state")
                .description("1 for the pipeline's state in tide.consumer_lag: running, retrying, failing, paused or"
                        + " unowned")
                .register(registry);
    }

    /** Registers the per-pipeline gauges of a pipeline route once. */
    public void track(String pipeline) {
        pipelines.computeIfAbsent(pipeline, p -> {
            Gauge.builder("pg_tide_relay_lock_held", () -> lockHeld.test(p) ? 1 : 0)
                    .description("1 while this relay holds the pipeline's lock and runs it")
                    .tag("pipeline", p)
                    .register(registry);
            return Boolean.TRUE;
        });
    }

    /** Drops every series of a pipeline this relay no longer runs (its file was deleted or replaced). */
    public synchronized void untrack(String pipeline) {
        pipelines.remove(pipeline);
        for (Meter meter : registry.getMeters()) {
            if (meter.getId().getName().startsWith("pg_tide_relay") && pipeline.equals(meter.getId().getTag("pipeline"))) {
                registry.remove(meter);
            }
        }
        lag.keySet().removeIf(key -> key.startsWith(pipeline + "\u0000"));
    }

    /** The route files refused now, one series each (the number of problems), gone once a file loads. */
    public void refusedRouteFiles(Map<String, Integer> problemsByFile) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        problemsByFile.forEach((file, problems) -> rows.add(MultiGauge.Row.of(Tags.of("file", file), problems)));
        refusedFiles.register(rows, true);
    }

    /** A batch the sink acknowledged and whose offset moved. */
    public void relayed(String pipeline, String outbox, int messages, Duration took) {
        Counter.builder("pg_tide_relay_messages").description("Messages relayed: acknowledged by the sink, offset moved")
                .tags("pipeline", pipeline, "outbox", outbox).register(registry).increment(messages);
        DistributionSummary.builder("pg_tide_relay_batch_size").description("Messages per relayed batch")
                .tag("pipeline", pipeline).serviceLevelObjectives(1, 10, 50, 100, 250, 500, 1000)
                .register(registry).record(messages);
        Timer.builder("pg_tide_relay_batch_duration").description("From poll to offset advance, per batch")
                .tag("pipeline", pipeline).serviceLevelObjectives(BATCH_DURATION_BUCKETS)
                .register(registry).record(took);
    }

    /** A failure of a pipeline, by cause ({@link #SINK}, {@link #OFFSET}, {@link #LOCK_LOST}). */
    public void failed(String pipeline, String cause) {
        Counter.builder("pg_tide_relay_failures").description("Pipeline failures by cause")
                .tags("pipeline", pipeline, "cause", cause).register(registry).increment();
    }

    /** An offset advance that did not move the offset, by cause (a label of {@code AdvanceRefusal}). */
    public void advanceRefused(String pipeline, String cause) {
        Counter.builder("pg_tide_relay_offset_refusals")
                .description("Offset advances that did not move the offset, by cause; the batch is delivered again")
                .tags("pipeline", pipeline, "cause", cause).register(registry).increment();
    }

    /** A message that still failed after its retries for a reason of its own: {@link #DEAD_LETTERED} or {@link #HELD}. */
    public void poison(String pipeline, String outbox, String action) {
        Counter.builder("pg_tide_relay_poison_messages")
                .description("Messages that still failed after their retries: set aside in tide.relay_dlq, or held")
                .tags("pipeline", pipeline, "outbox", outbox, "action", action).register(registry).increment();
    }

    /**
     * The latest reading of the group's pipelines from the database: every registration's unseen time, and the lag and
     * state of the pipelines of this relay's files (a deleted pipeline's series stay gone).
     */
    synchronized void pipelines(List<PipelineReading> readings) {
        List<MultiGauge.Row<?>> unseen = new ArrayList<>();
        List<MultiGauge.Row<?>> states = new ArrayList<>();
        for (PipelineReading r : readings) {
            Tags tags = Tags.of("pipeline", r.pipeline(), "outbox", r.outbox());
            unseen.add(MultiGauge.Row.of(tags, r.unseenSeconds()));
            if (pipelines.containsKey(r.pipeline())) {
                states.add(MultiGauge.Row.of(tags.and("state", r.state()), 1));
                lag(r);
            }
        }
        registrationsUnseen.register(unseen, true);
        pipelineState.register(states, true);
    }

    private void lag(PipelineReading r) {
        String pipeline = r.pipeline();
        String outbox = r.outbox();
        PipelineLag reading = lag.computeIfAbsent(pipeline + "\u0000" + outbox, key -> {
            PipelineLag l = new PipelineLag();
            Tags tags = Tags.of("pipeline", pipeline, "outbox", outbox);
            lagGauge("pg_tide_relay_pending_messages", "Messages the pipeline has not delivered yet", tags, l,
                    x -> x.pending);
            lagGauge("pg_tide_relay_oldest_pending_age_seconds",
                    "Age of the oldest message the pipeline has not delivered yet", tags, l, x -> x.oldestPendingAge);
            lagGauge("pg_tide_relay_offset_id", "Id of the last message the pipeline delivered (its offset)", tags, l,
                    x -> x.offsetId);
            lagGauge("pg_tide_relay_dlq_messages", "Open dead letters of the pipeline in tide.relay_dlq", tags, l,
                    x -> x.deadLetters);
            lagGauge("pg_tide_relay_paused",
                    "1 while the pipeline is paused (tide.relay_pause): no relay of the group runs it", tags, l,
                    x -> x.paused);
            lagGauge("pg_tide_relay_consecutive_failures",
                    "Failed sends of the pipeline since it last delivered (tide.consumer_lag)", tags, l,
                    x -> x.consecutiveFailures);
            return l;
        });
        reading.pending = r.pending();
        reading.oldestPendingAge = r.oldestPendingAge();
        reading.offsetId = r.offsetId();
        reading.deadLetters = r.deadLetters();
        reading.paused = r.paused() ? 1 : 0;
        reading.consecutiveFailures = r.consecutiveFailures();
    }

    private void lagGauge(String name, String description, Tags tags, PipelineLag l, ToDoubleFunction<PipelineLag> value) {
        Gauge.builder(name, l, value).description(description).tags(tags).register(registry);
    }

    void server(double oldestOpenTransactionAgeSeconds, boolean inRecovery) {
        this.oldestOpenTransactionAge = oldestOpenTransactionAgeSeconds;
        this.standby = inRecovery ? 1 : 0;
    }

    /** The last lag reading of one pipeline. */
    private static final class PipelineLag {
        private volatile double pending;
        private volatile double oldestPendingAge;
        private volatile double offsetId;
        private volatile double deadLetters;
        private volatile double paused;
        private volatile double consecutiveFailures;
    }
}
