package dev.reformer.tensor.kernels;

/**
 * The sum of a float vector's lanes in one fixed order, for vector kernels that keep per-lane
 * partial sums: the kernel stores its vector into {@link #scratch()} and this adds the lanes left
 * to right. The vector API's {@code reduceLanes(ADD)} leaves the order open, and JDK 25 adds the
 * lanes in one order when a loop is compiled and in another while it is interpreted, so the same
 * seed gave training losses that differed in the seventh digit from run to run
 * ({@code ScopedTrainingTest}). A helper that took the vector itself would be fast only where the
 * JIT inlined it (else the vector is boxed): on JDK 17 row reductions then ran 8x slower in one
 * JVM out of three.
 *
 * <pre>{@code
 * float[] lanes = VectorLanes.scratch();
 * acc.intoArray(lanes, 0);
 * double sum = VectorLanes.sum(lanes);
 * }</pre>
 */
public final class VectorLanes {
    /** Enough room for the widest vector (16 floats). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[16]);

    private VectorLanes() {
    }

    /** This thread's array to store a vector's lanes in. */
    public static float[] scratch() {
        return SCRATCH.get();
    }

    /** The sum of {@code lanes[0 .. count)}, left to right, in float as the lanes are. */
    public static float sum(float[] lanes, int count) {
        float sum = 0;
        for (int i = 0; i < count; i++) {
            sum += lanes[i];
        }
        return sum;
    }
}
