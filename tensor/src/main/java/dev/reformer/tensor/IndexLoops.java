package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The primitives ND4J has no fitting op for, written as plain Java loops over row-major memory:
 * gather, scatter-add, argsort, argmax, one-hot, where, comparisons, expand, concat, casts and
 * the copy of a strided view into dense memory.
 *
 * <p>Gather and scatter-add see a tensor of shape (A..., N, R...) as {@code outer} rows of
 * {@code N} blocks of {@code inner} contiguous elements, with {@code outer = prod(A)} and
 * {@code inner = prod(R)}; moving whole blocks keeps them near memory speed.
 */
final class IndexLoops {
    private IndexLoops() {
    }

    static Tensor gather(Tensor x, int axis, Tensor index) {
        Layout at = Layout.of("gather", x, axis, index);
        long[] idx = index.toLongArray();
        Tensor out = Tensor.empty(x.dtype(), at.outShape(x.shape()));
        ByteBuffer src = x.bytes(false);
        ByteBuffer dst = out.bytes(true);
        int block = Math.toIntExact(at.inner * x.dtype().bytes());
        for (long o = 0; o < at.outer; o++) {
            for (long j = 0; j < at.m; j++) {
                long k = at.checkedIndex("gather", idx, o, j, x, index);
                dst.put(Math.toIntExact((o * at.m + j) * block), src, Math.toIntExact((o * at.n + k) * block), block);
            }
        }
        return out;
    }

    static Tensor scatterAdd(Tensor base, int axis, Tensor index, Tensor src) {
        Layout at = Layout.of("scatterAdd", base, axis, index);
        long[] want = at.outShape(base.shape());
        if (!Arrays.equals(src.shape(), want)) {
            throw new ShapeException("scatterAdd: src" + src.shapeString() + " must have shape " + Shapes.str(want)
                    + " for base" + base.shapeString() + ", axis " + axis + " and index" + index.shapeString());
        }
        if (src.dtype() != base.dtype() || !base.dtype().isFloating()) {
            throw new DTypeException("scatterAdd: base is " + base.dtype().label() + " and src is " + src.dtype().label()
                    + "; both must be the same floating type");
        }
        long[] idx = index.toLongArray();
        Tensor out = Tensor.empty(base.dtype(), base.shape());
        out.bytes(true).put(0, base.bytes(false), 0, Math.toIntExact(base.bytes()));
        int inner = Math.toIntExact(at.inner);
        if (base.dtype() == DType.FLOAT32) {
            FloatBuffer d = out.bytes(true).asFloatBuffer();
            FloatBuffer s = src.bytes(false).asFloatBuffer();
            for (long o = 0; o < at.outer; o++) {
                for (long j = 0; j < at.m; j++) {
                    int to = Math.toIntExact((o * at.n + at.checkedIndex("scatterAdd", idx, o, j, base, index)) * inner);
                    int from = Math.toIntExact((o * at.m + j) * inner);
                    for (int r = 0; r < inner; r++) {
                        d.put(to + r, d.get(to + r) + s.get(from + r));
                    }
                }
            }
        } else {
            DoubleBuffer d = out.bytes(true).asDoubleBuffer();
            DoubleBuffer s = src.bytes(false).asDoubleBuffer();
            for (long o = 0; o < at.outer; o++) {
                for (long j = 0; j < at.m; j++) {
                    int to = Math.toIntExact((o * at.n + at.checkedIndex("scatterAdd", idx, o, j, base, index)) * inner);
                    int from = Math.toIntExact((o * at.m + j) * inner);
                    for (int r = 0; r < inner; r++) {
                        d.put(to + r, d.get(to + r) + s.get(from + r));
                    }
                }
            }
        }
        return out;
    }

