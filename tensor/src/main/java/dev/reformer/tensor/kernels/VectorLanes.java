package dev.reformer.tensor.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a float vector's lanes in one fixed order, for vector kernels that keep per-lane
 * partial sums. The vector API's {@code reduceLanes(ADD)} leaves the order open, and JDK 25 adds
 * the lanes in one order when a loop is compiled and in another while it is interpreted, so the
 * same seed gave training losses that differed in the seventh digit from run to run
 * ({@code ScopedTrainingTest}). Here the lanes are folded in halves, {@code v + v[i ^ half]}, by
 * shuffles, which move values without arithmetic, so every JIT tier adds the same pairs.
 */
public final class VectorLanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorShuffle<Float> FOLD8 = fold(8);
    private static final VectorShuffle<Float> FOLD4 = fold(4);
    private static final VectorShuffle<Float> FOLD2 = fold(2);
    private static final VectorShuffle<Float> FOLD1 = fold(1);

    private VectorLanes() {
    }

    /** Lane i's partner is lane {@code i ^ half}; null where the vectors have no more than {@code half} lanes. */
    private static VectorShuffle<Float> fold(int half) {
        return F.length() > half ? VectorShuffle.fromOp(F, i -> i ^ half) : null;
    }

    /** The sum of {@code v}'s lanes, folded in halves. */
    public static float sum(FloatVector v) {
        int lanes = F.length();
        if (lanes > 8) {
            v = v.add(v.rearrange(FOLD8));
        }
        if (lanes > 4) {
            v = v.add(v.rearrange(FOLD4));
        }
        if (lanes > 2) {
            v = v.add(v.rearrange(FOLD2));
        }
        return v.add(v.rearrange(FOLD1)).lane(0);
    }
}
