package io.pgtide.relay.lock;

import java.util.function.IntSupplier;

/**
 * This relay's share of its group's pipelines: ceil(pipelines / live relays), the relays counted by the server
 * ({@code tide.relay_members}, refreshed by the {@link LockWatch}). A pipeline owner reserves a place before it tries
 * a lock and gives it back when it does not get the lock or lets it go, so the owners' threads never take more
 * than the share between them. Every relay of a group is assumed to run the same pipelines.
 */
final class FairShare {

    private final IntSupplier pipelines;
    private volatile int members = 1;
    /** Owners that hold their lock or are trying it now. */
    private int taken;

    /** @param pipelines how many of this relay's pipelines may run now (not waiting to start) */
    FairShare(IntSupplier pipelines) {
        this.pipelines = pipelines;
    }

    /** The live relays of the group, as the server counts them (at least this one). */
    void members(int members) {
        this.members = Math.max(1, members);
    }

    int members() {
        return members;
    }

    /** How many pipelines this relay should hold. */
    int share() {
        int total = pipelines.getAsInt();
        return (total + members - 1) / members;
    }

    /** Takes a place for one more lock, unless this relay holds its share already. */
    synchronized boolean reserve() {
        if (taken >= share()) {
            return false;
        }
        taken++;
        return true;
    }

    /** Gives a place back: the lock was not taken, or it was let go. */
    synchronized void release() {
        taken--;
    }

    /** How many of the held locks are beyond the share, to hand over to the other relays. */
    int surplus(int held) {
        return Math.max(0, held - share());
    }

    /** The share as a log line says it. */
    String describe() {
        return share() + " of " + pipelines.getAsInt() + " pipelines over " + members + " relay(s)";
    }
}
