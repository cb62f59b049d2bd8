package io.pgtide.relay.metrics;

/**
 * One pipeline's row of {@code tide.consumer_lag}, as {@link LagSampler} reads it for {@link RelayMetrics}.
 *
 * @param state               running, retrying, failing, paused or unowned, as the view decides it
 * @param consecutiveFailures failed sends since the pipeline last delivered
 * @param unseenSeconds       seconds since the pipeline last polled, whether or not a relay runs it
 */
record PipelineReading(String pipeline, String outbox, long pending, double oldestPendingAge, long offsetId,
        long deadLetters, boolean paused, String state, int consecutiveFailures, double unseenSeconds) {
}
