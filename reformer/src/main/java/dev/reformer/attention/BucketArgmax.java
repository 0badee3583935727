package dev.reformer.attention;

import dev.reformer.tensor.kernels.Kernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bucket of one hash: {@code argmax(concat(x, -x))} for {@code x = values[from .. from + half)},
 * without building the concatenation. Index j < half stands for +x[j] and half + j for -x[j]; the
 * first maximum wins, as with numpy's and PyTorch's argmax. So the answer is the first largest
 * x[j] when it is at least as large as -min(x), else half + the first smallest x[j].
 */
final class BucketArgmax {
    private BucketArgmax() {
    }

    static int ofPlusMinus(double[] values, int from, int half) {
        int best = from;
        int worst = from;
        for (int j = from + 1; j < from + half; j++) {
            if (values[j] > values[best]) {
                best = j;
            }
            if (values[j] < values[worst]) {
                worst = j;
            }
        }
        return values[best] >= -values[worst] ? best - from : half + worst - from;
    }

    /** The float flavour: by vector where the vector module is loaded and the row is long enough. */
    static int ofPlusMinus(float[] values, int from, int half) {
        if (!Kernels.vector() || half < Vectorized.minHalf()) {
            int best = from;
            int worst = from;
            for (int j = from + 1; j < from + half; j++) {
                if (values[j] > values[best]) {
                    best = j;
                }
                if (values[j] < values[worst]) {
                    worst = j;
                }
            }
            return values[best] >= -values[worst] ? best - from : half + worst - from;
        }
        return Vectorized.ofPlusMinus(values, from, half);
    }

    /**
     * The vector path, in a class of its own so that nothing touches the vector module where it
     * is not loaded (the JVM resolves this class only when a vector call reaches it).
     */
    private static final class Vectorized {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        static int minHalf() {
            return 2 * F.length();
        }

        /** The largest and smallest values by vector, then the first index holding the winner. */
        static int ofPlusMinus(float[] values, int from, int half) {
            int end = from + half;
            int full = from + F.loopBound(half);
            FloatVector maxV = FloatVector.fromArray(F, values, from);
            FloatVector minV = maxV;
            for (int j = from + F.length(); j < full; j += F.length()) {
                FloatVector v = FloatVector.fromArray(F, values, j);
                maxV = maxV.max(v);
                minV = minV.min(v);
            }
            float max = maxV.reduceLanes(VectorOperators.MAX);
            float min = minV.reduceLanes(VectorOperators.MIN);
            for (int j = full; j < end; j++) {
                max = Math.max(max, values[j]);
                min = Math.min(min, values[j]);
            }
            boolean plus = max >= -min;
            float target = plus ? max : min;
            return (plus ? 0 : half) + firstIndexOf(values, from, end, full, target) - from;
        }

        private static int firstIndexOf(float[] values, int from, int end, int full, float target) {
            for (int j = from; j < full; j += F.length()) {
                int lane = FloatVector.fromArray(F, values, j).eq(target).firstTrue();
                if (lane < F.length()) {
                    return j + lane;
                }
            }
            for (int j = full; j < end; j++) {
                if (values[j] == target) {
                    return j;
                }
            }
            throw new IllegalStateException("bucket argmax: the extreme value vanished from its own row");
        }
    }
}