    /**
     * {@code cond ? a : b} for floating a and b, each operand read in place with stride 0 along
     * the axes it is broadcast over (nothing is expanded). The output is walked row by row: the
     * outer index sets each operand's row offset, the inner loop runs along the last axis.
     */
    static Tensor where(Tensor cond, Tensor a, Tensor b, long[] shape) {
        Tensor out = Tensor.empty(a.dtype(), shape);
        int rank = shape.length;
        int inner = rank == 0 ? 1 : Math.toIntExact(shape[rank - 1]);
        long outer = Shapes.numel(shape) / Math.max(inner, 1);
        long[] cStride = broadcastStrides(cond.shape(), shape);
        long[] aStride = broadcastStrides(a.shape(), shape);
        long[] bStride = broadcastStrides(b.shape(), shape);
        int cLast = rank == 0 ? 0 : (int) cStride[rank - 1];
        int aLast = rank == 0 ? 0 : (int) aStride[rank - 1];
        int bLast = rank == 0 ? 0 : (int) bStride[rank - 1];
        ByteBuffer c = cond.bytes(false);
        long[] index = new long[Math.max(rank - 1, 0)];
        boolean isFloat = a.dtype() == DType.FLOAT32;
        FloatBuffer af = isFloat ? a.bytes(false).asFloatBuffer() : null;
        FloatBuffer bf = isFloat ? b.bytes(false).asFloatBuffer() : null;
        FloatBuffer of = isFloat ? out.bytes(true).asFloatBuffer() : null;
        DoubleBuffer ad = isFloat ? null : a.bytes(false).asDoubleBuffer();
        DoubleBuffer bd = isFloat ? null : b.bytes(false).asDoubleBuffer();
        DoubleBuffer od = isFloat ? null : out.bytes(true).asDoubleBuffer();
        int o = 0;
        for (long row = 0; row < outer; row++) {
            int co = 0;
            int ao = 0;
            int bo = 0;
            for (int k = 0; k < index.length; k++) {
                co += (int) (index[k] * cStride[k]);
                ao += (int) (index[k] * aStride[k]);
                bo += (int) (index[k] * bStride[k]);
            }
            for (int j = 0; j < inner; j++, o++) {
                boolean pickA = c.get(co + j * cLast) != 0;
                if (isFloat) {
                    of.put(o, pickA ? af.get(ao + j * aLast) : bf.get(bo + j * bLast));
                } else {
                    od.put(o, pickA ? ad.get(ao + j * aLast) : bd.get(bo + j * bLast));
                }
            }
            for (int k = index.length - 1; k >= 0 && ++index[k] == shape[k]; k--) {
                index[k] = 0;
            }
        }
        return out;
    }

    /**
     * {@code x} broadcast to {@code target}: each output row (along the last axis) is one bulk
     * copy of the source row, or, when the last axis is the broadcast one, the single source
     * element written once and then doubled in place (log2 of the row length copies).
     * ND4J's own broadcast took about 500 ms to fill a 33 MB float tensor; this takes tens.
     */
    static Tensor expand(Tensor x, long[] target) {
        int rank = target.length;
        long[] xs = Shapes.padLeft(x.shape(), rank);
        Tensor out = Tensor.empty(x.dtype(), target);
        ByteBuffer src = x.bytes(false);
        ByteBuffer dst = out.bytes(true);
        int e = x.dtype().bytes();
        int inner = Math.toIntExact(target[rank - 1]);
        long outer = Shapes.numel(target) / Math.max(inner, 1);
        long[] stride = broadcastStrides(xs, target);
        boolean repeatLast = xs[rank - 1] == 1 && inner > 1;
        long[] index = new long[rank - 1];
        for (long row = 0; row < outer; row++) {
            int from = 0;
            for (int k = 0; k < index.length; k++) {
                from += (int) (index[k] * stride[k]);
            }
            int to = Math.toIntExact(row * inner * e);
            if (!repeatLast) {
                dst.put(to, src, from * e, inner * e);
            } else {
                dst.put(to, src, from * e, e);
                for (int filled = 1; filled < inner; filled *= 2) {
                    dst.put(to + filled * e, dst, to, Math.min(filled, inner - filled) * e);
                }
            }
            for (int k = index.length - 1; k >= 0 && ++index[k] == target[k]; k--) {
                index[k] = 0;
            }
        }
        return out;
    }

