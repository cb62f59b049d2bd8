package io.pgtide.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgtide.relay.testing.ChaosResult;
import io.pgtide.relay.testing.ChaosScenario;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The chaos run (bench.ChaosRun) reduced: 5,000 messages, at least 3 kills -9 of an owner, a PostgreSQL restart, a
 * 3 s Kafka outage and a poison message; every delivery check must hold. Once as one pipeline over 2 relay
 * processes, once as a pipeline of 4 partitions with key groups over 3 relay processes (issue 14).
 */
class ChaosTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void nothingCommittedIsLostNothingRolledBackIsSentOrderPerKeyHoldsAndDuplicatesStayBounded() throws Exception {
        check(ChaosScenario.run(plan(2, 1, 1)));
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void theSameHoldsForAPartitionedPipelineWithKeyGroupsOverThreeRelays() throws Exception {
        // one Kafka send per message, acknowledged before its key's next: a slower drain than whole batches
        check(ChaosScenario.run(plan(3, 4, 8, Duration.ofSeconds(150))));
    }

    private static ChaosScenario.Plan plan(int relays, int partitions, int keyGroups) {
        return plan(relays, partitions, keyGroups, Duration.ofSeconds(60));
    }

    private static ChaosScenario.Plan plan(int relays, int partitions, int keyGroups, Duration drainTimeout) {
        return new ChaosScenario.Plan(
                5_000,                  // messages at least
                4,                      // producers
                10,                     // keys
                relays,                 // relay processes
                Duration.ofSeconds(2),  // a fault (mostly a kill -9 of an owner) every 2
                Duration.ofSeconds(3),  // to 3 s
                3,                      // kills at least
                Duration.ofSeconds(3),  // Kafka outage
                60,                     // commit delay up to 60 ms: the 5,000 messages span the faults
                5,                      // % rolled back
                drainTimeout,
                partitions,
                keyGroups);
    }

    private static void check(ChaosResult result) {
        String report = String.join("\n", result.summary(), String.join("\n", result.failures())).strip();
        System.out.println(report);
        assertTrue(result.kills() >= 3, report);
        assertEquals(1, result.pgRestarts(), report);
        assertTrue(result.committed() >= 5_000, report);
        assertTrue(result.rolledBack() > 0, "some transactions rolled back: " + report);
        assertTrue(result.drained(), report);
        assertEquals(0, result.lost(), report);
        assertEquals(0, result.rolledBackDelivered(), report);
        assertEquals(0, result.orderViolations().size(), report);
        assertTrue(result.duplicates() <= result.duplicateBound(), report);
        assertTrue(result.poisonInDeadLetters(), report);
        assertEquals(1, result.deadLetters(), report);
        assertTrue(result.failures().isEmpty(), report);
    }
}
