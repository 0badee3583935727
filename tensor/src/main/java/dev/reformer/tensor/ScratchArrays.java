package dev.reformer.tensor;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Heap arrays that fused kernels borrow for one call and give back, so that a training loop does
 * not leave hundreds of megabytes of garbage per step for the collector (the resident size then
 * grows to whatever heap the JVM allows itself before collecting). Kept by exact length, at most
 * {@code reformer.scratchMegabytes} (default 256) in all; beyond that a given-back array is simply
 * dropped.
 *
 * <pre>{@code
 * float[] buffer = ScratchArrays.zeroedFloats(n);
 * try {
 *     ...
 * } finally {
 *     ScratchArrays.give(buffer);
 * }
 * }</pre>
 */
public final class ScratchArrays {
    private static final long CAPACITY = Long.getLong("reformer.scratchMegabytes", 256) << 20;
    private static final Map<Integer, ArrayDeque<float[]>> FLOATS = new HashMap<>();
    private static long cachedBytes;

    private ScratchArrays() {
    }

    /** An array of exactly {@code length} floats with arbitrary contents. */
    public static synchronized float[] floats(int length) {
        ArrayDeque<float[]> free = FLOATS.get(length);
        float[] a = free == null ? null : free.pollLast();
        if (a == null) {
            return new float[length];
        }
        cachedBytes -= 4L * length;
        return a;
    }

    /** An array of exactly {@code length} zeros. */
    public static float[] zeroedFloats(int length) {
        float[] a = floats(length);
        java.util.Arrays.fill(a, 0f);
        return a;
    }

    /** Takes an array back for the next call that needs its length; nothing may use it afterwards. */
    public static synchronized void give(float[] a) {
        if (a == null || cachedBytes + 4L * a.length > CAPACITY) {
            return;
        }
        FLOATS.computeIfAbsent(a.length, k -> new ArrayDeque<>()).addLast(a);
        cachedBytes += 4L * a.length;
    }
}