    /** Copies a strided view into the dense row-major tensor {@code out} of the same shape, one row at a time. */
    static void copyStrided(Tensor src, Tensor out) {
        long[] shape = src.shape();
        long[] stride = src.strides();
        long offset = src.elementOffset();
        int rank = shape.length;
        int e = src.dtype().bytes();
        ByteBuffer from = src.nio();
        ByteBuffer to = out.bytes(true);
        if (rank == 0) {
            to.put(0, from, (int) (offset * e), e);
            return;
        }
        int inner = Math.toIntExact(shape[rank - 1]);
        long step = stride[rank - 1];
        long outer = Shapes.numel(shape) / Math.max(inner, 1);
        long[] index = new long[rank - 1];
        int at = 0;
        for (long row = 0; row < outer; row++) {
            long base = offset;
            for (int k = 0; k < index.length; k++) {
                base += index[k] * stride[k];
            }
            if (step == 1) {
                to.put(at, from, (int) (base * e), inner * e);
                at += inner * e;
            } else {
                for (int j = 0; j < inner; j++, at += e) {
                    to.put(at, from, (int) ((base + j * step) * e), e);
                }
            }
            for (int k = index.length - 1; k >= 0 && ++index[k] == shape[k]; k--) {
                index[k] = 0;
            }
        }
    }

    /** Writes the parts one after another along {@code axis} into {@code out}: per outer index, one block copy per part. */
    static void concat(Tensor[] parts, int axis, Tensor out) {
        long[] shape = out.shape();
        long outer = Shapes.product(shape, 0, axis);
        long inner = Shapes.product(shape, axis + 1, shape.length);
        int e = out.dtype().bytes();
        ByteBuffer to = out.bytes(true);
        long rowBytes = shape[axis] * inner * e;
        long offset = 0;
        for (Tensor part : parts) {
            ByteBuffer from = part.bytes(false);
            long block = part.shape()[axis] * inner * e;
            for (long o = 0; o < outer; o++) {
                to.put(Math.toIntExact(o * rowBytes + offset), from, Math.toIntExact(o * block), Math.toIntExact(block));
            }
            offset += block;
        }
    }

    /** The values of dense {@code src} written into dense {@code out} of another dtype (integers via long, the rest via double). */
    static void convert(Tensor src, Tensor out) {
        ByteBuffer from = src.bytes(false);
        ByteBuffer to = out.bytes(true);
        int n = Math.toIntExact(src.numel());
        boolean integral = !src.dtype().isFloating() && !out.dtype().isFloating();
        for (int i = 0; i < n; i++) {
            if (integral) {
                long v = switch (src.dtype()) {
                    case INT32 -> from.getInt(4 * i);
                    case INT64 -> from.getLong(8 * i);
                    default -> from.get(i) != 0 ? 1 : 0;
                };
                switch (out.dtype()) {
                    case INT32 -> to.putInt(4 * i, (int) v);
                    case INT64 -> to.putLong(8 * i, v);
                    default -> to.put(i, v != 0 ? (byte) 1 : (byte) 0);
                }
            } else {
                double v = switch (src.dtype()) {
                    case FLOAT32 -> from.getFloat(4 * i);
                    case FLOAT64 -> from.getDouble(8 * i);
                    case INT32 -> from.getInt(4 * i);
                    case INT64 -> from.getLong(8 * i);
                    case BOOL -> from.get(i) != 0 ? 1 : 0;
                };
                switch (out.dtype()) {
                    case FLOAT32 -> to.putFloat(4 * i, (float) v);
                    case FLOAT64 -> to.putDouble(8 * i, v);
                    case INT32 -> to.putInt(4 * i, (int) v);
                    case INT64 -> to.putLong(8 * i, (long) v);
                    case BOOL -> to.put(i, v != 0 ? (byte) 1 : (byte) 0);
                }
            }
        }
    }

    /** A comparison of two numbers, for {@link #compare}. */
    interface Comparison {
        boolean test(double a, double b);
    }

