package dev.reformer.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Frees dead ND4J buffers at the pace the engine allocates them.
 *
 * <p>ND4J keeps tensor data off the Java heap and frees a buffer only after the garbage collector
 * has found its small Java owner dead. An engine that creates a new tensor per op produces
 * megabytes of off-heap garbage per kilobyte of heap garbage, so the collector, which only sees
 * the heap, runs far too rarely: measured here, the resident size grew past 2.5 GB within 3000
 * matrix products of 1 MB each, and each product took 2.7x as long as one into reused memory,
 * because every new buffer lands on fresh pages; a million 16-element additions left about 1 GB
 * behind (ND4J's bookkeeping costs about 1 KB per array whatever its size). So every tensor whose
 * memory the collector owns (made outside any {@link MemoryScope}, made by one of ND4J's own ops,
 * or handed over from a scope) is counted, at least {@link #MIN_CHARGE} bytes, and after
 * {@code reformer.gcEveryMegabytes} (default 256) a collection is requested. Tensors made inside a
 * scope never come here: the pool frees and reuses them, so a training step in a scope requests
 * no collection.
 */
final class OffHeapPacer {
    private static final long BUDGET = Long.getLong("reformer.gcEveryMegabytes", 256) << 20;
    private static final AtomicLong SINCE_LAST_GC = new AtomicLong();
    /** What ND4J's bookkeeping costs per array, measured as above: even a tiny tensor counts this much. */
    static final long MIN_CHARGE = 1024;

    private OffHeapPacer() {
    }

    /** Records {@code bytes} of new tensor data; requests a collection once the budget is spent. */
    static void allocated(long bytes) {
        if (BUDGET > 0 && SINCE_LAST_GC.addAndGet(Math.max(bytes, MIN_CHARGE)) > BUDGET) {
            SINCE_LAST_GC.set(0);
            System.gc();
        }
    }
}
