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
 * The chaos run (bench.ChaosRun) reduced: 5,000 messages, 2 relay processes, at least 3 kills -9 of the owner,
 * a PostgreSQL restart, a 3 s Kafka outage and a poison message; every delivery check must hold.
 */
class ChaosTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void nothingCommittedIsLostNothingRolledBackIsSentOrderPerKeyHoldsAndDuplicatesStayBounded() throws Exception {
        ChaosResult result = ChaosScenario.run(new ChaosScenario.Plan(
                5_000,                  // messages at least
                4,                      // producers
                10,                     // keys
                2,                      // relay processes
                Duration.ofSeconds(2),  // a fault (mostly a kill -9 of the owner) every 2
                Duration.ofSeconds(3),  // to 3 s
                3,                      // kills at least
                Duration.ofSeconds(3),  // Kafka outage
                60,                     // commit delay up to 60 ms: the 5,000 messages span the faults
                5,                      // % rolled back
                Duration.ofSeconds(60)));  // drain timeout
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
