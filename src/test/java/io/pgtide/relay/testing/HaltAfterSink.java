package io.pgtide.relay.testing;

/**
 * A route step for a child relay: ends the JVM at once (no shutdown hooks, like a crash or kill -9)
 * right after the sink acknowledged a batch and before the offset advance runs.
 */
public final class HaltAfterSink {

    public void halt() {
        Runtime.getRuntime().halt(137);
    }
}