    /**
     * {@code a OP b} elementwise into a bool tensor, for operands that broadcast against each
     * other. ND4J would need both expanded to the result's shape first (for LSH's position masks,
     * two int64 copies of the whole (N, n, C, W*C) logits grid); here each operand is read in
     * place with stride 0 along its broadcast axes.
     */
    static Tensor compare(Tensor a, Tensor b, long[] shape, Comparison op) {
        Tensor out = Tensor.empty(DType.BOOL, shape);
        if (shape.length == 0) {
            out.bytes(true).put(0, op.test(reader(a).get(0), reader(b).get(0)) ? (byte) 1 : (byte) 0);
            return out;
        }
        int rank = shape.length;
        int inner = Math.toIntExact(shape[rank - 1]);
        long outer = Shapes.numel(shape) / Math.max(inner, 1);
        long[] aStride = broadcastStrides(a.shape(), shape);
        long[] bStride = broadcastStrides(b.shape(), shape);
        int aLast = (int) aStride[rank - 1];
        int bLast = (int) bStride[rank - 1];
        Reader ra = reader(a);
        Reader rb = reader(b);
        ByteBuffer o = out.bytes(true);
        long[] index = new long[rank - 1];
        int at = 0;
        for (long row = 0; row < outer; row++) {
            int ao = 0;
            int bo = 0;
            for (int k = 0; k < index.length; k++) {
                ao += (int) (index[k] * aStride[k]);
                bo += (int) (index[k] * bStride[k]);
            }
            for (int j = 0; j < inner; j++, at++) {
                o.put(at, op.test(ra.get(ao + j * aLast), rb.get(bo + j * bLast)) ? (byte) 1 : (byte) 0);
            }
            for (int k = index.length - 1; k >= 0 && ++index[k] == shape[k]; k--) {
                index[k] = 0;
            }
        }
        return out;
    }

    /** Reads element i of a tensor's row-major memory as a double (exact for int64 up to 2^53). */
    private interface Reader {
        double get(int i);
    }

    private static Reader reader(Tensor t) {
        ByteBuffer bytes = t.bytes(false);
        return switch (t.dtype()) {
            case FLOAT32 -> bytes.asFloatBuffer()::get;
            case FLOAT64 -> bytes.asDoubleBuffer()::get;
            case INT32 -> bytes.asIntBuffer()::get;
            case INT64 -> bytes.asLongBuffer()::get;
            case BOOL -> bytes::get;
        };
    }

    /** Row-major strides of {@code shape} read as {@code target} under broadcasting: 0 along broadcast axes. */
    private static long[] broadcastStrides(long[] shape, long[] target) {
        long[] own = Shapes.strides(shape);
        long[] out = new long[target.length];
        int lead = target.length - shape.length;
        for (int i = lead; i < target.length; i++) {
            out[i] = shape[i - lead] == 1 ? 0 : own[i - lead];
        }
        return out;
    }

    /** Stable ascending sort of each row along {@code axis}; returns the permutation as int64. */
    static Tensor argsort(Tensor x, int axis) {
        Rows rows = Rows.of(x, axis);
        long[] out = new long[rows.values.length];
        int[] order = new int[rows.n];
        int[] scratch = new int[rows.n];
        for (int r = 0; r < rows.count; r++) {
            int base = r * rows.n;
            for (int i = 0; i < rows.n; i++) {
                order[i] = i;
            }
            mergeSort(rows.values, base, order, scratch, 0, rows.n);
            for (int i = 0; i < rows.n; i++) {
                out[base + i] = order[i];
            }
        }
        return rows.restore(Tensor.of(out, rows.movedShape), axis);
    }

    /** Index of the first maximum of each row along {@code axis}, as int64. */
    static Tensor argmax(Tensor x, int axis, boolean keepDims) {
        Rows rows = Rows.of(x, axis);
        long[] out = new long[rows.count];
        for (int r = 0; r < rows.count; r++) {
            int base = r * rows.n;
            int best = 0;
            for (int i = 1; i < rows.n; i++) {
                if (rows.values[base + i] > rows.values[base + best]) {
                    best = i;
                }
            }
            out[r] = best;
        }
        return Tensor.of(out, Shapes.reduced(x.shape(), new int[] {axis}, keepDims));
    }

