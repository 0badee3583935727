package dev.reformer.tensor;

import org.nd4j.linalg.api.buffer.DataBuffer;

/**
 * The memory behind a tensor and all of its views: one ND4J buffer and the number of owners that
 * keep it alive.
 *
 * <p>Owners are counted, not traced. Memory made inside a {@link MemoryScope} starts with one
 * owner, the scope, which lets go when it closes; a holder that must outlive the scope (a
 * parameter's value, a gradient, an optimizer's moments, a gradient the backward pass has not
 * consumed yet) takes a share with {@link Tensor#retain()} and gives it back with
 * {@link Tensor#release()}. When the last owner lets go, the buffer goes back to the
 * {@link BufferPool} at once, ready for the next tensor of that size, and every tensor over it
 * becomes unusable (using one throws, naming the tensor).
 *
 * <p>Memory made outside any scope, and memory ND4J's own ops allocate, is owned by the garbage
 * collector, as plain Java objects are: its share is never given back explicitly, so retains and
 * releases balance, and ND4J frees the buffer once the tensor is unreachable. Every such buffer
 * counts toward {@link OffHeapPacer}'s pacing of collections.
 */
final class Storage {
    private final DataBuffer buffer;
    private final DType dtype;
    private int owners;
    private boolean collected; // one of the owners is the garbage collector (never released)
    private boolean pooled;    // the buffer came from the pool and counts in its live bytes
    private MemoryScope scope; // the scope holding one of the owners' shares, or null
    private boolean released;

    private Storage(DataBuffer buffer, DType dtype, boolean collected) {
        this.buffer = buffer;
        this.dtype = dtype;
        this.owners = 1;
        this.collected = collected;
    }

    /**
     * Uninitialised memory for {@code length} elements: from the pool and owned by the current
     * scope when one is open, else a fresh ND4J buffer owned by the garbage collector.
     */
    static Storage allocate(DType dtype, long length) {
        MemoryScope current = MemoryScope.current();
        if (current == null) {
            OffHeapPacer.allocated(length * dtype.bytes());
            return new Storage(BufferPool.fresh(dtype, length), dtype, true);
        }
        Storage s = new Storage(BufferPool.take(dtype, length), dtype, false);
        s.pooled = true;
        current.adopt(s);
        return s;
    }

    /**
     * Memory ND4J allocated itself (an array wrapped from outside, or the result of one of ND4J's
     * own ops): the garbage collector owns it, and it counts toward the collector's pacing.
     */
    static Storage external(DataBuffer buffer, DType dtype) {
        OffHeapPacer.allocated(buffer.length() * dtype.bytes());
        return new Storage(buffer, dtype, true);
    }

    /** Hands the memory to the garbage collector: it leaves the pool's accounting and counts toward the pacing. */
    private void handToCollector() {
        collected = true;
        long bytes = buffer.length() * dtype.bytes();
        if (pooled) {
            pooled = false;
            BufferPool.forget(bytes);
        }
        OffHeapPacer.allocated(bytes);
    }

    DataBuffer buffer() {
        return buffer;
    }

    boolean isReleased() {
        return released;
    }

    synchronized void retain(Tensor t) {
        requireLive(t, "retain");
        owners++;
    }

    /** Gives back one owner's share; the last one returns the buffer to the pool. */
    synchronized void release(Tensor t) {
        requireLive(t, "release");
        if (owners == 1 && collected) {
            return; // only the garbage collector's share is left, and it is never given back
        }
        if (--owners == 0) {
            free();
        }
    }

    /** The last owner let go: the buffer goes back to the pool (memory the collector owned never gets here). */
    private void free() {
        released = true;
        BufferPool.give(buffer, dtype);
    }

    /**
     * Gives back one owner's share but keeps the memory readable until the innermost open scope
     * closes: that scope takes the share over (or the garbage collector, outside any scope).
     */
    synchronized void releaseAtScopeEnd(Tensor t) {
        requireLive(t, "releaseAtScopeEnd");
        if (owners == 1 && collected) {
            return;
        }
        if (scope != null && owners > 1) {
            owners--; // the scope this memory was made in still holds its share
            return;
        }
        MemoryScope current = MemoryScope.current();
        if (current != null && scope == null) {
            current.adopt(this);
        } else if (scope == null) {
            handToCollector();
        } else {
            owners--; // owners == 1 and it is the scope's share: nothing to hand over
            if (owners == 0) {
                free();
            }
        }
    }

    /** Called by a closing scope: the scope's share is given back unless the memory moved on. */
    synchronized void releaseFromScope(MemoryScope closing) {
        if (scope != closing || released) {
            return;
        }
        scope = null;
        if (--owners == 0) {
            free();
        }
    }

    /** Gives back the share of whichever scope holds one now (see {@link Tensor#free()}). */
    synchronized void freeFromScope() {
        if (scope != null) {
            releaseFromScope(scope);
        }
    }

    synchronized void moveTo(MemoryScope from, MemoryScope to) {
        if (scope != from) {
            return; // not this scope's to give (already kept, or owned elsewhere)
        }
        scope = to;
        if (to == null) {
            handToCollector(); // no enclosing scope: the garbage collector takes over the scope's share
        } else {
            to.adopt(this);
        }
    }

    synchronized MemoryScope scope() {
        return scope;
    }

    void setScope(MemoryScope s) {
        scope = s;
    }

    void requireLive(Tensor t, String op) {
        if (released) {
            throw new IllegalStateException(op + ": tensor " + t.dtype().label() + t.shapeString()
                    + " was released (its MemoryScope closed, or its last owner released it); keep it with"
                    + " MemoryScope.keep or take a share with retain() while it is still alive");
        }
    }
}
