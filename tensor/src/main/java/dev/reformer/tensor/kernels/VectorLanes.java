package dev.reformer.tensor.kernels;

/**
 * The sum of a float vector's lanes in one fixed order, for vector kernels that keep per-lane
 * partial sums: the kernel stores its vector into {@link #scratch()} and this adds the lanes in
 * one fixed order. The vector API's {@code reduceLanes(ADD)} leaves the order open, and JDK 25 adds the
 * lanes in one order when a loop is compiled and in another while it is interpreted, so the same
 * seed gave training losses that differed in the seventh digit from run to run
 * ({@code ScopedTrainingTest}). A helper that took the vector itself would be fast only where the
 * JIT inlined it (else the vector is boxed): on JDK 17 row reductions then ran 8x slower in one
 * JVM out of three.
 *
 * <pre>{@code
 * float[] lanes = VectorLanes.scratch();
 * acc.intoArray(lanes, 0);
 * double sum = VectorLanes.sum(lanes, FloatVector.SPECIES_PREFERRED.length());
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

    /**
     * The sum of {@code lanes[0 .. count)}, in float as the lanes are, added pairwise in a fixed
     * tree: neighbours first, then neighbouring pairs, and so on (a count that is not a power of
     * two splits into its halves the same way). The order is fixed, so the bits are; and the
     * additions depend on each other four deep for 16 lanes instead of sixteen deep left to right:
     * softmax rows of 64 ran in 0.83-0.93 of their time (AMD EPYC, AVX-512, one thread;
     * bench/results/kernels-2026-12-02-pm.txt).
     */
    public static float sum(float[] lanes, int count) {
        return switch (count) {
            case 16 -> sum8(lanes, 0) + sum8(lanes, 8);
            case 8 -> sum8(lanes, 0);
            case 4 -> sum4(lanes, 0);
            default -> pairwise(lanes, 0, count);
        };
    }

    private static float sum8(float[] lanes, int at) {
        return sum4(lanes, at) + sum4(lanes, at + 4);
    }

    private static float sum4(float[] lanes, int at) {
        return (lanes[at] + lanes[at + 1]) + (lanes[at + 2] + lanes[at + 3]);
    }

    /** The same tree for any count of at least 1 (the cases above written out, so the JIT keeps them in registers). */
    private static float pairwise(float[] lanes, int at, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("VectorLanes.sum: " + count + " lanes; a vector has at least 1");
        }
        int half = count / 2;
        return count == 1 ? lanes[at] : pairwise(lanes, at, half) + pairwise(lanes, at + half, count - half);
    }
}
