package dev.reformer.attention;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import dev.reformer.tensor.kernels.Kernels;
import dev.reformer.tensor.kernels.Parallel;
import dev.reformer.tensor.kernels.VectorLanes;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shared-QK attention's keys for the float kernels, one row of D at a time:
 * {@code k = x / max(|x|, 1e-12)} (see {@link Masks#normalize}, the composition it matches) and
 * its backward, {@code dx += (dk - x (x . dk) / |x|^2) / |x|}, where the floor makes the norm a
 * constant ({@code dx += dk / 1e-12}).
 */
final class KeyNormalization {
    private KeyNormalization() {
    }

    /**
     * Every row of {@code x}, {@code rows} rows of {@code d}, normalised into a new float32 tensor
     * of the same elements: shared QK's keys, made once per kernel call rather than once per
     * window that reads a key.
     */
    static Tensor normalizedRows(FloatBuffer x, long rows, int d) {
        Tensor keys = Tensor.empty(DType.FLOAT32, rows * d);
        FloatBuffer to = keys.writableFloats();
        int block = 64;
        int blocks = Math.toIntExact((rows + block - 1) / block);
        Parallel.forRange(blocks, 4, (a, b) -> {
            float[] rowsHere = new float[block * d];
            for (int g = a; g < b; g++) {
                int first = g * block;
                int n = (int) Math.min(block, rows - first);
                x.get(first * d, rowsHere, 0, n * d);
                for (int r = 0; r < n; r++) {
                    normalize(rowsHere, r * d, d);
                }
                to.put(first * d, rowsHere, 0, n * d);
            }
        });
        return keys;
    }

    /** Row {@code x[at .. at + d)} normalised in place. */
    static void normalize(float[] x, int at, int d) {
        if (Kernels.vector()) {
            Vector.normalize(x, at, d);
            return;
        }
        double squared = 0;
        for (int e = at; e < at + d; e++) {
            squared += (double) x[e] * x[e];
        }
        float inverse = (float) (1.0 / Math.sqrt(Math.max(squared, 1e-24)));
        for (int e = at; e < at + d; e++) {
            x[e] *= inverse;
        }
    }

    /**
     * {@code dx[0..d) += (dk - x (x . dk) / |x|^2) / |x|} for the row {@code x[at .. at + d)}: the
     * plain loop in double; the vector form sums the two dot products in float lanes (added in
     * double, as {@link #normalize}) and applies the result as two float products.
     */
    static void addBackward(float[] x, int at, float[] dk, float[] dx, int d) {
        if (Kernels.vector()) {
            Vector.addBackward(x, at, dk, dx, d);
            return;
        }
        double squared = 0;
        double along = 0;
        for (int e = 0; e < d; e++) {
            squared += (double) x[at + e] * x[at + e];
            along += (double) x[at + e] * dk[e];
        }
        double norm = Math.sqrt(Math.max(squared, 1e-24));
        double projection = squared >= 1e-24 ? along / (norm * norm) : 0;
        for (int e = 0; e < d; e++) {
            dx[e] += (float) ((dk[e] - x[at + e] * projection) / norm);
        }
    }

    /** The vector form: the squared norm's lanes summed in float, then added in double. */
    private static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        static void addBackward(float[] x, int at, float[] dk, float[] dx, int d) {
            FloatVector squaredLanes = FloatVector.zero(F);
            FloatVector alongLanes = FloatVector.zero(F);
            int e = 0;
            for (; e < F.loopBound(d); e += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, at + e);
                squaredLanes = v.fma(v, squaredLanes);
                alongLanes = v.fma(FloatVector.fromArray(F, dk, e), alongLanes);
            }
            float[] lanes = VectorLanes.scratch();
            squaredLanes.intoArray(lanes, 0);
            double squared = VectorLanes.sum(lanes, F.length());
            alongLanes.intoArray(lanes, 0);
            double along = VectorLanes.sum(lanes, F.length());
            for (; e < d; e++) {
                squared += (double) x[at + e] * x[at + e];
                along += (double) x[at + e] * dk[e];
            }
            double norm = Math.sqrt(Math.max(squared, 1e-24));
            double projection = squared >= 1e-24 ? along / (norm * norm) : 0;
            float inverse = (float) (1 / norm);                   // dx += dk / |x| - x (projection / |x|)
            float alongX = (float) (projection / norm);
            FloatVector byNorm = FloatVector.broadcast(F, inverse);
            FloatVector byX = FloatVector.broadcast(F, -alongX);
            for (e = 0; e < F.loopBound(d); e += F.length()) {
                FloatVector.fromArray(F, dk, e).fma(byNorm, FloatVector.fromArray(F, x, at + e).fma(byX,
                        FloatVector.fromArray(F, dx, e))).intoArray(dx, e);
            }
            for (; e < d; e++) {
                dx[e] += dk[e] * inverse - x[at + e] * alongX;
            }
        }

        static void normalize(float[] x, int at, int d) {
            FloatVector acc = FloatVector.zero(F);
            int e = 0;
            for (; e < F.loopBound(d); e += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, at + e);
                acc = v.fma(v, acc);
            }
            float[] lanes = VectorLanes.scratch();
            acc.intoArray(lanes, 0);
            double squared = VectorLanes.sum(lanes, F.length());
            for (; e < d; e++) {
                squared += (double) x[at + e] * x[at + e];
            }
            float inverse = (float) (1.0 / Math.sqrt(Math.max(squared, 1e-24)));
            for (e = 0; e < F.loopBound(d); e += F.length()) {
                FloatVector.fromArray(F, x, at + e).mul(inverse).intoArray(x, at + e);
            }
            for (; e < d; e++) {
                x[at + e] *= inverse;
            }
        }
    }
}
