package io.pgtide.relay.testing;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A route step that holds the first batch of this JVM until the test lets it go ({@link #letGo}), as a batch stuck
 * in a slow sink or a CPU-starved thread would; every later batch passes at once.
 */
public final class HoldFirstBatch {

    private static final AtomicBoolean FIRST = new AtomicBoolean(true);
    private static final CountDownLatch HELD = new CountDownLatch(1);
    private static final CountDownLatch LET_GO = new CountDownLatch(1);

    /** Holds the first batch, deaf to interrupts as a blocking socket write is: a forced route stop does not end it. */
    public void hold() {
        if (FIRST.getAndSet(false)) {
            HELD.countDown();
            boolean interrupted = false;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (LET_GO.getCount() > 0 && System.nanoTime() < deadline) {
                try {
                    LET_GO.await(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the first batch is held. */
    public static void awaitHeld() throws InterruptedException {
        if (!HELD.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("no batch came to be held in 30 s");
        }
    }

    public static void letGo() {
        LET_GO.countDown();
    }
}
