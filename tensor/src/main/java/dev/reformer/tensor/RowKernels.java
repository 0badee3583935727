package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
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

    // Every row loop below runs whole vectors unmasked and finishes the last n % lanes elements
    // in plain Java; a vector that might be either of two things never flows through one variable
    // (the JIT would box it and fall back to scalar code).

    private static void softmaxRowF(Kind kind, ByteBuffer x, int xi, ByteBuffer y, int yi, int n) {
        float max = maxF(x, xi, n);
        double sum = expSumF(x, xi, n, max, kind == Kind.SOFTMAX ? y : null, yi);
        if (kind == Kind.SOFTMAX) {
            scaleF(y, yi, n, (float) (1.0 / sum));
        } else {
            shiftF(x, xi, y, yi, n, (float) (max + Math.log(sum)));
        }
    }

    private static void softmaxRowD(Kind kind, ByteBuffer x, int xi, ByteBuffer y, int yi, int n) {
        double max = maxD(x, xi, n);
        double sum = expSumD(x, xi, n, max, kind == Kind.SOFTMAX ? y : null, yi);
        if (kind == Kind.SOFTMAX) {
            scaleD(y, yi, n, 1.0 / sum);
        } else {
            shiftD(x, xi, y, yi, n, max + Math.log(sum));
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
                ob.putFloat(4 * (oo + r), (float) (max + Math.log(expSumF(xb, xo + r * n, n, max, null, 0))));
            } else {
                double max = maxD(xb, xo + r * n, n);
                ob.putDouble(8 * (oo + r), max + Math.log(expSumD(xb, xo + r * n, n, max, null, 0)));
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
        int full = F.loopBound(n);
        if (kind == Kind.SOFTMAX) {
            // dx = y (g - sum(g y))
            float total = (float) dotF(g, gi, y, yi, n);
            FloatVector t = FloatVector.broadcast(F, total);
            for (int i = 0; i < full; i += F.length()) {
                FloatVector yv = FloatVector.fromByteBuffer(F, y, 4 * (yi + i), NATIVE);
                yv.mul(FloatVector.fromByteBuffer(F, g, 4 * (gi + i), NATIVE).sub(t)).intoByteBuffer(d, 4 * (di + i), NATIVE);
            }
            for (int i = full; i < n; i++) {
                d.putFloat(4 * (di + i), y.getFloat(4 * (yi + i)) * (g.getFloat(4 * (gi + i)) - total));
            }
        } else {
            // dx = g - e^y sum(g)
            float total = (float) sumF(g, gi, n);
            FloatVector t = FloatVector.broadcast(F, total);
            for (int i = 0; i < full; i += F.length()) {
                FloatVector e = FloatVector.fromByteBuffer(F, y, 4 * (yi + i), NATIVE).lanewise(VectorOperators.EXP);
                FloatVector.fromByteBuffer(F, g, 4 * (gi + i), NATIVE).sub(e.mul(t)).intoByteBuffer(d, 4 * (di + i), NATIVE);
            }
            for (int i = full; i < n; i++) {
                d.putFloat(4 * (di + i), g.getFloat(4 * (gi + i)) - (float) Math.exp(y.getFloat(4 * (yi + i))) * total);
            }
        }
    }

    private static void softmaxBackwardRowD(Kind kind, ByteBuffer y, int yi, ByteBuffer g, int gi, ByteBuffer d, int di,
            int n) {
        int full = D.loopBound(n);
        if (kind == Kind.SOFTMAX) {
            double total = dotD(g, gi, y, yi, n);
            DoubleVector t = DoubleVector.broadcast(D, total);
            for (int i = 0; i < full; i += D.length()) {
                DoubleVector yv = DoubleVector.fromByteBuffer(D, y, 8 * (yi + i), NATIVE);
                yv.mul(DoubleVector.fromByteBuffer(D, g, 8 * (gi + i), NATIVE).sub(t)).intoByteBuffer(d, 8 * (di + i), NATIVE);
            }
            for (int i = full; i < n; i++) {
                d.putDouble(8 * (di + i), y.getDouble(8 * (yi + i)) * (g.getDouble(8 * (gi + i)) - total));
            }
        } else {
            double total = sumD(g, gi, n);
            DoubleVector t = DoubleVector.broadcast(D, total);
            for (int i = 0; i < full; i += D.length()) {
                DoubleVector e = DoubleVector.fromByteBuffer(D, y, 8 * (yi + i), NATIVE).lanewise(VectorOperators.EXP);
                DoubleVector.fromByteBuffer(D, g, 8 * (gi + i), NATIVE).sub(e.mul(t)).intoByteBuffer(d, 8 * (di + i), NATIVE);
            }
            for (int i = full; i < n; i++) {
                d.putDouble(8 * (di + i), g.getDouble(8 * (gi + i)) - Math.exp(y.getDouble(8 * (yi + i))) * total);
            }
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
                float shift = lb.getFloat(4 * (lo + r));
                float scale = gb.getFloat(4 * (go + r));
                FloatVector s = FloatVector.broadcast(F, shift);
                FloatVector c = FloatVector.broadcast(F, scale);
                int i = 0;
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromByteBuffer(F, xb, 4 * (xi + i), NATIVE).sub(s).lanewise(VectorOperators.EXP).mul(c)
                            .intoByteBuffer(db, 4 * (di + i), NATIVE);
                }
                for (; i < n; i++) {
                    db.putFloat(4 * (di + i), (float) Math.exp(xb.getFloat(4 * (xi + i)) - shift) * scale);
                }
            } else {
                double shift = lb.getDouble(8 * (lo + r));
                double scale = gb.getDouble(8 * (go + r));
                DoubleVector s = DoubleVector.broadcast(D, shift);
                DoubleVector c = DoubleVector.broadcast(D, scale);
                int i = 0;
                for (; i < D.loopBound(n); i += D.length()) {
                    DoubleVector.fromByteBuffer(D, xb, 8 * (xi + i), NATIVE).sub(s).lanewise(VectorOperators.EXP).mul(c)
                            .intoByteBuffer(db, 8 * (di + i), NATIVE);
                }
                for (; i < n; i++) {
                    db.putDouble(8 * (di + i), Math.exp(xb.getDouble(8 * (xi + i)) - shift) * scale);
                }
            }
        });
    }

    // ------------------------------------------------------------------ layer norm

    /**
     * {@code y = (x - mean) * rstd * gamma + beta} per row, with {@code rstd = 1/sqrt(var + eps)}
     * (biased variance, as in the paper and PyTorch), and the per-row mean and rstd. A row is read
     * from memory once: the mean, the variance and the output passes find it in the L1 cache.
     */
    static void layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps, Tensor y, Tensor mean, Tensor rstd, int n) {
        ByteBuffer xb = x.nio();
        ByteBuffer gb = gamma.nio();
        ByteBuffer bb = beta.nio();
        ByteBuffer yb = y.nio();
        ByteBuffer mb = mean.nio();
        ByteBuffer rb = rstd.nio();
        int xo = (int) x.elementOffset();
        int go = (int) gamma.elementOffset();
        int bo = (int) beta.elementOffset();
        int yo = (int) y.elementOffset();
        int mo = (int) mean.elementOffset();
        int ro = (int) rstd.elementOffset();
        int rows = (int) (x.numel() / n);
        boolean isFloat = x.dtype() == DType.FLOAT32;
        forRows(rows, n, r -> {
            int xi = xo + r * n;
            int yi = yo + r * n;
            if (isFloat) {
                float mu = (float) (sumF(xb, xi, n) / n);
                float inv = (float) (1.0 / Math.sqrt(centeredSquaresF(xb, xi, n, mu) / n + eps));
                FloatVector m = FloatVector.broadcast(F, mu);
                FloatVector s = FloatVector.broadcast(F, inv);
                int i = 0;
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromByteBuffer(F, xb, 4 * (xi + i), NATIVE).sub(m).mul(s)
                            .fma(FloatVector.fromByteBuffer(F, gb, 4 * (go + i), NATIVE),
                                    FloatVector.fromByteBuffer(F, bb, 4 * (bo + i), NATIVE))
                            .intoByteBuffer(yb, 4 * (yi + i), NATIVE);
                }
                for (; i < n; i++) {
                    float h = (xb.getFloat(4 * (xi + i)) - mu) * inv;
                    yb.putFloat(4 * (yi + i), h * gb.getFloat(4 * (go + i)) + bb.getFloat(4 * (bo + i)));
                }
                mb.putFloat(4 * (mo + r), mu);
                rb.putFloat(4 * (ro + r), inv);
            } else {
                double mu = sumD(xb, xi, n) / n;
                double inv = 1.0 / Math.sqrt(centeredSquaresD(xb, xi, n, mu) / n + eps);
                DoubleVector m = DoubleVector.broadcast(D, mu);
                DoubleVector s = DoubleVector.broadcast(D, inv);
                int i = 0;
                for (; i < D.loopBound(n); i += D.length()) {
                    DoubleVector.fromByteBuffer(D, xb, 8 * (xi + i), NATIVE).sub(m).mul(s)
                            .fma(DoubleVector.fromByteBuffer(D, gb, 8 * (go + i), NATIVE),
                                    DoubleVector.fromByteBuffer(D, bb, 8 * (bo + i), NATIVE))
                            .intoByteBuffer(yb, 8 * (yi + i), NATIVE);
                }
                for (; i < n; i++) {
                    double h = (xb.getDouble(8 * (xi + i)) - mu) * inv;
                    yb.putDouble(8 * (yi + i), h * gb.getDouble(8 * (go + i)) + bb.getDouble(8 * (bo + i)));
                }
                mb.putDouble(8 * (mo + r), mu);
                rb.putDouble(8 * (ro + r), inv);
            }
        });
    }

    /** Rows per work item of the layer-norm backward, whose parameter gradients are summed per item and then in item order. */
    private static final int NORM_ROWS = 64;

    /**
     * The backward of {@link #layerNorm}: per row, with {@code xhat = (x - mean) rstd} recomputed
     * and {@code gh = g gamma}, {@code dx = rstd (gh - mean(gh) - xhat mean(gh xhat))}; and
     * {@code dgamma = sum g xhat}, {@code dbeta = sum g} over the rows, summed per block of
     * {@link #NORM_ROWS} rows and then over the blocks in order (in double), so the sums do not
     * depend on the thread count.
     */
    static void layerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor g, Tensor dx, Tensor dgamma,
            Tensor dbeta, int n) {
        ByteBuffer xb = x.nio();
        ByteBuffer mb = mean.nio();
        ByteBuffer rb = rstd.nio();
        ByteBuffer gab = gamma.nio();
        ByteBuffer gb = g.nio();
        ByteBuffer db = dx.nio();
        int xo = (int) x.elementOffset();
        int mo = (int) mean.elementOffset();
        int ro = (int) rstd.elementOffset();
        int gao = (int) gamma.elementOffset();
        int go = (int) g.elementOffset();
        int dOff = (int) dx.elementOffset();
        int rows = (int) (x.numel() / n);
        boolean isFloat = x.dtype() == DType.FLOAT32;
        int blocks = (rows + NORM_ROWS - 1) / NORM_ROWS;
        double[][] gammaParts = new double[blocks][];
        double[][] betaParts = new double[blocks][];
        Parallel.forRange(blocks, 1, (from, to) -> {
            double[] xhat = new double[n];
            double[] gh = new double[n];
            for (int blk = from; blk < to; blk++) {
                double[] dg = new double[n];
                double[] dbt = new double[n];
                for (int r = blk * NORM_ROWS; r < Math.min(rows, (blk + 1) * NORM_ROWS); r++) {
                    int xi = xo + r * n;
                    int gi = go + r * n;
                    double mu = isFloat ? mb.getFloat(4 * (mo + r)) : mb.getDouble(8 * (mo + r));
                    double inv = isFloat ? rb.getFloat(4 * (ro + r)) : rb.getDouble(8 * (ro + r));
                    double sumGh = 0;
                    double sumGhXhat = 0;
                    for (int i = 0; i < n; i++) {
                        double xv = isFloat ? xb.getFloat(4 * (xi + i)) : xb.getDouble(8 * (xi + i));
                        double gv = isFloat ? gb.getFloat(4 * (gi + i)) : gb.getDouble(8 * (gi + i));
                        double gamma_i = isFloat ? gab.getFloat(4 * (gao + i)) : gab.getDouble(8 * (gao + i));
                        xhat[i] = (xv - mu) * inv;
                        gh[i] = gv * gamma_i;
                        sumGh += gh[i];
                        sumGhXhat += gh[i] * xhat[i];
                        dg[i] += gv * xhat[i];
                        dbt[i] += gv;
                    }
                    double meanGh = sumGh / n;
                    double meanGhXhat = sumGhXhat / n;
                    int di = dOff + r * n;
                    for (int i = 0; i < n; i++) {
                        double v = inv * (gh[i] - meanGh - xhat[i] * meanGhXhat);
                        if (isFloat) {
                            db.putFloat(4 * (di + i), (float) v);
                        } else {
                            db.putDouble(8 * (di + i), v);
                        }
                    }
                }
                gammaParts[blk] = dg;
                betaParts[blk] = dbt;
            }
        });
        ByteBuffer dgb = dgamma.nio();
        ByteBuffer dbb = dbeta.nio();
        int dgo = (int) dgamma.elementOffset();
        int dbo = (int) dbeta.elementOffset();
        for (int i = 0; i < n; i++) {
            double sg = 0;
            double sb = 0;
            for (int blk = 0; blk < blocks; blk++) {
                sg += gammaParts[blk][i];
                sb += betaParts[blk][i];
            }
            if (isFloat) {
                dgb.putFloat(4 * (dgo + i), (float) sg);
                dbb.putFloat(4 * (dbo + i), (float) sb);
            } else {
                dgb.putDouble(8 * (dgo + i), sg);
                dbb.putDouble(8 * (dbo + i), sb);
            }
        }
    }

    // ------------------------------------------------------------------ row helpers

    private static float maxF(ByteBuffer x, int xi, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            acc = acc.max(FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE));
        }
        float max = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x.getFloat(4 * (xi + i)));
        }
        return max;
    }

    private static double maxD(ByteBuffer x, int xi, int n) {
        DoubleVector acc = DoubleVector.broadcast(D, Double.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            acc = acc.max(DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE));
        }
        double max = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x.getDouble(8 * (xi + i)));
        }
        return max;
    }

    /** {@code sum e^(x - max)}, finished in double; also writes each e^(x - max) to y when y is given. */
    private static double expSumF(ByteBuffer x, int xi, int n, float max, ByteBuffer y, int yi) {
        FloatVector shift = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector e = FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE).sub(shift).lanewise(VectorOperators.EXP);
            acc = acc.add(e);
            if (y != null) {
                e.intoByteBuffer(y, 4 * (yi + i), NATIVE);
            }
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x.getFloat(4 * (xi + i)) - max);
            sum += e;
            if (y != null) {
                y.putFloat(4 * (yi + i), e);
            }
        }
        return sum;
    }

    private static double expSumD(ByteBuffer x, int xi, int n, double max, ByteBuffer y, int yi) {
        DoubleVector shift = DoubleVector.broadcast(D, max);
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            DoubleVector e = DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE).sub(shift).lanewise(VectorOperators.EXP);
            acc = acc.add(e);
            if (y != null) {
                e.intoByteBuffer(y, 8 * (yi + i), NATIVE);
            }
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            double e = Math.exp(x.getDouble(8 * (xi + i)) - max);
            sum += e;
            if (y != null) {
                y.putDouble(8 * (yi + i), e);
            }
        }
        return sum;
    }

    /** {@code y = y * factor} over n elements in place. */
    private static void scaleF(ByteBuffer y, int yi, int n, float factor) {
        FloatVector f = FloatVector.broadcast(F, factor);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector.fromByteBuffer(F, y, 4 * (yi + i), NATIVE).mul(f).intoByteBuffer(y, 4 * (yi + i), NATIVE);
        }
        for (; i < n; i++) {
            y.putFloat(4 * (yi + i), y.getFloat(4 * (yi + i)) * factor);
        }
    }

    private static void scaleD(ByteBuffer y, int yi, int n, double factor) {
        DoubleVector f = DoubleVector.broadcast(D, factor);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            DoubleVector.fromByteBuffer(D, y, 8 * (yi + i), NATIVE).mul(f).intoByteBuffer(y, 8 * (yi + i), NATIVE);
        }
        for (; i < n; i++) {
            y.putDouble(8 * (yi + i), y.getDouble(8 * (yi + i)) * factor);
        }
    }

    /** {@code y = x - c} over n elements. */
    private static void shiftF(ByteBuffer x, int xi, ByteBuffer y, int yi, int n, float c) {
        FloatVector s = FloatVector.broadcast(F, c);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE).sub(s).intoByteBuffer(y, 4 * (yi + i), NATIVE);
        }
        for (; i < n; i++) {
            y.putFloat(4 * (yi + i), x.getFloat(4 * (xi + i)) - c);
        }
    }

    private static void shiftD(ByteBuffer x, int xi, ByteBuffer y, int yi, int n, double c) {
        DoubleVector s = DoubleVector.broadcast(D, c);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE).sub(s).intoByteBuffer(y, 8 * (yi + i), NATIVE);
        }
        for (; i < n; i++) {
            y.putDouble(8 * (yi + i), x.getDouble(8 * (xi + i)) - c);
        }
    }

    private static double sumF(ByteBuffer x, int xi, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            acc = acc.add(FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE));
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += x.getFloat(4 * (xi + i));
        }
        return sum;
    }

    private static double sumD(ByteBuffer x, int xi, int n) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            acc = acc.add(DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE));
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += x.getDouble(8 * (xi + i));
        }
        return sum;
    }

    private static double dotF(ByteBuffer a, int ai, ByteBuffer b, int bi, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            acc = FloatVector.fromByteBuffer(F, a, 4 * (ai + i), NATIVE).fma(FloatVector.fromByteBuffer(F, b, 4 * (bi + i), NATIVE), acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a.getFloat(4 * (ai + i)) * b.getFloat(4 * (bi + i));
        }
        return sum;
    }

    private static double dotD(ByteBuffer a, int ai, ByteBuffer b, int bi, int n) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            acc = DoubleVector.fromByteBuffer(D, a, 8 * (ai + i), NATIVE).fma(DoubleVector.fromByteBuffer(D, b, 8 * (bi + i), NATIVE), acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a.getDouble(8 * (ai + i)) * b.getDouble(8 * (bi + i));
        }
        return sum;
    }

    /** {@code sum (x - mean)^2} over n elements. */
    private static double centeredSquaresF(ByteBuffer x, int xi, int n, float mean) {
        FloatVector m = FloatVector.broadcast(F, mean);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector c = FloatVector.fromByteBuffer(F, x, 4 * (xi + i), NATIVE).sub(m);
            acc = c.fma(c, acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float c = x.getFloat(4 * (xi + i)) - mean;
            sum += c * c;
        }
        return sum;
    }

    private static double centeredSquaresD(ByteBuffer x, int xi, int n, double mean) {
        DoubleVector m = DoubleVector.broadcast(D, mean);
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0;
        for (; i < D.loopBound(n); i += D.length()) {
            DoubleVector c = DoubleVector.fromByteBuffer(D, x, 8 * (xi + i), NATIVE).sub(m);
            acc = c.fma(c, acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            double c = x.getDouble(8 * (xi + i)) - mean;
            sum += c * c;
        }
        return sum;
    }
}
