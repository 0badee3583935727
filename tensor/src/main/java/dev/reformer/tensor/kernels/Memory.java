package dev.reformer.tensor.kernels;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * A float32 or float64 tensor's dense memory as the kernels read and write it: bulk copies
 * between the off-heap buffer and heap arrays, by element index. The vector kernels take
 * float32 as {@code float[]}; the scalar loops take {@code double[]}, so float32 values are widened
 * on the way in and rounded on the way out, through a {@code float[]} the caller lends.
 */
final class Memory {
    private final FloatBuffer floats;
    private final DoubleBuffer doubles;

    private Memory(FloatBuffer floats, DoubleBuffer doubles) {
        this.floats = floats;
        this.doubles = doubles;
    }

    /** Read access to {@code t}'s elements in row-major order. */
    static Memory of(Tensor t) {
        return t.dtype() == DType.FLOAT32 ? new Memory(t.floats(), null) : new Memory(null, t.doubles());
    }

    /** Write access to {@code t}, a tensor the kernel has just made. */
    static Memory writable(Tensor t) {
        return t.dtype() == DType.FLOAT32 ? new Memory(t.writableFloats(), null) : new Memory(null, t.writableDoubles());
    }

    boolean isFloat() {
        return floats != null;
    }

    /** Elements {@code [from, from + length)} into {@code dst[at ..]}; float32 only. */
    void get(long from, float[] dst, int at, int length) {
        floats.get(Math.toIntExact(from), dst, at, length);
    }

    /** Elements {@code [from, from + length)} into {@code dst[at ..]} as doubles; float32 passes through {@code staging}. */
    void get(long from, double[] dst, int at, int length, float[] staging) {
        if (floats == null) {
            doubles.get(Math.toIntExact(from), dst, at, length);
            return;
        }
        floats.get(Math.toIntExact(from), staging, 0, length);
        for (int k = 0; k < length; k++) {
            dst[at + k] = staging[k];
        }
    }

    /** Element {@code index} as a double. */
    double get(long index) {
        return floats != null ? floats.get(Math.toIntExact(index)) : doubles.get(Math.toIntExact(index));
    }

    /** {@code src[at ..]} into elements {@code [from, from + length)}; float32 only. */
    void put(long from, float[] src, int at, int length) {
        floats.put(Math.toIntExact(from), src, at, length);
    }

    /** {@code src[at ..]} into elements {@code [from, from + length)}, rounded through {@code staging} for float32. */
    void put(long from, double[] src, int at, int length, float[] staging) {
        if (floats == null) {
            doubles.put(Math.toIntExact(from), src, at, length);
            return;
        }
        for (int k = 0; k < length; k++) {
            staging[k] = (float) src[at + k];
        }
        floats.put(Math.toIntExact(from), staging, 0, length);
    }
}
