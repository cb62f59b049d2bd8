package io.pgtide.relay.bench;

import io.pgtide.relay.testing.ChaosResult;
import io.pgtide.relay.testing.ChaosScenario;
import java.time.Duration;

/**
 * The chaos run as a command: at least 100,000 messages from 4 producers (random commit delays, 5 %
 * rollbacks, 10 keys) through 3 relay processes to Kafka with a fault every 3 to 5 s: mostly a kill -9 of
 * the owning relay, and once each a PostgreSQL restart, a 10 s Kafka outage and a poison message. Prints one
 * line of figures and exits non-zero when a check failed.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.ChaosRun [-Dchaos.messages=100000]
 *     [-Dchaos.producers=4] [-Dchaos.relays=3] [-Dchaos.faultEveryMinMs=3000] [-Dchaos.faultEveryMaxMs=5000]
 *     [-Dchaos.kafkaOutageMs=10000] [-Dchaos.commitDelayMs=10]</pre>
 */
public final class ChaosRun {

    private ChaosRun() {
    }

    public static void main(String[] args) {
        // exit explicitly: the broker's and the producers' threads would keep exec:java waiting
        try {
            ChaosResult result = ChaosScenario.run(new ChaosScenario.Plan(
                    Integer.getInteger("chaos.messages", 100_000),
                    Integer.getInteger("chaos.producers", 4),
                    10,                                                                   // keys
                    Integer.getInteger("chaos.relays", 3),
                    Duration.ofMillis(Integer.getInteger("chaos.faultEveryMinMs", 3000)),
                    Duration.ofMillis(Integer.getInteger("chaos.faultEveryMaxMs", 5000)),
                    1,                                                                    // kills at least
                    Duration.ofMillis(Integer.getInteger("chaos.kafkaOutageMs", 10_000)),
                    Integer.getInteger("chaos.commitDelayMs", 10),                        // commit delay up to
                    5,                                                                    // % rolled back
                    Duration.ofMinutes(5),                                                // drain timeout
                    Integer.getInteger("chaos.partitions", 1),
                    Integer.getInteger("chaos.keyGroups", 1)));
            result.failures().forEach(failure -> System.err.println("FAILED: " + failure));
            System.out.println(result.summary());
            System.exit(result.failures().isEmpty() ? 0 : 1);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(2);
        }
    }
}