    static Tensor oneHot(Tensor index, int depth, DType outType) {
        if (!index.dtype().isInteger()) {
            throw new DTypeException("oneHot: index" + index.shapeString() + " is " + index.dtype().label()
                    + " but must be int32 or int64");
        }
        long[] idx = index.toLongArray();
        double[] out = new double[Math.toIntExact((long) idx.length * depth)];
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= depth) {
                throw new IndexRangeException("oneHot: index " + idx[i] + " at flat position " + i
                        + " is out of range for depth " + depth + ": expected 0 <= index < " + depth);
            }
            out[i * depth + (int) idx[i]] = 1.0;
        }
        long[] shape = Arrays.copyOf(index.shape(), index.rank() + 1);
        shape[index.rank()] = depth;
        return Tensor.of(out, shape).cast(outType);
    }

    /** Stable merge sort of {@code order[from, to)} by {@code keys[base + order[i]]}. */
    private static void mergeSort(double[] keys, int base, int[] order, int[] scratch, int from, int to) {
        if (to - from < 2) {
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(keys, base, order, scratch, from, mid);
        mergeSort(keys, base, order, scratch, mid, to);
        if (keys[base + order[mid - 1]] <= keys[base + order[mid]]) {
            return; // already in order
        }
        System.arraycopy(order, from, scratch, from, to - from);
        int i = from;
        int j = mid;
        for (int k = from; k < to; k++) {
            // "<=" takes from the left run on ties: that is what makes the sort stable.
            if (j >= to || (i < mid && keys[base + scratch[i]] <= keys[base + scratch[j]])) {
                order[k] = scratch[i++];
            } else {
                order[k] = scratch[j++];
            }
        }
    }

    /** The (outer, N, inner) view of a gather or scatter-add and the checks on its index. */
    private record Layout(long outer, long n, long inner, long m, int axis, boolean sharedIndex) {
        static Layout of(String op, Tensor x, int axis, Tensor index) {
            if (!index.dtype().isInteger()) {
                throw new DTypeException(op + ": index" + index.shapeString() + " is " + index.dtype().label()
                        + " but must be int32 or int64");
            }
            long[] xs = x.shape();
            long[] is = index.shape();
            boolean shared = is.length == 1;
            boolean leadingMatch = is.length == axis + 1
                    && Arrays.equals(Arrays.copyOf(is, axis), Arrays.copyOf(xs, axis));
            if (!shared && !leadingMatch) {
                throw new ShapeException(op + ": index" + Shapes.str(is) + " does not fit x" + Shapes.str(xs)
                        + " at axis " + axis + ": expected index shape " + Shapes.str(Arrays.copyOf(xs, axis))
                        .replace(")", (axis == 0 ? "" : ",") + "M)") + " or (M)");
            }
            return new Layout(Shapes.product(xs, 0, axis), xs[axis], Shapes.product(xs, axis + 1, xs.length),
                    is[is.length - 1], axis, shared);
        }

        long[] outShape(long[] xs) {
            long[] out = xs.clone();
            out[axis] = m;
            return out;
        }

        long checkedIndex(String op, long[] idx, long o, long j, Tensor x, Tensor index) {
            long k = idx[Math.toIntExact(sharedIndex ? j : o * m + j)];
            if (k < 0 || k >= n) {
                throw new IndexRangeException(op + ": index " + k + " at position " + position(index, sharedIndex ? j : o * m + j)
                        + " is out of range for axis " + axis + " of x" + x.shapeString() + ": expected 0 <= index < " + n);
            }
            return k;
        }

        private static String position(Tensor index, long flat) {
            long[] shape = index.shape();
            long[] coord = new long[shape.length];
            for (int i = shape.length - 1; i >= 0; i--) {
                coord[i] = flat % shape[i];
                flat /= shape[i];
            }
            return Shapes.str(coord);
        }
    }

    /** A tensor's values as rows along one axis (that axis moved last), and the way back. */
    private record Rows(double[] values, int count, int n, long[] movedShape) {
        static Rows of(Tensor x, int axis) {
            Tensor moved = x.permute(moveLast(x.rank(), axis));
            long[] shape = moved.shape();
            int n = Math.toIntExact(shape[shape.length - 1]);
            double[] values = moved.toDoubleArray();
            return new Rows(values, n == 0 ? 0 : values.length / n, n, shape);
        }

        Tensor restore(Tensor movedResult, int axis) {
            int[] there = moveLast(movedResult.rank(), axis);
            int[] back = new int[there.length];
            for (int i = 0; i < there.length; i++) {
                back[there[i]] = i;
            }
            return movedResult.permute(back);
        }

        private static int[] moveLast(int rank, int axis) {
            int[] order = new int[rank];
            int j = 0;
            for (int i = 0; i < rank; i++) {
                if (i != axis) {
                    order[j++] = i;
                }
            }
            order[rank - 1] = axis;
            return order;
        }
    }
}
