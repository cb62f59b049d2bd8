package io.pgtide.relay.testing;

/** Runs a sink benchmark's body with -Dbench.messages and exits the JVM with its outcome. */
public final class BenchmarkMain {

    private BenchmarkMain() {
    }

    /** The body of a benchmark, given the number of messages to drain. */
    @FunctionalInterface
    public interface Body {
        void run(int messages) throws Exception;
    }

    public static void run(Body body) {
        // exit explicitly, also on failure: client threads (paho, jnats) would keep exec:java waiting
        try {
            body.run(Integer.getInteger("bench.messages", 20_000));
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }
}
