package dev.reformer.tensor.kernels;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * A float32 or float64 tensor's dense memory as the kernels read and write it: bulk copies
 * between the off-heap buffer and heap arrays ({@code float[]} for float32, {@code double[]} for
 * float64), by element index.
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

    /** Elements {@code [from, from + length)} into {@code dst[at ..]}; float64 only. */
    void get(long from, double[] dst, int at, int length) {
        doubles.get(Math.toIntExact(from), dst, at, length);
    }

    /** Element {@code index} as a double. */
    double get(long index) {
        return floats != null ? floats.get(Math.toIntExact(index)) : doubles.get(Math.toIntExact(index));
    }

    /** {@code src[at ..]} into elements {@code [from, from + length)}; float32 only. */
    void put(long from, float[] src, int at, int length) {
        floats.put(Math.toIntExact(from), src, at, length);
    }

    /** {@code src[at ..]} into elements {@code [from, from + length)}; float64 only. */
    void put(long from, double[] src, int at, int length) {
        doubles.put(Math.toIntExact(from), src, at, length);
    }
}
