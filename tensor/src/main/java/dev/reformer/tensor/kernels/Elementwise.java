package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise ops of one operand ({@code neg exp log sqrt tanh relu}) and of two operands with
 * NumPy broadcasting ({@code add sub mul div maximum}), over float32 and float64 tensors.
 *
 * <p>Broadcasting happens as the operands are copied in ({@link Pass#broadcast}): a bias row is
 * repeated into every row of a group, a per-row value filled along its row, a scalar everywhere.
 * So one loop per op serves every broadcast pattern: {@code out[i] = a[i] OP b[i]}.
 *
 * <pre>{@code
 * Elementwise.binary(Elementwise.Binary.ADD, x, bias, out);   // out = x + bias, bias broadcast over x's rows
 * }</pre>
 */
public final class Elementwise {
    private Elementwise() {
    }

    /** Ops of one operand. */
    public enum Unary { NEG, EXP, LOG, SQRT, TANH, RELU }

    /** Ops of two operands. */
    public enum Binary { ADD, SUB, MUL, DIV, MAXIMUM }

    /** {@code out = op(x)}; x and out dense, of one floating dtype and shape. */
    public static void unary(Unary op, Tensor x, Tensor out) {
        Pass.elements(x.numel()).rows(x).rowsOut(out).run(g -> {
            if (g.vector) {
                Vector.unary(op, g.f(0), g.f(1), g.elements());
            } else if (g.isFloat) {
                unary(op, g.f(0), g.f(1), g.elements());
            } else {
                unary(op, g.d(0), g.d(1), g.elements());
            }
        });
    }

    /**
     * {@code out = a OP b}; a and b dense, of out's dtype, their shapes broadcasting to out's. The
     * pass walks out's rows (after merging the axes both operands step through alike, so a
     * same-shape op is one run of elements and {@code x + bias} rows of the bias length).
     */
    public static void binary(Binary op, Tensor a, Tensor b, Tensor out) {
        BroadcastPlan plan = BroadcastPlan.of(out.shape(), a.shape(), b.shape());
        Pass pass = plan.rows == 1 ? Pass.elements(plan.rowLength) : Pass.over(plan.rows, plan.rowLength);
        operand(pass, a, plan.rows == 1, plan.aInner, plan::aOffset, plan.aConstant(), a.numel() == out.numel());
        operand(pass, b, plan.rows == 1, plan.bInner, plan::bOffset, plan.bConstant(), b.numel() == out.numel());
        pass.rowsOut(out).run(g -> {
            if (g.vector) {
                Vector.binary(op, g.f(0), g.f(1), g.f(2), g.elements());
            } else if (g.isFloat) {
                binary(op, g.f(0), g.f(1), g.f(2), g.elements());
            } else {
                binary(op, g.d(0), g.d(1), g.d(2), g.elements());
            }
        });
    }

    /** An operand as the pass reads it: dense (no axis broadcast, only size-1 axes differ), one value, or broadcast rows. */
    private static void operand(Pass pass, Tensor t, boolean flat, int inner, java.util.function.LongUnaryOperator rowOffset,
            boolean constant, boolean dense) {
        if (dense) {
            pass.rows(t);
        } else if (flat) {
            pass.broadcast(t, r -> 0, 0, true); // a single value against a run of elements
        } else {
            pass.broadcast(t, rowOffset, inner, constant);
        }
    }

    // ------------------------------------------------------------------ float64: the reference

    static void unary(Unary op, double[] x, double[] y, int n) {
        switch (op) {
            case NEG -> {
                for (int i = 0; i < n; i++) {
                    y[i] = -x[i];
                }
            }
            case EXP -> Exp.expShifted(x, 0, n, 0, y);
            case LOG -> {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.log(x[i]);
                }
            }
            case SQRT -> {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.sqrt(x[i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.tanh(x[i]);
                }
            }
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.max(x[i], 0.0);
                }
            }
        }
    }

    static void binary(Binary op, double[] a, double[] b, double[] out, int n) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] + b[i];
                }
            }
            case SUB -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] - b[i];
                }
            }
            case MUL -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] * b[i];
                }
            }
            case DIV -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] / b[i];
                }
            }
            case MAXIMUM -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Math.max(a[i], b[i]);
                }
            }
        }
    }

    // ------------------------------------------------------------------ float32: plain loops

    /**
     * As the reference, in float: same-index loops that the JIT compiles to SIMD code of its own
     * (log and tanh call {@code Math} per element, as the vector kernel does).
     */
    static void unary(Unary op, float[] x, float[] y, int n) {
        switch (op) {
            case NEG -> {
                for (int i = 0; i < n; i++) {
                    y[i] = -x[i];
                }
            }
            case EXP -> Exp.plain(x, 0, n, 0f, y);
            case LOG -> {
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.log(x[i]);
                }
            }
            case SQRT -> {
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.sqrt(x[i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.tanh(x[i]);
                }
            }
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    y[i] = Math.max(x[i], 0f);
                }
            }
        }
    }

    static void binary(Binary op, float[] a, float[] b, float[] out, int n) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] + b[i];
                }
            }
            case SUB -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] - b[i];
                }
            }
            case MUL -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] * b[i];
                }
            }
            case DIV -> {
                for (int i = 0; i < n; i++) {
                    out[i] = a[i] / b[i];
                }
            }
            case MAXIMUM -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Math.max(a[i], b[i]);
                }
            }
        }
    }

    // ------------------------------------------------------------------ float32: vector kernels

    /**
     * Whole vectors unmasked, then the last {@code n % lanes} elements in plain Java: masked loads and
     * stores at the end of a row cost more than they save, and once gave a wrong last element in one
     * full test run out of many (C2 has had bugs that move masked loads, JDK-8317121).
     */
    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        /**
         * One method per op (see {@link Reductions.Vector} for why the op is not chosen inside a
         * vector loop); log and tanh are the plain loops' {@code Math} calls: the vector API's give
         * other bits in other JIT tiers (see {@link Exp}).
         */
        static void unary(Unary op, float[] x, float[] y, int n) {
            switch (op) {
                case NEG -> neg(x, y, n);
                case EXP -> Exp.Vector.expShifted(x, 0, n, 0f, y);
                case LOG, TANH -> Elementwise.unary(op, x, y, n);
                case SQRT -> sqrt(x, y, n);
                case RELU -> relu(x, y, n);
            }
        }

        static void neg(float[] x, float[] y, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, x, i).neg().intoArray(y, i);
            }
            for (; i < n; i++) {
                y[i] = -x[i];
            }
        }

        static void sqrt(float[] x, float[] y, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, x, i).sqrt().intoArray(y, i);
            }
            for (; i < n; i++) {
                y[i] = (float) Math.sqrt(x[i]);
            }
        }

        static void relu(float[] x, float[] y, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, x, i).max(0f).intoArray(y, i);
            }
            for (; i < n; i++) {
                y[i] = Math.max(x[i], 0f);
            }
        }

        static void binary(Binary op, float[] a, float[] b, float[] out, int n) {
            switch (op) {
                case ADD -> add(a, b, out, n);
                case SUB -> sub(a, b, out, n);
                case MUL -> mul(a, b, out, n);
                case DIV -> div(a, b, out, n);
                case MAXIMUM -> max(a, b, out, n);
            }
        }

        static void add(float[] a, float[] b, float[] out, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < n; i++) {
                out[i] = a[i] + b[i];
            }
        }

        static void sub(float[] a, float[] b, float[] out, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, a, i).sub(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < n; i++) {
                out[i] = a[i] - b[i];
            }
        }

        static void mul(float[] a, float[] b, float[] out, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < n; i++) {
                out[i] = a[i] * b[i];
            }
        }

        static void div(float[] a, float[] b, float[] out, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, a, i).div(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < n; i++) {
                out[i] = a[i] / b[i];
            }
        }

        static void max(float[] a, float[] b, float[] out, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, a, i).max(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < n; i++) {
                out[i] = Math.max(a[i], b[i]);
            }
        }
    }

    // ------------------------------------------------------------------ broadcasting

    /**
     * How two operands broadcast over an output: the output as {@code rows} rows of
     * {@code rowLength}, each operand's element step along a row (1, or 0 when broadcast), and its
     * row offsets through the merged outer axes.
     */
    static final class BroadcastPlan {
        final long rows;
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
            this.outerSizes = Arrays.copyOf(sizes, r - 1);
            this.aOuterStride = Arrays.copyOf(aStride, r - 1);
            this.bOuterStride = Arrays.copyOf(bStride, r - 1);
            this.rows = Shapes.numel(outerSizes);
        }

        static BroadcastPlan of(long[] out, long[] a, long[] b) {
            long[] as = strides(a, out);
            long[] bs = strides(b, out);
            // Merge axis i into the one before while both operands step through the pair as one axis.
            long[] sizes = new long[Math.max(out.length, 1)];
            long[] sa = new long[sizes.length];
            long[] sb = new long[sizes.length];
            int r = 0;
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
            return new BroadcastPlan(Arrays.copyOf(sizes, r), Arrays.copyOf(sa, r), Arrays.copyOf(sb, r));
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

        long aOffset(long row) {
            return offset(row, aOuterStride);
        }

        long bOffset(long row) {
            return offset(row, bOuterStride);
        }

        /** Whether a's row offset is the same for every row (a bias row, a scalar). */
        boolean aConstant() {
            return Arrays.stream(aOuterStride).allMatch(s -> s == 0);
        }

        boolean bConstant() {
            return Arrays.stream(bOuterStride).allMatch(s -> s == 0);
        }

        private long offset(long row, long[] stride) {
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
}
