package io.pgtide.relay.bench;

/** Runs a sink benchmark's body with -Dbench.messages and turns its outcome into an exit status for its main. */
public final class BenchmarkMain {

    private BenchmarkMain() {
    }

    /** The body of a benchmark, given the number of messages to drain. */
    @FunctionalInterface
    public interface Body {
        void run(int messages) throws Exception;
    }

    /** 0 when the body finished, 1 when it failed (its stack trace printed). */
    public static int run(Body body) {
        try {
            body.run(Integer.getInteger("bench.messages", 20_000));
            return 0;
        } catch (Throwable e) {
            e.printStackTrace();
            return 1;
        }
    }
}
