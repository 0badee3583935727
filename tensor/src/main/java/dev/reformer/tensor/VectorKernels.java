package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise, broadcasting and reduction kernels in the JDK's vector API, over the row-major
 * memory of float32 and float64 tensors, split over both cores with {@link Parallel}.
 *
 * <p>Every kernel walks its output as {@code rows} of {@code n} contiguous elements; an operand
 * either runs along a row (stride 1) or is one value repeated over it (stride 0, broadcast), so a
 * row is one vector loop, and the few elements past the last whole vector a scalar loop: masked
 * vector loads and stores at the end of a row cost more than they save, and once gave a wrong last
 * element in one full test run out of many that we could not reproduce (C2 has had bugs that move
 * masked loads, JDK-8317121). Each kernel comes in a float and a double flavour with the same shape
 * (the vector API types them apart). {@link Tensor} calls these after checking shapes and
 * dtypes; float32 row folds go on to {@link HeapRows}.
 */
final class VectorKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Elements per work item: large enough to hide the hand-off, small enough to split 16M elements evenly. */
    static final int BLOCK = 1 << 15;

    private VectorKernels() {
    }

    // ------------------------------------------------------------------ unary

    /**
     * {@code out = op(x)} for contiguous x and out of one floating dtype. The float exponential is
     * {@link VectorMath}'s; logarithm and tanh, and every transcendental in float64, are scalar
     * {@code Math} calls, not the vector API's, which give different bits in different JIT tiers
     * (see {@link VectorMath}).
     */
    static void unary(Elementwise.Unary op, Tensor x, Tensor out) {
        boolean isFloat = x.dtype() == DType.FLOAT32;
        if (isFloat && op == Elementwise.Unary.EXP) {
            HeapRows.exp(x, out);
            return;
        }
        ByteBuffer xb = x.nio();
        ByteBuffer ob = out.nio();
        long xo = x.elementOffset();
        long oo = out.elementOffset();
        int n = Math.toIntExact(out.numel());
        int blocks = (n + BLOCK - 1) / BLOCK;
        Parallel.forRange(blocks, 1, (from, to) -> {
            for (int blk = from; blk < to; blk++) {
                int start = blk * BLOCK;
                int len = Math.min(BLOCK, n - start);
                int xi = (int) (xo + start);
                int oi = (int) (oo + start);
                if (op == Elementwise.Unary.EXP || op == Elementwise.Unary.LOG || op == Elementwise.Unary.TANH) {
                    transcendental(op, isFloat, xb, xi, ob, oi, len);
                } else if (isFloat) {
                    unaryF(op, xb, xi, ob, oi, len);
                } else {
                    unaryD(op, xb, xi, ob, oi, len);
                }
            }
        });
    }

    /** exp, log or tanh, one scalar {@code Math} call per element. */
    private static void transcendental(Elementwise.Unary op, boolean isFloat, ByteBuffer x, int xi, ByteBuffer o, int oi,
            int n) {
        for (int i = 0; i < n; i++) {
            double v = isFloat ? x.getFloat(4 * (xi + i)) : x.getDouble(8 * (xi + i));
            double y = switch (op) {
                case EXP -> Math.exp(v);
                case LOG -> Math.log(v);
                case TANH -> Math.tanh(v);
                default -> throw new IllegalArgumentException("not a transcendental: " + op);
            };
            if (isFloat) {
                o.putFloat(4 * (oi + i), (float) y);
            } else {
                o.putDouble(8 * (oi + i), y);
            }
        }
    }

    private static void unaryF(Elementwise.Unary op, ByteBuffer x, int xi, ByteBuffer o, int oi, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            applyF(op, FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE)).intoByteBuffer(o, 4 * (oi + i), NATIVE);
        }
        for (; i < n; i++) {
            o.putFloat(4 * (oi + i), (float) scalar(op, x.getFloat(4 * (xi + i))));
        }
    }

    private static FloatVector applyF(Elementwise.Unary op, FloatVector v) {
        return switch (op) {
            case NEG -> v.neg();
            case SQRT -> v.sqrt();
            case RELU -> v.max(0f);
            default -> throw new IllegalArgumentException("no vector form of " + op);
        };
    }

    private static void unaryD(Elementwise.Unary op, ByteBuffer x, int xi, ByteBuffer o, int oi, int n) {
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            applyD(op, DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE)).intoByteBuffer(o, 8 * (oi + i), NATIVE);
        }
        for (; i < n; i++) {
            o.putDouble(8 * (oi + i), scalar(op, x.getDouble(8 * (xi + i))));
        }
    }

    /** NEG, SQRT or RELU of one value: the loops' tails. */
    private static double scalar(Elementwise.Unary op, double v) {
        return switch (op) {
            case NEG -> -v;
            case SQRT -> Math.sqrt(v);
            case RELU -> Math.max(v, 0);
            default -> throw new IllegalArgumentException("no scalar form of " + op);
        };
    }

    private static DoubleVector applyD(Elementwise.Unary op, DoubleVector v) {
        return switch (op) {
            case NEG -> v.neg();
            case SQRT -> v.sqrt();
            case RELU -> v.max(0d);
            default -> throw new IllegalArgumentException("no vector form of " + op);
        };
    }

    // ------------------------------------------------------------------ GELU

    /** sqrt(2/pi) and the cubic coefficient of GELU's tanh form. */
    static final double GELU_C = Math.sqrt(2 / Math.PI);
    static final double GELU_A = 0.044715;

    /** {@code out = 0.5 x (1 + tanh(u))} with {@code u = sqrt(2/pi) (x + 0.044715 x^3)}; x and out contiguous. */
    static void gelu(Tensor x, Tensor out) {
        geluPass(x, null, out);
    }

    /**
     * {@code out = g dy/dx} for {@code y = gelu(x)}:
     * {@code dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)}.
     */
    static void geluBackward(Tensor x, Tensor g, Tensor out) {
        geluPass(x, g, out);
    }

    /**
     * One pass over the elements: the forward where g is null, else the backward. Float32 goes to
     * {@link HeapRows#gelu} (the sigmoid form, on {@link VectorMath}'s exponential); float64 is
     * {@link #geluScalar} and {@link #geluDerivative} per element.
     */
    private static void geluPass(Tensor x, Tensor g, Tensor out) {
        if (x.dtype() == DType.FLOAT32) {
            HeapRows.gelu(x, g, out);
            return;
        }
        ByteBuffer xb = x.nio();
        ByteBuffer gb = g == null ? null : g.nio();
        ByteBuffer ob = out.nio();
        long xo = x.elementOffset();
        long go = g == null ? 0 : g.elementOffset();
        long oo = out.elementOffset();
        int n = Math.toIntExact(out.numel());
        int blocks = (n + BLOCK - 1) / BLOCK;
        Parallel.forRange(blocks, 1, (from, to) -> {
            for (int blk = from; blk < to; blk++) {
                int start = blk * BLOCK;
                int len = Math.min(BLOCK, n - start);
                for (int i = 0; i < len; i++) {
                    double v = xb.getDouble(8 * (int) (xo + start + i));
                    double y = gb == null ? geluScalar(v) : geluDerivative(v) * gb.getDouble(8 * (int) (go + start + i));
                    ob.putDouble(8 * (int) (oo + start + i), y);
                }
            }
        });
    }

    static double geluScalar(double v) {
        return 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
    }

    static double geluDerivative(double v) {
        double t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
    }

    // ------------------------------------------------------------------ binary with broadcasting

    /**
     * {@code out = a OP b}; a and b are contiguous and broadcast to out's shape. Adjacent axes that
     * both operands step through alike are merged first, so a same-shape op is one flat row and
     * {@code x + bias} is rows of the bias length.
     */
    static void binary(Elementwise.Binary op, Tensor a, Tensor b, Tensor out) {
        BroadcastPlan plan = BroadcastPlan.of(out.shape(), a.shape(), b.shape());
        ByteBuffer ab = a.nio();
        ByteBuffer bb = b.nio();
        ByteBuffer ob = out.nio();
        long ao = a.elementOffset();
        long bo = b.elementOffset();
        long oo = out.elementOffset();
        boolean isFloat = out.dtype() == DType.FLOAT32;
        int n = plan.rowLength;
        int blocksPerRow = (n + BLOCK - 1) / BLOCK;
        int rowsPerItem = Math.max(1, BLOCK / Math.max(n, 1));
        int items = blocksPerRow > 1 ? plan.rows * blocksPerRow : (plan.rows + rowsPerItem - 1) / rowsPerItem;
        Parallel.forRange(items, 1, (from, to) -> {
            for (int item = from; item < to; item++) {
                int firstRow;
                int lastRow;
                int start;
                int len;
                if (blocksPerRow > 1) {
                    firstRow = item / blocksPerRow;
                    lastRow = firstRow + 1;
                    start = (item % blocksPerRow) * BLOCK;
                    len = Math.min(BLOCK, n - start);
                } else {
                    firstRow = item * rowsPerItem;
                    lastRow = Math.min(plan.rows, firstRow + rowsPerItem);
                    start = 0;
                    len = n;
                }
                for (int row = firstRow; row < lastRow; row++) {
                    long aRow = ao + plan.aOffset(row) + (long) start * plan.aInner;
                    long bRow = bo + plan.bOffset(row) + (long) start * plan.bInner;
                    long oRow = oo + (long) row * n + start;
                    if (isFloat) {
                        rowF(op, ab, (int) aRow, plan.aInner, bb, (int) bRow, plan.bInner, ob, (int) oRow, len);
                    } else {
                        rowD(op, ab, (int) aRow, plan.aInner, bb, (int) bRow, plan.bInner, ob, (int) oRow, len);
                    }
                }
            }
        });
    }

    // A vector that is either loaded or broadcast must not flow through one variable: the JIT
    // then boxes it and falls back to scalar code (measured: 27% of a training step). So each
    // stride pattern gets its own loop, and the op is chosen per vector by a switch over values.

    private static void rowF(Elementwise.Binary op, ByteBuffer a, int ai, int aStep, ByteBuffer b, int bi, int bStep,
            ByteBuffer o, int oi, int n) {
        if (aStep != 0 && bStep != 0) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                combineF(op, FloatVector.fromByteBuffer(F, a, 4 * (ai + i), NATIVE),
                        FloatVector.fromByteBuffer(F, b, 4 * (bi + i), NATIVE)).intoByteBuffer(o, 4 * (oi + i), NATIVE);
            }
            for (; i < n; i++) {
                o.putFloat(4 * (oi + i), scalarF(op, a.getFloat(4 * (ai + i)), b.getFloat(4 * (bi + i))));
            }
        } else if (aStep != 0) {
            FloatVector y = FloatVector.broadcast(F, b.getFloat(4 * bi));
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                combineF(op, FloatVector.fromByteBuffer(F, a, 4 * (ai + i), NATIVE), y).intoByteBuffer(o, 4 * (oi + i), NATIVE);
            }
            for (; i < n; i++) {
                o.putFloat(4 * (oi + i), scalarF(op, a.getFloat(4 * (ai + i)), y.lane(0)));
            }
        } else {
            FloatVector x = FloatVector.broadcast(F, a.getFloat(4 * ai));
            int i = 0;
            if (bStep == 0) {
                FloatVector r = combineF(op, x, FloatVector.broadcast(F, b.getFloat(4 * bi)));
                for (; i < F.loopBound(n); i += F.length()) {
                    r.intoByteBuffer(o, 4 * (oi + i), NATIVE);
                }
            } else {
                for (; i < F.loopBound(n); i += F.length()) {
                    combineF(op, x, FloatVector.fromByteBuffer(F, b, 4 * (bi + i), NATIVE)).intoByteBuffer(o, 4 * (oi + i), NATIVE);
                }
            }
            for (; i < n; i++) {
                float bv = b.getFloat(4 * (bi + (bStep == 0 ? 0 : i)));
                o.putFloat(4 * (oi + i), scalarF(op, a.getFloat(4 * ai), bv));
            }
        }
    }

    private static FloatVector combineF(Elementwise.Binary op, FloatVector x, FloatVector y) {
        return switch (op) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case MAXIMUM -> x.max(y);
        };
    }

    private static float scalarF(Elementwise.Binary op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAXIMUM -> Math.max(x, y);
        };
    }

    private static void rowD(Elementwise.Binary op, ByteBuffer a, int ai, int aStep, ByteBuffer b, int bi, int bStep,
            ByteBuffer o, int oi, int n) {
        if (aStep != 0 && bStep != 0) {
            int i = 0;
            for (; i < D.loopBound(n); i += D.length()) {
                combineD(op, DoubleVector.fromByteBuffer(D, a, 8 * (ai + i), NATIVE),
                        DoubleVector.fromByteBuffer(D, b, 8 * (bi + i), NATIVE)).intoByteBuffer(o, 8 * (oi + i), NATIVE);
            }
            for (; i < n; i++) {
                o.putDouble(8 * (oi + i), scalarD(op, a.getDouble(8 * (ai + i)), b.getDouble(8 * (bi + i))));
            }
        } else if (aStep != 0) {
            DoubleVector y = DoubleVector.broadcast(D, b.getDouble(8 * bi));
            int i = 0;
            for (; i < D.loopBound(n); i += D.length()) {
                combineD(op, DoubleVector.fromByteBuffer(D, a, 8 * (ai + i), NATIVE), y).intoByteBuffer(o, 8 * (oi + i), NATIVE);
            }
            for (; i < n; i++) {
                o.putDouble(8 * (oi + i), scalarD(op, a.getDouble(8 * (ai + i)), y.lane(0)));
            }
        } else {
            DoubleVector x = DoubleVector.broadcast(D, a.getDouble(8 * ai));
            int i = 0;
            if (bStep == 0) {
                DoubleVector r = combineD(op, x, DoubleVector.broadcast(D, b.getDouble(8 * bi)));
                for (; i < D.loopBound(n); i += D.length()) {
                    r.intoByteBuffer(o, 8 * (oi + i), NATIVE);
                }
            } else {
                for (; i < D.loopBound(n); i += D.length()) {
                    combineD(op, x, DoubleVector.fromByteBuffer(D, b, 8 * (bi + i), NATIVE)).intoByteBuffer(o, 8 * (oi + i), NATIVE);
                }
            }
            for (; i < n; i++) {
                double bv = b.getDouble(8 * (bi + (bStep == 0 ? 0 : i)));
                o.putDouble(8 * (oi + i), scalarD(op, a.getDouble(8 * ai), bv));
            }
        }
    }

    private static DoubleVector combineD(Elementwise.Binary op, DoubleVector x, DoubleVector y) {
        return switch (op) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case MAXIMUM -> x.max(y);
        };
    }

    private static double scalarD(Elementwise.Binary op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAXIMUM -> Math.max(x, y);
        };
    }

    /**
     * How two operands broadcast over an output: the output as {@code rows} rows of
     * {@code rowLength}, each operand's element step along a row (1, or 0 when broadcast), and
     * its row offsets through the merged outer axes.
     */
    static final class BroadcastPlan {
        final int rows;
        final int rowLength;
        final int aInner;
        final int bInner;
        private final long[] outerSizes;   // merged outer axes, outermost first
        private final long[] aOuterStride;
        private final long[] bOuterStride;

        private BroadcastPlan(long[] sizes, long[] aStride, long[] bStride) {
            int r = sizes.length;
            this.rowLength = Math.toIntExact(sizes[r - 1]);
            this.aInner = (int) aStride[r - 1];
            this.bInner = (int) bStride[r - 1];
            this.outerSizes = java.util.Arrays.copyOf(sizes, r - 1);
            this.aOuterStride = java.util.Arrays.copyOf(aStride, r - 1);
            this.bOuterStride = java.util.Arrays.copyOf(bStride, r - 1);
            this.rows = Math.toIntExact(Shapes.numel(outerSizes));
        }

        static BroadcastPlan of(long[] out, long[] a, long[] b) {
            long[] as = strides(a, out);
            long[] bs = strides(b, out);
            // Merge axis i into i+1 while both operands step through the pair as one axis.
            long[] sizes = new long[Math.max(out.length, 1)];
            long[] sa = new long[sizes.length];
            long[] sb = new long[sizes.length];
            int r = 0;
            if (out.length == 0) {
                sizes[0] = 1;
                r = 1;
            }
            for (int i = 0; i < out.length; i++) {
                if (out[i] == 1) {
                    continue; // a size-1 axis changes nothing
                }
                if (r > 0 && sa[r - 1] == as[i] * out[i] && sb[r - 1] == bs[i] * out[i]) {
                    sizes[r - 1] *= out[i];
                    sa[r - 1] = as[i];
                    sb[r - 1] = bs[i];
                } else {
                    sizes[r] = out[i];
                    sa[r] = as[i];
                    sb[r] = bs[i];
                    r++;
                }
            }
            if (r == 0) {
                sizes[0] = 1;
                r = 1;
            }
            return new BroadcastPlan(java.util.Arrays.copyOf(sizes, r), java.util.Arrays.copyOf(sa, r),
                    java.util.Arrays.copyOf(sb, r));
        }

        /** Row-major strides of {@code shape} read under {@code out}'s shape: 0 along broadcast axes. */
        private static long[] strides(long[] shape, long[] out) {
            long[] own = Shapes.strides(shape);
            long[] s = new long[out.length];
            int lead = out.length - shape.length;
            for (int i = lead; i < out.length; i++) {
                s[i] = shape[i - lead] == 1 ? 0 : own[i - lead];
            }
            return s;
        }

        long aOffset(int row) {
            return offset(row, aOuterStride);
        }

        long bOffset(int row) {
            return offset(row, bOuterStride);
        }

        private long offset(int row, long[] stride) {
            if (stride.length == 1) {
                return row * stride[0]; // the usual case, rows of a matrix: no division
            }
            long off = 0;
            long rest = row;
            for (int i = outerSizes.length - 1; i >= 0; i--) {
                off += (rest % outerSizes[i]) * stride[i];
                rest /= outerSizes[i];
            }
            return off;
        }
    }

    // ------------------------------------------------------------------ reductions

    /** What a reduction folds with. */
    enum Fold { SUM, MAX }

    /**
     * {@code out[o, i] = fold over r of x[o, r, i]} for contiguous x seen as (outer, reduced, inner).
     * Long rows are summed in fixed blocks of {@link #BLOCK} whose partial results are then added
     * in order, so the result does not depend on how many threads ran.
     */
    static void reduce(Fold fold, Tensor x, long outer, long reduced, long inner, Tensor out) {
        ByteBuffer xb = x.nio();
        ByteBuffer ob = out.nio();
        long xo = x.elementOffset();
        long oo = out.elementOffset();
        boolean isFloat = x.dtype() == DType.FLOAT32;
        int r = Math.toIntExact(reduced);
        if (inner == 1 && isFloat && r <= BLOCK) {
            HeapRows.foldRows(fold, x, out, r); // rows re-read in place: faster from the heap (see HeapRows)
            return;
        }
        if (inner == 1) {
            int rows = Math.toIntExact(outer);
            int blocks = (r + BLOCK - 1) / BLOCK;
            double[] partial = new double[rows * blocks];
            int rowsPerItem = Math.max(1, BLOCK / Math.max(r, 1));
            int items = blocks > 1 ? rows * blocks : (rows + rowsPerItem - 1) / rowsPerItem;
            Parallel.forRange(items, 1, (from, to) -> {
                for (int item = from; item < to; item++) {
                    int firstRow = blocks > 1 ? item / blocks : item * rowsPerItem;
                    int lastRow = blocks > 1 ? firstRow + 1 : Math.min(rows, firstRow + rowsPerItem);
                    for (int row = firstRow; row < lastRow; row++) {
                        int blk = blocks > 1 ? item % blocks : 0;
                        int start = blk * BLOCK;
                        int len = Math.min(BLOCK, r - start);
                        int at = (int) (xo + (long) row * r + start);
                        partial[row * blocks + blk] = isFloat ? foldRowF(fold, xb, at, len) : foldRowD(fold, xb, at, len);
                    }
                }
            });
            for (int row = 0; row < rows; row++) {
                double acc = partial[row * blocks];
                for (int blk = 1; blk < blocks; blk++) {
                    double p = partial[row * blocks + blk];
                    acc = fold == Fold.SUM ? acc + p : Math.max(acc, p);
                }
                if (isFloat) {
                    ob.putFloat((int) (4 * (oo + row)), (float) acc);
                } else {
                    ob.putDouble((int) (8 * (oo + row)), acc);
                }
            }
            return;
        }
        // Columns: out[o, :] folds the r rows x[o, 0..r, :], a vector loop along the inner axis.
        int in = Math.toIntExact(inner);
        int blocksPerRow = (in + BLOCK - 1) / BLOCK;
        int items = Math.toIntExact(outer * blocksPerRow);
        Parallel.forRange(items, 1, (from, to) -> {
            for (int item = from; item < to; item++) {
                long o = item / blocksPerRow;
                int start = (item % blocksPerRow) * BLOCK;
                int len = Math.min(BLOCK, in - start);
                int src = (int) (xo + o * r * in + start);
                int dst = (int) (oo + o * in + start);
                if (isFloat) {
                    foldColumnsF(fold, xb, src, in, r, ob, dst, len);
                } else {
                    foldColumnsD(fold, xb, src, in, r, ob, dst, len);
                }
            }
        });
    }

    private static double foldRowF(Fold fold, ByteBuffer x, int at, int n) {
        int i = 0;
        float result;
        if (fold == Fold.SUM) {
            FloatVector acc = FloatVector.zero(F);
            for (; i < F.loopBound(n); i += F.length()) {
                acc = acc.add(FloatVector.fromByteBuffer(F, x, 4 * (at + i), NATIVE));
            }
            result = acc.reduceLanes(VectorOperators.ADD);
        } else {
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < F.loopBound(n); i += F.length()) {
                acc = acc.max(FloatVector.fromByteBuffer(F, x, 4 * (at + i), NATIVE));
            }
            result = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            float v = x.getFloat(4 * (at + i));
            result = fold == Fold.SUM ? result + v : Math.max(result, v);
        }
        return result;
    }

    private static double foldRowD(Fold fold, ByteBuffer x, int at, int n) {
        int i = 0;
        double result;
        if (fold == Fold.SUM) {
            DoubleVector acc = DoubleVector.zero(D);
            for (; i < D.loopBound(n); i += D.length()) {
                acc = acc.add(DoubleVector.fromByteBuffer(D, x, 8 * (at + i), NATIVE));
            }
            result = acc.reduceLanes(VectorOperators.ADD);
        } else {
            DoubleVector acc = DoubleVector.broadcast(D, Double.NEGATIVE_INFINITY);
            for (; i < D.loopBound(n); i += D.length()) {
                acc = acc.max(DoubleVector.fromByteBuffer(D, x, 8 * (at + i), NATIVE));
            }
            result = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            double v = x.getDouble(8 * (at + i));
            result = fold == Fold.SUM ? result + v : Math.max(result, v);
        }
        return result;
    }

    private static void foldColumnsF(Fold fold, ByteBuffer x, int src, int rowStride, int rows, ByteBuffer o, int dst,
            int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector acc = FloatVector.fromByteBuffer(F, x, 4 * (src + i), NATIVE);
            if (fold == Fold.SUM) {
                for (int row = 1; row < rows; row++) {
                    acc = acc.add(FloatVector.fromByteBuffer(F, x, 4 * (src + row * rowStride + i), NATIVE));
                }
            } else {
                for (int row = 1; row < rows; row++) {
                    acc = acc.max(FloatVector.fromByteBuffer(F, x, 4 * (src + row * rowStride + i), NATIVE));
                }
            }
            acc.intoByteBuffer(o, 4 * (dst + i), NATIVE);
        }
        for (; i < n; i++) {
            float acc = x.getFloat(4 * (src + i));
            for (int row = 1; row < rows; row++) {
                float v = x.getFloat(4 * (src + row * rowStride + i));
                acc = fold == Fold.SUM ? acc + v : Math.max(acc, v);
            }
            o.putFloat(4 * (dst + i), acc);
        }
    }

    private static void foldColumnsD(Fold fold, ByteBuffer x, int src, int rowStride, int rows, ByteBuffer o, int dst,
            int n) {
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            DoubleVector acc = DoubleVector.fromByteBuffer(D, x, 8 * (src + i), NATIVE);
            if (fold == Fold.SUM) {
                for (int row = 1; row < rows; row++) {
                    acc = acc.add(DoubleVector.fromByteBuffer(D, x, 8 * (src + row * rowStride + i), NATIVE));
                }
            } else {
                for (int row = 1; row < rows; row++) {
                    acc = acc.max(DoubleVector.fromByteBuffer(D, x, 8 * (src + row * rowStride + i), NATIVE));
                }
            }
            acc.intoByteBuffer(o, 8 * (dst + i), NATIVE);
        }
        for (; i < n; i++) {
            double acc = x.getDouble(8 * (src + i));
            for (int row = 1; row < rows; row++) {
                double v = x.getDouble(8 * (src + row * rowStride + i));
                acc = fold == Fold.SUM ? acc + v : Math.max(acc, v);
            }
            o.putDouble(8 * (dst + i), acc);
        }
    }
}
