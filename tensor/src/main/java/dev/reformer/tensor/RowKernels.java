package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused row ops over the last axis, in the JDK's vector API: softmax, log-softmax,
 * logsumexp and layer normalisation, forward and backward. Each row is read a few times and
 * written once, where the same op composed of primitives writes a whole tensor per step (PyTorch's
 * composed softmax took 2.6x its fused one on 16M floats here). The formulas sit with the ops
 * that call these, in {@code dev.reformer.autograd.FusedOps}; the composition of primitives in
 * {@code Functional} is the reference they are tested against.
 *
 * <p>Rows are independent, so they are split over both cores with no effect on the results.
 */
final class RowKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private RowKernels() {
    }

    /** A body over one row: element offsets (not bytes) of the row in each buffer. */
    private interface RowBody {
        void row(int row);
    }

    private static void forRows(int rows, int rowLength, RowBody body) {
        int grain = Math.max(1, VectorKernels.BLOCK / Math.max(rowLength, 1));
        Parallel.forRange(rows, grain, (from, to) -> {
            for (int r = from; r < to; r++) {
                body.row(r);
            }
        });
    }

    // ------------------------------------------------------------------ softmax family

    /** What a softmax-family forward writes per row. */
    enum Kind {
        /** {@code y = e^(x - m) / sum e^(x - m)}. */
        SOFTMAX,
        /** {@code y = x - m - log sum e^(x - m)}. */
        LOG_SOFTMAX
    }

    /** y = softmax or log-softmax of each row of x (n = row length); both contiguous, same shape. */
    static void softmax(Kind kind, Tensor x, Tensor y, int n) {
        ByteBuffer xb = x.nio();
        ByteBuffer yb = y.nio();
        int xo = (int) x.elementOffset();
        int yo = (int) y.elementOffset();
        int rows = (int) (x.numel() / n);
        boolean isFloat = x.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            if (isFloat) {
                softmaxRowF(kind, xb, xo + r * n, yb, yo + r * n, n);
            } else {
                softmaxRowD(kind, xb, xo + r * n, yb, yo + r * n, n);
            }
        });
    }

    private static void softmaxRowF(Kind kind, ByteBuffer x, int xi, ByteBuffer y, int yi, int n) {
        float max = maxF(x, xi, n);
        // The row's sum is kept in double: then weights that should sum to 1 do, to float rounding.
        double sum = 0;
        FloatVector shift = FloatVector.broadcast(F, max);
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector e = FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE, m).sub(shift)
                    .lanewise(VectorOperators.EXP);
            sum += e.reduceLanes(VectorOperators.ADD, m);
            if (kind == Kind.SOFTMAX) {
                e.intoByteBuffer(y, 4 * (yi + i), NATIVE, m);
            }
        }
        if (kind == Kind.SOFTMAX) {
            FloatVector scale = FloatVector.broadcast(F, (float) (1.0 / sum));
            for (int i = 0; i < n; i += F.length()) {
                VectorMask<Float> m = F.indexInRange(i, n);
                FloatVector.fromByteBuffer(F, y, 4 * (yi + i), NATIVE, m).mul(scale).intoByteBuffer(y, 4 * (yi + i), NATIVE, m);
            }
        } else {
            FloatVector lse = FloatVector.broadcast(F, (float) (max + Math.log(sum)));
            for (int i = 0; i < n; i += F.length()) {
                VectorMask<Float> m = F.indexInRange(i, n);
                FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE, m).sub(lse).intoByteBuffer(y, 4 * (yi + i), NATIVE, m);
            }
        }
    }

    private static void softmaxRowD(Kind kind, ByteBuffer x, int xi, ByteBuffer y, int yi, int n) {
        double max = maxD(x, xi, n);
        double sum = 0;
        DoubleVector shift = DoubleVector.broadcast(D, max);
        for (int i = 0; i < n; i += D.length()) {
            VectorMask<Double> m = D.indexInRange(i, n);
            DoubleVector e = DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE, m).sub(shift)
                    .lanewise(VectorOperators.EXP);
            sum += e.reduceLanes(VectorOperators.ADD, m);
            if (kind == Kind.SOFTMAX) {
                e.intoByteBuffer(y, 8 * (yi + i), NATIVE, m);
            }
        }
        if (kind == Kind.SOFTMAX) {
            DoubleVector scale = DoubleVector.broadcast(D, 1.0 / sum);
            for (int i = 0; i < n; i += D.length()) {
                VectorMask<Double> m = D.indexInRange(i, n);
                DoubleVector.fromByteBuffer(D, y, 8 * (yi + i), NATIVE, m).mul(scale).intoByteBuffer(y, 8 * (yi + i), NATIVE, m);
            }
        } else {
            DoubleVector lse = DoubleVector.broadcast(D, max + Math.log(sum));
            for (int i = 0; i < n; i += D.length()) {
                VectorMask<Double> m = D.indexInRange(i, n);
                DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE, m).sub(lse).intoByteBuffer(y, 8 * (yi + i), NATIVE, m);
            }
        }
    }

    /** One value per row: {@code m + log sum e^(x - m)}, m the row's maximum. */
    static void logsumexp(Tensor x, Tensor out, int n) {
        ByteBuffer xb = x.nio();
        ByteBuffer ob = out.nio();
        int xo = (int) x.elementOffset();
        int oo = (int) out.elementOffset();
        int rows = (int) (x.numel() / n);
        boolean isFloat = x.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            if (isFloat) {
                float max = maxF(xb, xo + r * n, n);
                ob.putFloat(4 * (oo + r), (float) (max + Math.log(expSumF(xb, xo + r * n, n, max))));
            } else {
                double max = maxD(xb, xo + r * n, n);
                ob.putDouble(8 * (oo + r), max + Math.log(expSumD(xb, xo + r * n, n, max)));
            }
        });
    }

    /**
     * The backward of the softmax family, one row at a time, for y the forward's output and g
     * the output's gradient:
     * SOFTMAX: {@code dx = y (g - sum(g y))}; LOG_SOFTMAX: {@code dx = g - e^y sum(g)}.
     */
    static void softmaxBackward(Kind kind, Tensor y, Tensor g, Tensor dx, int n) {
        ByteBuffer yb = y.nio();
        ByteBuffer gb = g.nio();
        ByteBuffer db = dx.nio();
        int yo = (int) y.elementOffset();
        int go = (int) g.elementOffset();
        int dOff = (int) dx.elementOffset();
        int rows = (int) (y.numel() / n);
        boolean isFloat = y.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            if (isFloat) {
                softmaxBackwardRowF(kind, yb, yo + r * n, gb, go + r * n, db, dOff + r * n, n);
            } else {
                softmaxBackwardRowD(kind, yb, yo + r * n, gb, go + r * n, db, dOff + r * n, n);
            }
        });
    }

    private static void softmaxBackwardRowF(Kind kind, ByteBuffer y, int yi, ByteBuffer g, int gi, ByteBuffer d, int di,
            int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector gv = FloatVector.fromByteBuffer(F, g, 4 * (gi + i), NATIVE, m);
            acc = kind == Kind.SOFTMAX ? gv.fma(FloatVector.fromByteBuffer(F, y, 4 * (yi + i), NATIVE, m), acc) : acc.add(gv);
        }
        FloatVector total = FloatVector.broadcast(F, acc.reduceLanes(VectorOperators.ADD));
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector yv = FloatVector.fromByteBuffer(F, y, 4 * (yi + i), NATIVE, m);
            FloatVector gv = FloatVector.fromByteBuffer(F, g, 4 * (gi + i), NATIVE, m);
            FloatVector r = kind == Kind.SOFTMAX ? yv.mul(gv.sub(total))
                    : gv.sub(yv.lanewise(VectorOperators.EXP).mul(total));
            r.intoByteBuffer(d, 4 * (di + i), NATIVE, m);
        }
    }

    private static void softmaxBackwardRowD(Kind kind, ByteBuffer y, int yi, ByteBuffer g, int gi, ByteBuffer d, int di,
            int n) {
        DoubleVector acc = DoubleVector.zero(D);
        for (int i = 0; i < n; i += D.length()) {
            VectorMask<Double> m = D.indexInRange(i, n);
            DoubleVector gv = DoubleVector.fromByteBuffer(D, g, 8 * (gi + i), NATIVE, m);
            acc = kind == Kind.SOFTMAX ? gv.fma(DoubleVector.fromByteBuffer(D, y, 8 * (yi + i), NATIVE, m), acc) : acc.add(gv);
        }
        DoubleVector total = DoubleVector.broadcast(D, acc.reduceLanes(VectorOperators.ADD));
        for (int i = 0; i < n; i += D.length()) {
            VectorMask<Double> m = D.indexInRange(i, n);
            DoubleVector yv = DoubleVector.fromByteBuffer(D, y, 8 * (yi + i), NATIVE, m);
            DoubleVector gv = DoubleVector.fromByteBuffer(D, g, 8 * (gi + i), NATIVE, m);
            DoubleVector r = kind == Kind.SOFTMAX ? yv.mul(gv.sub(total))
                    : gv.sub(yv.lanewise(VectorOperators.EXP).mul(total));
            r.intoByteBuffer(d, 8 * (di + i), NATIVE, m);
        }
    }

    /** The backward of logsumexp: {@code dx = g_row e^(x - lse_row)}, the row's softmax times its gradient. */
    static void logsumexpBackward(Tensor x, Tensor lse, Tensor g, Tensor dx, int n) {
        ByteBuffer xb = x.nio();
        ByteBuffer lb = lse.nio();
        ByteBuffer gb = g.nio();
        ByteBuffer db = dx.nio();
        int xo = (int) x.elementOffset();
        int lo = (int) lse.elementOffset();
        int go = (int) g.elementOffset();
        int dOff = (int) dx.elementOffset();
        int rows = (int) (x.numel() / n);
        boolean isFloat = x.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            int xi = xo + r * n;
            int di = dOff + r * n;
            if (isFloat) {
                FloatVector shift = FloatVector.broadcast(F, lb.getFloat(4 * (lo + r)));
                FloatVector scale = FloatVector.broadcast(F, gb.getFloat(4 * (go + r)));
                for (int i = 0; i < n; i += F.length()) {
                    VectorMask<Float> m = F.indexInRange(i, n);
                    FloatVector.fromByteBuffer(F, xb, 4 * (xi + i), NATIVE, m).sub(shift).lanewise(VectorOperators.EXP)
                            .mul(scale).intoByteBuffer(db, 4 * (di + i), NATIVE, m);
                }
            } else {
                DoubleVector shift = DoubleVector.broadcast(D, lb.getDouble(8 * (lo + r)));
                DoubleVector scale = DoubleVector.broadcast(D, gb.getDouble(8 * (go + r)));
                for (int i = 0; i < n; i += D.length()) {
                    VectorMask<Double> m = D.indexInRange(i, n);
                    DoubleVector.fromByteBuffer(D, xb, 8 * (xi + i), NATIVE, m).sub(shift).lanewise(VectorOperators.EXP)
                            .mul(scale).intoByteBuffer(db, 8 * (di + i), NATIVE, m);
                }
            }
        });
    }

    // ------------------------------------------------------------------ layer norm

    /**
     * {@code xhat = (x - mean) / sqrt(var + eps)} per row, and the per-row mean and
     * {@code 1/sqrt(var + eps)} the backward needs (biased variance, as in the paper and PyTorch).
     */
    static void layerNorm(Tensor x, double eps, Tensor xhat, Tensor mean, Tensor rstd, int n) {
        ByteBuffer xb = x.nio();
        ByteBuffer hb = xhat.nio();
        ByteBuffer mb = mean.nio();
        ByteBuffer rb = rstd.nio();
        int xo = (int) x.elementOffset();
        int ho = (int) xhat.elementOffset();
        int mo = (int) mean.elementOffset();
        int ro = (int) rstd.elementOffset();
        int rows = (int) (x.numel() / n);
        boolean isFloat = x.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            int xi = xo + r * n;
            int hi = ho + r * n;
            if (isFloat) {
                float mu = (float) (sumF(xb, xi, n) / n);
                FloatVector muV = FloatVector.broadcast(F, mu);
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0; i < n; i += F.length()) {
                    VectorMask<Float> m = F.indexInRange(i, n);
                    FloatVector c = FloatVector.fromByteBuffer(F, xb, 4 * (xi + i), NATIVE, m).sub(muV, m);
                    acc = c.fma(c, acc);
                }
                float inv = (float) (1.0 / Math.sqrt(acc.reduceLanes(VectorOperators.ADD) / n + eps));
                FloatVector invV = FloatVector.broadcast(F, inv);
                for (int i = 0; i < n; i += F.length()) {
                    VectorMask<Float> m = F.indexInRange(i, n);
                    FloatVector.fromByteBuffer(F, xb, 4 * (xi + i), NATIVE, m).sub(muV).mul(invV)
                            .intoByteBuffer(hb, 4 * (hi + i), NATIVE, m);
                }
                mb.putFloat(4 * (mo + r), mu);
                rb.putFloat(4 * (ro + r), inv);
            } else {
                double mu = sumD(xb, xi, n) / n;
                DoubleVector muV = DoubleVector.broadcast(D, mu);
                DoubleVector acc = DoubleVector.zero(D);
                for (int i = 0; i < n; i += D.length()) {
                    VectorMask<Double> m = D.indexInRange(i, n);
                    DoubleVector c = DoubleVector.fromByteBuffer(D, xb, 8 * (xi + i), NATIVE, m).sub(muV, m);
                    acc = c.fma(c, acc);
                }
                double inv = 1.0 / Math.sqrt(acc.reduceLanes(VectorOperators.ADD) / n + eps);
                DoubleVector invV = DoubleVector.broadcast(D, inv);
                for (int i = 0; i < n; i += D.length()) {
                    VectorMask<Double> m = D.indexInRange(i, n);
                    DoubleVector.fromByteBuffer(D, xb, 8 * (xi + i), NATIVE, m).sub(muV).mul(invV)
                            .intoByteBuffer(hb, 8 * (hi + i), NATIVE, m);
                }
                mb.putDouble(8 * (mo + r), mu);
                rb.putDouble(8 * (ro + r), inv);
            }
        });
    }

    /**
     * The input gradient of {@code xhat = (x - mean) * rstd} given {@code gh = dL/dxhat}:
     * {@code dx = rstd (gh - mean(gh) - xhat mean(gh xhat))}, one row at a time.
     */
    static void layerNormBackward(Tensor xhat, Tensor rstd, Tensor gh, Tensor dx, int n) {
        ByteBuffer hb = xhat.nio();
        ByteBuffer rb = rstd.nio();
        ByteBuffer gb = gh.nio();
        ByteBuffer db = dx.nio();
        int ho = (int) xhat.elementOffset();
        int ro = (int) rstd.elementOffset();
        int go = (int) gh.elementOffset();
        int dOff = (int) dx.elementOffset();
        int rows = (int) (xhat.numel() / n);
        boolean isFloat = xhat.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            int hi = ho + r * n;
            int gi = go + r * n;
            int di = dOff + r * n;
            if (isFloat) {
                FloatVector sg = FloatVector.zero(F);
                FloatVector sgh = FloatVector.zero(F);
                for (int i = 0; i < n; i += F.length()) {
                    VectorMask<Float> m = F.indexInRange(i, n);
                    FloatVector g = FloatVector.fromByteBuffer(F, gb, 4 * (gi + i), NATIVE, m);
                    sg = sg.add(g);
                    sgh = g.fma(FloatVector.fromByteBuffer(F, hb, 4 * (hi + i), NATIVE, m), sgh);
                }
                FloatVector meanG = FloatVector.broadcast(F, sg.reduceLanes(VectorOperators.ADD) / n);
                FloatVector meanGh = FloatVector.broadcast(F, sgh.reduceLanes(VectorOperators.ADD) / n);
                FloatVector inv = FloatVector.broadcast(F, rb.getFloat(4 * (ro + r)));
                for (int i = 0; i < n; i += F.length()) {
                    VectorMask<Float> m = F.indexInRange(i, n);
                    FloatVector g = FloatVector.fromByteBuffer(F, gb, 4 * (gi + i), NATIVE, m);
                    FloatVector h = FloatVector.fromByteBuffer(F, hb, 4 * (hi + i), NATIVE, m);
                    g.sub(meanG).sub(h.mul(meanGh)).mul(inv).intoByteBuffer(db, 4 * (di + i), NATIVE, m);
                }
            } else {
                DoubleVector sg = DoubleVector.zero(D);
                DoubleVector sgh = DoubleVector.zero(D);
                for (int i = 0; i < n; i += D.length()) {
                    VectorMask<Double> m = D.indexInRange(i, n);
                    DoubleVector g = DoubleVector.fromByteBuffer(D, gb, 8 * (gi + i), NATIVE, m);
                    sg = sg.add(g);
                    sgh = g.fma(DoubleVector.fromByteBuffer(D, hb, 8 * (hi + i), NATIVE, m), sgh);
                }
                DoubleVector meanG = DoubleVector.broadcast(D, sg.reduceLanes(VectorOperators.ADD) / n);
                DoubleVector meanGh = DoubleVector.broadcast(D, sgh.reduceLanes(VectorOperators.ADD) / n);
                DoubleVector inv = DoubleVector.broadcast(D, rb.getDouble(8 * (ro + r)));
                for (int i = 0; i < n; i += D.length()) {
                    VectorMask<Double> m = D.indexInRange(i, n);
                    DoubleVector g = DoubleVector.fromByteBuffer(D, gb, 8 * (gi + i), NATIVE, m);
                    DoubleVector h = DoubleVector.fromByteBuffer(D, hb, 8 * (hi + i), NATIVE, m);
                    g.sub(meanG).sub(h.mul(meanGh)).mul(inv).intoByteBuffer(db, 8 * (di + i), NATIVE, m);
                }
            }
        });
    }

    // ------------------------------------------------------------------ row helpers

    private static float maxF(ByteBuffer x, int xi, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, n);
            acc = acc.max(FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    private static double maxD(ByteBuffer x, int xi, int n) {
        DoubleVector acc = DoubleVector.broadcast(D, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += D.length()) {
            VectorMask<Double> m = D.indexInRange(i, n);
            acc = acc.max(DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE, m).blend(Double.NEGATIVE_INFINITY, m.not()));
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    private static double expSumF(ByteBuffer x, int xi, int n, float max) {
        FloatVector shift = FloatVector.broadcast(F, max);
        double sum = 0;
        for (int i = 0; i < n; i += F.length()) {
            VectorMask<Float> m = F.indexInRange(i, n);
            sum += FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE, m).sub(shift).lanewise(VectorOperators.EXP)
                    .reduceLanes(VectorOperators.ADD, m);
        }
        return sum;
    }

    private static double expSumD(ByteBuffer x, int xi, int n, double max) {
        DoubleVector shift = DoubleVector.broadcast(D, max);
        double sum = 0;
        for (int i = 0; i < n; i += D.length()) {
            VectorMask<Double> m = D.indexInRange(i, n);
            sum += DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE, m).sub(shift).lanewise(VectorOperators.EXP)
                    .reduceLanes(VectorOperators.ADD, m);
        }
        return sum;
    }

    private static double sumF(ByteBuffer x, int xi, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += F.length()) {
            acc = acc.add(FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE, F.indexInRange(i, n)));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static double sumD(ByteBuffer x, int xi, int n) {
        DoubleVector acc = DoubleVector.zero(D);
        for (int i = 0; i < n; i += D.length()) {
            acc = acc.add(DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE, D.indexInRange(i, n)));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
