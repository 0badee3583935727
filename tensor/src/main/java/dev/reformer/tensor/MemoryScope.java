package dev.reformer.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A region of code whose tensors give their memory back the moment it ends, instead of waiting for
 * a garbage collection. Every tensor made while a scope is open (on this thread) takes its buffer
 * from the {@link BufferPool} and is owned by the innermost scope; closing the scope releases
 * them all, except those kept for the enclosing scope with {@link #keep} and those a longer-lived
 * holder took a share of with {@link Tensor#retain()} (parameters, gradients, optimizer state).
 *
 * <pre>{@code
 * for (int step = 0; step < steps; step++) {
 *     try (MemoryScope scope = MemoryScope.open()) {
 *         Variable loss = model.loss(tokens, targets, -100, rng);
 *         loss.backward();          // gradients are retained by the parameters
 *         optimizer.step();         // new values and moments are retained by their holders
 *         losses[step] = loss.data().item();
 *     }                             // activations and temporaries go back to the pool here
 * }
 * }</pre>
 *
 * A tensor used after its scope closed throws an {@link IllegalStateException} that says so.
 * Scopes nest and belong to one thread; close them in the reverse order of opening (try-with-resources does).
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<Deque<MemoryScope>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<Storage> owned = new ArrayList<>();
    private final MemoryScope parent;
    private boolean closed;

    private MemoryScope(MemoryScope parent) {
        this.parent = parent;
    }

    /** Opens a scope on this thread, nested in the current one if any. */
    public static MemoryScope open() {
        Deque<MemoryScope> stack = OPEN.get();
        MemoryScope scope = new MemoryScope(stack.peek());
        stack.push(scope);
        return scope;
    }

    /** The innermost open scope of this thread, or null. */
    public static MemoryScope current() {
        return OPEN.get().peek();
    }

    /** Bytes held by live scoped tensors, their peak, the cache, and its hit count. */
    public static MemoryStats stats() {
        return BufferPool.stats();
    }

    /** Starts a new peak: {@link MemoryStats#peakLiveBytes()} restarts from the bytes live now. */
    public static void resetPeak() {
        BufferPool.resetPeak();
    }

    /** Frees every cached buffer now, for a measurement that must start from an empty cache. */
    public static void trimCache() {
        BufferPool.trim();
    }

    /**
     * Hands {@code t} (and every tensor sharing its memory) to the enclosing scope, or to the
     * garbage collector when there is none, so it survives this scope's end. Returns {@code t}.
     */
    public Tensor keep(Tensor t) {
        requireOpen("keep");
        t.storage().moveTo(this, parent);
        return t;
    }

    void adopt(Storage s) {
        if (closed) {
            throw new IllegalStateException("MemoryScope: closed scope cannot own new tensors");
        }
        s.setScope(this);
        owned.add(s);
    }

    /** Releases the scope's share of every tensor made in it (kept ones have moved on). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        Deque<MemoryScope> stack = OPEN.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("MemoryScope: scopes must close innermost first (use try-with-resources)");
        }
        stack.pop();
        closed = true;
        for (Storage s : owned) {
            s.releaseFromScope(this);
        }
        owned.clear();
    }

    private void requireOpen(String op) {
        if (closed) {
            throw new IllegalStateException("MemoryScope." + op + ": the scope is already closed");
        }
    }
}
