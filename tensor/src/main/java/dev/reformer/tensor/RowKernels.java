package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused row ops over the last axis: softmax, log-softmax, logsumexp and layer
 * normalisation, forward and backward, and the entry point for row folds. Each row is read a few
 * times and written once, where the same op composed of primitives writes a whole tensor per step
 * (PyTorch's composed softmax took 37-40 ms on 16M floats here, its fused one 12-14 ms). The formulas sit with
 * the ops that call these ({@code dev.reformer.autograd.FusedOps}); the compositions of
 * primitives in {@code Functional} are the reference they are tested against.
 *
 * <p>Float32 runs in {@link HeapRows} (rows copied in groups to heap arrays, where vector loops
 * run faster than over the off-heap buffers); the float64 loops are here, reading the buffers in
 * place. Rows are independent and split over both cores with no effect on the results. Every
 * loop runs whole vectors unmasked and finishes the last n % lanes elements in plain Java; a
 * vector that might be either of two things never flows through one variable (the JIT would box
 * it and fall back to scalar code).
 */
final class RowKernels {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private RowKernels() {
    }

    /** A body over one row. */
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

    /** What a softmax-family forward writes per row. */
    enum Kind {
        /** {@code y = e^(x - m) / sum e^(x - m)}. */
        SOFTMAX,
        /** {@code y = x - m - log sum e^(x - m)}. */
        LOG_SOFTMAX
    }

    /** y = softmax or log-softmax of each row of x (n = row length); both contiguous, same shape. */
    static void softmax(Kind kind, Tensor x, Tensor y, int n) {
        if (x.dtype() == DType.FLOAT32) {
            HeapRows.softmax(kind, x, y, n);
            return;
        }
        ByteBuffer xb = x.nio();
        ByteBuffer yb = y.nio();
        int xo = (int) x.elementOffset();
        int yo = (int) y.elementOffset();
        forRows((int) (x.numel() / n), n, r -> {
            int xi = xo + r * n;
            int yi = yo + r * n;
            double max = maxD(xb, xi, n);
            double sum = expSumD(xb, xi, n, max, kind == Kind.SOFTMAX ? yb : null, yi);
            if (kind == Kind.SOFTMAX) {
                scaleD(yb, yi, n, 1.0 / sum);
            } else {
                shiftD(xb, xi, yb, yi, n, max + Math.log(sum));
            }
        });
    }

    /** One value per row: {@code m + log sum e^(x - m)}, m the row's maximum. */
    static void logsumexp(Tensor x, Tensor out, int n) {
        if (x.dtype() == DType.FLOAT32) {
            HeapRows.logsumexp(x, out, n);
            return;
        }
        ByteBuffer xb = x.nio();
        ByteBuffer ob = out.nio();
        int xo = (int) x.elementOffset();
        int oo = (int) out.elementOffset();
        forRows((int) (x.numel() / n), n, r -> {
            double max = maxD(xb, xo + r * n, n);
            ob.putDouble(8 * (oo + r), max + Math.log(expSumD(xb, xo + r * n, n, max, null, 0)));
        });
    }

    /**
     * The backward of the softmax family, one row at a time, for y the forward's output and g
     * the output's gradient:
     * SOFTMAX: {@code dx = y (g - sum(g y))}; LOG_SOFTMAX: {@code dx = g - e^y sum(g)}.
     */
    static void softmaxBackward(Kind kind, Tensor y, Tensor g, Tensor dx, int n) {
        if (y.dtype() == DType.FLOAT32) {
            HeapRows.softmaxBackward(kind, y, g, dx, n);
            return;
        }
        ByteBuffer yb = y.nio();
        ByteBuffer gb = g.nio();
        ByteBuffer db = dx.nio();
        int yo = (int) y.elementOffset();
        int go = (int) g.elementOffset();
        int dOff = (int) dx.elementOffset();
        forRows((int) (y.numel() / n), n, r -> {
            int yi = yo + r * n;
            int gi = go + r * n;
            int di = dOff + r * n;
            // e^y lane by lane with Math.exp, which gives the same bits in every JIT tier (see VectorMath)
            int full = kind == Kind.SOFTMAX ? D.loopBound(n) : 0;
            double total = kind == Kind.SOFTMAX ? dotD(gb, gi, yb, yi, n) : sumD(gb, gi, n);
            DoubleVector t = DoubleVector.broadcast(D, total);
            for (int i = 0; i < full; i += D.length()) {
                DoubleVector yv = DoubleVector.fromByteBuffer(D, yb, 8 * (yi + i), NATIVE);
                DoubleVector gv = DoubleVector.fromByteBuffer(D, gb, 8 * (gi + i), NATIVE);
                yv.mul(gv.sub(t)).intoByteBuffer(db, 8 * (di + i), NATIVE);
            }
            for (int i = full; i < n; i++) {
                double yv = yb.getDouble(8 * (yi + i));
                double gv = gb.getDouble(8 * (gi + i));
                db.putDouble(8 * (di + i), kind == Kind.SOFTMAX ? yv * (gv - total) : gv - Math.exp(yv) * total);
            }
        });
    }

    /** The backward of logsumexp: {@code dx = g_row e^(x - lse_row)}, the row's softmax times its gradient. */
    static void logsumexpBackward(Tensor x, Tensor lse, Tensor g, Tensor dx, int n) {
        if (x.dtype() == DType.FLOAT32) {
            HeapRows.logsumexpBackward(x, lse, g, dx, n);
            return;
        }
        ByteBuffer xb = x.nio();
        ByteBuffer lb = lse.nio();
        ByteBuffer gb = g.nio();
        ByteBuffer db = dx.nio();
        int xo = (int) x.elementOffset();
        int lo = (int) lse.elementOffset();
        int go = (int) g.elementOffset();
        int dOff = (int) dx.elementOffset();
        forRows((int) (x.numel() / n), n, r -> {
            int xi = xo + r * n;
            int di = dOff + r * n;
            double shift = lb.getDouble(8 * (lo + r));
            double scale = gb.getDouble(8 * (go + r));
            for (int i = 0; i < n; i++) {
                db.putDouble(8 * (di + i), Math.exp(xb.getDouble(8 * (xi + i)) - shift) * scale);
            }
        });
    }

    /**
     * {@code y = (x - mean) * rstd * gamma + beta} per row, with {@code rstd = 1/sqrt(var + eps)}
     * (biased variance, as in the paper and PyTorch), and the per-row mean and rstd. A row is read
     * from memory once: the mean, the variance and the output passes find it in the L1 cache.
     */
    static void layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps, Tensor y, Tensor mean, Tensor rstd, int n) {
        if (x.dtype() == DType.FLOAT32) {
            HeapRows.layerNorm(x, gamma, beta, eps, y, mean, rstd, n);
            return;
        }
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
        forRows((int) (x.numel() / n), n, r -> {
            int xi = xo + r * n;
            int yi = yo + r * n;
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
        });
    }

    /**
     * The backward of {@link #layerNorm}: per row, with {@code xhat = (x - mean) rstd} recomputed
     * and {@code gh = g gamma}, {@code dx = rstd (gh - mean(gh) - xhat mean(gh xhat))}; and
     * {@code dgamma = sum g xhat}, {@code dbeta = sum g} over the rows, summed per block of
     * {@link #HeapRows.NORM_ROWS} rows and then over the blocks in order, so the sums do not depend on the
     * thread count.
     */
    static void layerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor g, Tensor dx, Tensor dgamma,
            Tensor dbeta, int n) {
        if (x.dtype() == DType.FLOAT32) {
            HeapRows.layerNormBackward(x, mean, rstd, gamma, g, dx, dgamma, dbeta, n);
            return;
        }
        double[] xs = x.toDoubleArray();
        double[] means = mean.toDoubleArray();
        double[] rstds = rstd.toDoubleArray();
        double[] gammas = gamma.toDoubleArray();
        double[] gs = g.toDoubleArray();
        int rows = xs.length / n;
        double[] ds = new double[xs.length];
        int blocks = (rows + HeapRows.NORM_ROWS - 1) / HeapRows.NORM_ROWS;
        double[][] gammaParts = new double[blocks][];
        double[][] betaParts = new double[blocks][];
        Parallel.forRange(blocks, 1, (from, to) -> {
            double[] xhat = new double[n];
            double[] gh = new double[n];
            for (int blk = from; blk < to; blk++) {
                double[] dg = new double[n];
                double[] dbt = new double[n];
                for (int r = blk * HeapRows.NORM_ROWS; r < Math.min(rows, (blk + 1) * HeapRows.NORM_ROWS); r++) {
                    double sumGh = 0;
                    double sumGhXhat = 0;
                    for (int i = 0; i < n; i++) {
                        xhat[i] = (xs[r * n + i] - means[r]) * rstds[r];
                        gh[i] = gs[r * n + i] * gammas[i];
                        sumGh += gh[i];
                        sumGhXhat += gh[i] * xhat[i];
                        dg[i] += gs[r * n + i] * xhat[i];
                        dbt[i] += gs[r * n + i];
                    }
                    for (int i = 0; i < n; i++) {
                        ds[r * n + i] = rstds[r] * (gh[i] - sumGh / n - xhat[i] * sumGhXhat / n);
                    }
                }
                gammaParts[blk] = dg;
                betaParts[blk] = dbt;
            }
        });
        double[] sumGamma = new double[n];
        double[] sumBeta = new double[n];
        for (int blk = 0; blk < blocks; blk++) {
            for (int i = 0; i < n; i++) {
                sumGamma[i] += gammaParts[blk][i];
                sumBeta[i] += betaParts[blk][i];
            }
        }
        dx.writableDoubles().put(0, ds);
        dgamma.writableDoubles().put(0, sumGamma);
        dbeta.writableDoubles().put(0, sumBeta);
    }

    // ------------------------------------------------------------------ row helpers

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

    /**
     * {@code sum e^(x - max)}; also writes each e^(x - max) to y when y is given. Scalar
     * {@code Math.exp}: it gives the same bits in every JIT tier, the vector API's EXP does not
     * (see {@link VectorMath}), and float64 is the checking dtype, not the fast one.
     */
    private static double expSumD(ByteBuffer x, int xi, int n, double max, ByteBuffer y, int yi) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(x.getDouble(8 * (xi + i)) - max);
            sum += e;
            if (y != null) {
                y.putDouble(8 * (yi + i), e);
            }
        }
        return sum;
    }

    /** {@code y = y * factor} over n elements in place. */
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
