package io.pgtide.relay.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The figures of a chaos run and the checks on them: every committed message delivered (the poison in
 * the dead letters instead), no rolled-back one, first arrivals in (tx, id) order per key, and duplicates
 * no more than a batch per fault.
 */
public record ChaosResult(int committed, int rolledBack, int inDoubt, int deliveredDistinct, int lost,
        int rolledBackDelivered, List<String> orderViolations, int duplicates, int batchSize, int faults, int kills,
        int pgRestarts, double kafkaDownSeconds, int deadLetters, boolean poisonInDeadLetters, boolean drained,
        double elapsedSeconds) {

    /** What the run saw: the producers' outcomes, the outbox, the topic in order, the dead letters. */
    public record Observed(Set<Long> acknowledged, Set<Long> rolledBack, Set<Long> inDoubt, long poison,
            OutboxRows rows, List<Long> delivered, List<Long> deadLetters, boolean drained) {
    }

    /** The faults a run made. */
    public record Faults(int kills, int pgRestarts, Duration kafkaDown, int poisonMessages) {
        int count() {
            return kills + pgRestarts + (kafkaDown == null ? 0 : 1) + poisonMessages;
        }
    }

    /** The figures of what a run saw under the faults it made; a batch is at most {@code batchSize} messages. */
    public static ChaosResult of(Observed seen, Faults faults, int batchSize, double elapsedSeconds) {
        // a transaction in doubt committed exactly when its rows are in the outbox
        Set<Long> rows = new HashSet<>(seen.rows().order);
        Set<Long> committed = new HashSet<>(seen.acknowledged());
        Set<Long> rolledBack = new HashSet<>(seen.rolledBack());
        for (long id : seen.inDoubt()) {
            (rows.contains(id) ? committed : rolledBack).add(id);
        }
        committed.add(seen.poison());
        Set<Long> delivered = new HashSet<>(seen.delivered());
        boolean poisonInDeadLetters = seen.deadLetters().contains(seen.poison()) && !delivered.contains(seen.poison());
        Set<Long> lost = new HashSet<>(committed);
        lost.removeAll(delivered);
        if (poisonInDeadLetters) {
            lost.remove(seen.poison());
        }
        Set<Long> rolledBackDelivered = new HashSet<>(rolledBack);
        rolledBackDelivered.retainAll(delivered);
        double kafkaDownSeconds = faults.kafkaDown() == null ? 0 : faults.kafkaDown().toMillis() / 1000.0;
        return new ChaosResult(committed.size(), rolledBack.size(), seen.inDoubt().size(), delivered.size(), lost.size(),
                rolledBackDelivered.size(), seen.rows().orderViolations(seen.delivered()),
                seen.delivered().size() - delivered.size(), batchSize, faults.count(), faults.kills(), faults.pgRestarts(),
                kafkaDownSeconds, seen.deadLetters().size(), poisonInDeadLetters, seen.drained(), elapsedSeconds);
    }

    /** The most duplicates the faults may cause: each can make at most one batch go out again. */
    public long duplicateBound() {
        return (long) batchSize * faults;
    }

    /** The checks that failed, each in a sentence; empty when the run passed. */
    public List<String> failures() {
        List<String> failures = new ArrayList<>();
        if (!drained) {
            failures.add("the offset did not reach the outbox's last row in time");
        }
        if (lost > 0) {
            failures.add(lost + " committed messages neither delivered nor dead-lettered");
        }
        if (rolledBackDelivered > 0) {
            failures.add(rolledBackDelivered + " rolled-back messages delivered");
        }
        if (!orderViolations.isEmpty()) {
            failures.add(orderViolations.size() + " per-key order violations, the first: " + orderViolations.get(0));
        }
        if (duplicates > duplicateBound()) {
            failures.add(duplicates + " duplicates, more than " + duplicateBound() + " (" + batchSize + " x " + faults
                    + " faults)");
        }
        if (!poisonInDeadLetters || deadLetters != 1) {
            failures.add("the dead letters hold " + deadLetters + " messages; expected exactly the poison message"
                    + (poisonInDeadLetters ? "" : ", which is missing there or was delivered"));
        }
        return failures;
    }

    /** One line of figures. */
    public String summary() {
        return String.format(Locale.ROOT, "chaos: committed=%d rolled_back=%d in_doubt=%d delivered_distinct=%d lost=%d"
                        + " rolled_back_delivered=%d order_violations=%d duplicates=%d duplicate_bound=%d (%d x %d faults)"
                        + " within_bound=%s kills=%d pg_restarts=%d kafka_down_s=%.1f dlq=%d poison_in_dlq=%s"
                        + " elapsed_s=%.1f result=%s",
                committed, rolledBack, inDoubt, deliveredDistinct, lost, rolledBackDelivered, orderViolations.size(),
                duplicates, duplicateBound(), batchSize, faults, yes(duplicates <= duplicateBound()), kills, pgRestarts,
                kafkaDownSeconds, deadLetters, yes(poisonInDeadLetters), elapsedSeconds,
                failures().isEmpty() ? "PASS" : "FAIL");
    }

    private static String yes(boolean value) {
        return value ? "yes" : "no";
    }
}
