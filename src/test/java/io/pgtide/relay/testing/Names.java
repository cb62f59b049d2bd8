package io.pgtide.relay.testing;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Names for what lives on servers that outlive a test (databases, roles, streams, topics, queues): random, so
 * runs at the same time, or the leftovers of a failed one, never meet.
 */
public final class Names {

    private Names() {
    }

    /** {@code prefix} followed by a random positive long in hex. */
    public static String unique(String prefix) {
        return prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }
}
