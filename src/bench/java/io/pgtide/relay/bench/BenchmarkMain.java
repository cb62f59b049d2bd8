package io.pgtide.relay.bench;

import io.pgtide.relay.testing.KafkaBroker;
import io.pgtide.relay.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What the benchmarks share: running a benchmark's body (with -Dbench.messages, or a Kafka broker) to an exit
 * status for its main; the backlog drain through an example pipeline pointed at the machine's broker; and the report.
 */
public final class BenchmarkMain {

    private BenchmarkMain() {
    }

    /** The body of a benchmark, given the number of messages to drain. */
    @FunctionalInterface
    public interface Body {
        void run(int messages) throws Exception;
    }

    /** The body of a benchmark that drives a Kafka broker. */
    @FunctionalInterface
    public interface OnBroker {
        void run(KafkaBroker broker) throws Exception;
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    /**
     * Runs the body: 0 when it finished, 1 when it failed (its stack trace printed). A benchmark's main exits with
     * it, also on failure: the clients' threads would keep exec:java waiting.
     */
    public static int run(Body body) {
        return statusOf(() -> body.run(Integer.getInteger("bench.messages", 20_000)));
    }

    /** Starts a Kafka broker on loopback, runs the body with it and stops the broker; the status is {@link #run}'s. */
    public static int runWithBroker(OnBroker body) {
        return statusOf(() -> {
            try (KafkaBroker broker = KafkaBroker.start()) {
                body.run(broker);
            }
        });
    }

    private static int statusOf(Work work) {
        try {
            work.run();
            return 0;
        } catch (Throwable e) {
            e.printStackTrace();
            return 1;
        }
    }

    /**
     * Fills the backlog with {@code messages} and drains it through examples/routes/{@code pipeline}.yaml with two
     * texts replaced (the target and the address); returns msg/s from the first advanced offset to the last row.
     */
    static double drain(TestDatabase db, int messages, String pipeline, String target, String benchTarget,
                        String address, String benchAddress) throws Exception {
        Path routes = Files.createTempDirectory("bench-routes");
        Files.writeString(routes.resolve("bench.yaml"), Files.readString(Path.of("examples/routes/" + pipeline + ".yaml"))
                .replace(target, benchTarget).replace(address, benchAddress));
        Backlog.fill(db, messages);
        return Backlog.drainRate(db, routes, pipeline);
    }

    static void report(String what, int messages, double rate, String check) {
        System.out.printf(Locale.ROOT, "%nbacklog drain %s, 1 KiB JSON%n", what);
        System.out.printf(Locale.ROOT, "  %,d msgs  %,.0f msg/s  (%s)%n", messages, rate, check);
    }
}
