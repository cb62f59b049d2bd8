package io.pgtide.relay.bench;

import io.pgtide.relay.testing.KafkaBroker;
import java.util.Locale;

/**
 * Every relay performance figure in one run, against the same PostgreSQL and one Kafka broker: the backlog
 * drain with its baselines and limits (and the relay's memory), steady-state latency, idle cost and the
 * scale-out shape. Each part is also a command of its own (DrainBenchmark, LatencyBenchmark, IdleBenchmark,
 * ScaleOutBenchmark) with the same -D settings.
 * <pre>mvn -q -Pbench test-compile exec:java -Dexec.mainClass=io.pgtide.relay.bench.PerformanceBenchmark</pre>
 */
public final class PerformanceBenchmark {

    private PerformanceBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        long started = System.nanoTime();
        int messages = Integer.getInteger("bench.messages", 200_000);
        int rate = Integer.getInteger("bench.rate", 1000);
        try (KafkaBroker broker = KafkaBroker.start()) {
            DrainBenchmark.Figures drain = DrainBenchmark.measure(broker, messages);
            drain.print();
            LatencyBenchmark.Figures woken = LatencyBenchmark.measure(broker, rate, Integer.getInteger("bench.seconds", 60), true);
            LatencyBenchmark.Figures polled = LatencyBenchmark.measure(broker, rate,
                    Integer.getInteger("bench.baselineSeconds", 15), false);
            LatencyBenchmark.print(rate, woken, polled);
            IdleBenchmark.Figures idle = IdleBenchmark.measure(broker, Integer.getInteger("bench.pipelines", 50),
                    Integer.getInteger("bench.idleSeconds", 30));
            idle.print();
            ScaleOutBenchmark.measure(broker, messages, 4).print();
            System.out.printf(Locale.ROOT, "%ngoals: drain >= 50,000 msg/s %s; >= 20x textbook %s; >= 50 %% of the limit %s;"
                            + " p99 <= 50 ms %s; idle <= 2 %% of a core %s; RSS <= 300 MiB %s%n",
                    verdict(drain.judged().relay() >= 50_000), verdict(drain.judged().relay() >= 20 * drain.textbook()),
                    verdict(drain.judged().relay() >= drain.judged().limit() / 2), verdict(woken.p99() <= 50),
                    verdict(idle.relayCore() <= 0.02), verdict(drain.relayPeakRssMiB() <= 300));
            System.out.printf(Locale.ROOT, "total run time %.0f s%n", (System.nanoTime() - started) / 1e9);
        }
        System.exit(0);
    }

    private static String verdict(boolean met) {
        return met ? "met" : "NOT met";
    }
}
