package dev.reformer.tensor;

import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 row kernels (last-axis reductions, the softmax family, layer norm), run on rows
 * copied in groups into heap arrays. Measured on this project's machine in one process: summing
 * rows of 128 floats by vector read straight from the tensors' off-heap buffers took 7.3-9.4 ms
 * for 16M floats, the same loop over heap arrays 4.7-5.4 ms, and the copy into the heap costs
 * next to nothing (the rows are read from memory once either way, then from the L1 cache).
 * Row-wise math re-reads each row several times, so it pays; a single streaming pass (an
 * elementwise op) does not, and stays in {@link VectorKernels}.
 *
 * <p>Rows are independent and each group writes its own rows, so results do not depend on the
 * thread count. Formulas as in {@link RowKernels}; float64 stays there.
 */
final class HeapRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Elements per group of rows copied to the heap: a few tens of KB, resident in L1/L2. */
    private static final int GROUP = 1 << 13;

    private HeapRows() {
    }

    /** Three scratch rows-groups per thread: inputs and outputs. */
    private static final class Scratch {
        final float[] a;
        final float[] b;
        final float[] c;

        Scratch(int size) {
            a = new float[size];
            b = new float[size];
            c = new float[size];
        }
    }

    private interface GroupBody {
        void run(Scratch s, int firstRow, int endRow);
    }

    private static void forGroups(int rows, int n, GroupBody body) {
        int perGroup = Math.max(1, GROUP / n);
        int groups = (rows + perGroup - 1) / perGroup;
        Parallel.forRange(groups, 1, (from, to) -> {
            Scratch s = new Scratch(perGroup * n);
            for (int g = from; g < to; g++) {
                body.run(s, g * perGroup, Math.min(rows, (g + 1) * perGroup));
            }
        });
    }

    // ------------------------------------------------------------------ entry points

    /** {@code out[r] = sum or max of row r} of the (rows, n) tensor x. */
    static void foldRows(VectorKernels.Fold fold, Tensor x, Tensor out, int n) {
        FloatBuffer xf = x.floats();
        FloatBuffer of = out.writableFloats();
        int rows = (int) (x.numel() / n);
        forGroups(rows, n, (s, r0, r1) -> {
            xf.get(r0 * n, s.a, 0, (r1 - r0) * n);
            for (int r = r0; r < r1; r++) {
                int at = (r - r0) * n;
                s.b[r - r0] = fold == VectorKernels.Fold.SUM ? (float) sum(s.a, at, n) : max(s.a, at, n);
            }
            of.put(r0, s.b, 0, r1 - r0);
        });
    }

    /** {@code out = e^x} elementwise, x float32 and contiguous (see {@link VectorMath}). */
    static void exp(Tensor x, Tensor out) {
        FloatBuffer xf = x.floats();
        FloatBuffer of = out.writableFloats();
        forGroups(Math.toIntExact(x.numel()), 1, (s, from, to) -> {
            xf.get(from, s.a, 0, to - from);
            VectorMath.expShifted(s.a, 0, to - from, 0f, s.a);
            of.put(from, s.a, 0, to - from);
        });
    }

    /**
     * GELU's forward ({@code g == null}: {@code out = gelu(x)}) or backward ({@code out = g gelu'(x)}),
     * in the sigmoid form of the tanh formula: with {@code u = sqrt(2/pi) (x + 0.044715 x^3)},
     * {@code 0.5 (1 + tanh u) = s = 1 / (1 + e^(-2u))}, so {@code gelu(x) = x s} and
     * {@code gelu'(x) = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)}.
     */
    static void gelu(Tensor x, Tensor g, Tensor out) {
        FloatBuffer xf = x.floats();
        FloatBuffer gf = g == null ? null : g.floats();
        FloatBuffer of = out.writableFloats();
        float c = (float) VectorKernels.GELU_C;
        float a = (float) VectorKernels.GELU_A;
        forGroups(Math.toIntExact(x.numel()), 1, (s, from, to) -> {
            int len = to - from;
            xf.get(from, s.a, 0, len);
            int i = 0;
            for (; i < F.loopBound(len); i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, s.a, i);
                v.mul(v).fma(a, 1f).mul(v).mul(-2 * c).intoArray(s.b, i);
            }
            for (; i < len; i++) {
                float v = s.a[i];
                s.b[i] = Math.fma(v * v, a, 1f) * v * (-2 * c);
            }
            VectorMath.expShifted(s.b, 0, len, 0f, s.b);
            if (gf != null) {
                gf.get(from, s.c, 0, len);
            }
            i = 0;
            for (; i < F.loopBound(len); i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, s.a, i);
                FloatVector sig = FloatVector.broadcast(F, 1f).div(FloatVector.fromArray(F, s.b, i).add(1f));
                if (gf == null) {
                    v.mul(sig).intoArray(s.b, i);
                } else {
                    FloatVector du = v.mul(v).fma(3 * a, 1f).mul(c);
                    FloatVector dy = v.mul(2f).mul(sig).mul(sig.neg().add(1f)).fma(du, sig);
                    dy.mul(FloatVector.fromArray(F, s.c, i)).intoArray(s.b, i);
                }
            }
            for (; i < len; i++) {
                float v = s.a[i];
                float sig = 1f / (1f + s.b[i]);
                s.b[i] = gf == null ? v * sig : Math.fma(2f * v * sig * (1f - sig), Math.fma(v * v, 3 * a, 1f) * c, sig) * s.c[i];
            }
            of.put(from, s.b, 0, len);
        });
    }

    static void softmax(RowKernels.Kind kind, Tensor x, Tensor y, int n) {
        FloatBuffer xf = x.floats();
        FloatBuffer yf = y.writableFloats();
        int rows = (int) (x.numel() / n);
        forGroups(rows, n, (s, r0, r1) -> {
            int len = (r1 - r0) * n;
            xf.get(r0 * n, s.a, 0, len);
            for (int at = 0; at < len; at += n) {
                float max = max(s.a, at, n);
                double total = VectorMath.expShifted(s.a, at, n, max, s.b);
                if (kind == RowKernels.Kind.SOFTMAX) {
                    scale(s.b, at, n, (float) (1.0 / total));
                } else {
                    shift(s.a, at, n, (float) (max + Math.log(total)), s.b);
                }
            }
            yf.put(r0 * n, s.b, 0, len);
        });
    }

    static void logsumexp(Tensor x, Tensor out, int n) {
        FloatBuffer xf = x.floats();
        FloatBuffer of = out.writableFloats();
        int rows = (int) (x.numel() / n);
        forGroups(rows, n, (s, r0, r1) -> {
            xf.get(r0 * n, s.a, 0, (r1 - r0) * n);
            for (int r = r0; r < r1; r++) {
                int at = (r - r0) * n;
                float max = max(s.a, at, n);
                s.c[r - r0] = (float) (max + Math.log(VectorMath.expShifted(s.a, at, n, max, s.b)));
            }
            of.put(r0, s.c, 0, r1 - r0);
        });
    }

    /** SOFTMAX: {@code dx = y (g - sum(g y))}; LOG_SOFTMAX: {@code dx = g - e^y sum(g)}. */
    static void softmaxBackward(RowKernels.Kind kind, Tensor y, Tensor g, Tensor dx, int n) {
        FloatBuffer yf = y.floats();
        FloatBuffer gf = g.floats();
        FloatBuffer df = dx.writableFloats();
        int rows = (int) (y.numel() / n);
        forGroups(rows, n, (s, r0, r1) -> {
            int len = (r1 - r0) * n;
            yf.get(r0 * n, s.a, 0, len);
            gf.get(r0 * n, s.b, 0, len);
            for (int at = 0; at < len; at += n) {
                int i = 0;
                if (kind == RowKernels.Kind.SOFTMAX) {
                    FloatVector t = FloatVector.broadcast(F, (float) dot(s.b, at, s.a, at, n));
                    for (; i < F.loopBound(n); i += F.length()) {
                        FloatVector.fromArray(F, s.a, at + i).mul(FloatVector.fromArray(F, s.b, at + i).sub(t))
                                .intoArray(s.c, at + i);
                    }
                    for (; i < n; i++) {
                        s.c[at + i] = s.a[at + i] * (s.b[at + i] - t.lane(0));
                    }
                } else {
                    FloatVector t = FloatVector.broadcast(F, (float) sum(s.b, at, n));
                    VectorMath.expShifted(s.a, at, n, 0f, s.c);
                    for (; i < F.loopBound(n); i += F.length()) {
                        FloatVector.fromArray(F, s.b, at + i).sub(FloatVector.fromArray(F, s.c, at + i).mul(t))
                                .intoArray(s.c, at + i);
                    }
                    for (; i < n; i++) {
                        s.c[at + i] = s.b[at + i] - s.c[at + i] * t.lane(0);
                    }
                }
            }
            df.put(r0 * n, s.c, 0, len);
        });
    }

    /** {@code dx = g_row e^(x - lse_row)}. */
    static void logsumexpBackward(Tensor x, Tensor lse, Tensor g, Tensor dx, int n) {
        FloatBuffer xf = x.floats();
        FloatBuffer lf = lse.floats();
        FloatBuffer gf = g.floats();
        FloatBuffer df = dx.writableFloats();
        int rows = (int) (x.numel() / n);
        forGroups(rows, n, (s, r0, r1) -> {
            int len = (r1 - r0) * n;
            xf.get(r0 * n, s.a, 0, len);
            for (int r = r0; r < r1; r++) {
                int at = (r - r0) * n;
                VectorMath.expShifted(s.a, at, n, lf.get(r), s.b);
                scale(s.b, at, n, gf.get(r));
            }
            df.put(r0 * n, s.b, 0, len);
        });
    }

    /** {@code y = (x - mean) rstd gamma + beta} per row, with the per-row mean and rstd. */
    static void layerNorm(Tensor x, Tensor gamma, Tensor beta, double eps, Tensor y, Tensor mean, Tensor rstd, int n) {
        FloatBuffer xf = x.floats();
        float[] gammas = new float[n];
        float[] betas = new float[n];
        gamma.floats().get(0, gammas);
        beta.floats().get(0, betas);
        FloatBuffer yf = y.writableFloats();
        FloatBuffer mf = mean.writableFloats();
        FloatBuffer rf = rstd.writableFloats();
        int rows = (int) (x.numel() / n);
        forGroups(rows, n, (s, r0, r1) -> {
            int len = (r1 - r0) * n;
            xf.get(r0 * n, s.a, 0, len);
            float[] mu = new float[r1 - r0];
            float[] inv = new float[r1 - r0];
            for (int r = 0; r < r1 - r0; r++) {
                int at = r * n;
                mu[r] = (float) (sum(s.a, at, n) / n);
                inv[r] = (float) (1.0 / Math.sqrt(centeredSquares(s.a, at, n, mu[r]) / n + eps));
                FloatVector m = FloatVector.broadcast(F, mu[r]);
                FloatVector v = FloatVector.broadcast(F, inv[r]);
                int i = 0;
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromArray(F, s.a, at + i).sub(m).mul(v)
                            .fma(FloatVector.fromArray(F, gammas, i), FloatVector.fromArray(F, betas, i))
                            .intoArray(s.b, at + i);
                }
                for (; i < n; i++) {
                    s.b[at + i] = (s.a[at + i] - mu[r]) * inv[r] * gammas[i] + betas[i];
                }
            }
            yf.put(r0 * n, s.b, 0, len);
            mf.put(r0, mu, 0, r1 - r0);
            rf.put(r0, inv, 0, r1 - r0);
        });
    }

    /** Rows per block of the layer-norm backward's parameter sums (fixed, for reproducibility; float64 uses it too). */
    static final int NORM_ROWS = 64;

    /**
     * With {@code xhat = (x - mean) rstd} and {@code gh = g gamma}:
     * {@code dx = rstd (gh - mean(gh) - xhat mean(gh xhat))} per row; {@code dgamma = sum g xhat}
     * and {@code dbeta = sum g} summed per block of {@link #NORM_ROWS} rows, then over the blocks in order.
     */
    static void layerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor g, Tensor dx, Tensor dgamma,
            Tensor dbeta, int n) {
        FloatBuffer xf = x.floats();
        FloatBuffer mf = mean.floats();
        FloatBuffer rf = rstd.floats();
        FloatBuffer gf = g.floats();
        FloatBuffer df = dx.writableFloats();
        float[] gammas = new float[n];
        gamma.floats().get(0, gammas);
        int rows = (int) (x.numel() / n);
        int blocks = (rows + NORM_ROWS - 1) / NORM_ROWS;
        float[][] gammaParts = new float[blocks][];
        float[][] betaParts = new float[blocks][];
        Parallel.forRange(blocks, 1, (from, to) -> {
            float[] xs = new float[NORM_ROWS * n];
            float[] gs = new float[NORM_ROWS * n];
            float[] ds = new float[NORM_ROWS * n];
            float[] xhat = new float[n];
            float[] gh = new float[n];
            for (int blk = from; blk < to; blk++) {
                int r0 = blk * NORM_ROWS;
                int r1 = Math.min(rows, r0 + NORM_ROWS);
                xf.get(r0 * n, xs, 0, (r1 - r0) * n);
                gf.get(r0 * n, gs, 0, (r1 - r0) * n);
                float[] dg = new float[n];
                float[] db = new float[n];
                for (int r = r0; r < r1; r++) {
                    int at = (r - r0) * n;
                    FloatVector mu = FloatVector.broadcast(F, mf.get(r));
                    float inv = rf.get(r);
                    FloatVector iv = FloatVector.broadcast(F, inv);
                    FloatVector sumGh = FloatVector.zero(F);
                    FloatVector sumGhXhat = FloatVector.zero(F);
                    int i = 0;
                    for (; i < F.loopBound(n); i += F.length()) {
                        FloatVector h = FloatVector.fromArray(F, xs, at + i).sub(mu).mul(iv);
                        FloatVector gv = FloatVector.fromArray(F, gs, at + i);
                        FloatVector ghv = gv.mul(FloatVector.fromArray(F, gammas, i));
                        h.intoArray(xhat, i);
                        ghv.intoArray(gh, i);
                        sumGh = sumGh.add(ghv);
                        sumGhXhat = ghv.fma(h, sumGhXhat);
                        gv.fma(h, FloatVector.fromArray(F, dg, i)).intoArray(dg, i);
                        gv.add(FloatVector.fromArray(F, db, i)).intoArray(db, i);
                    }
                    double sg = sumGh.reduceLanes(VectorOperators.ADD);
                    double sgh = sumGhXhat.reduceLanes(VectorOperators.ADD);
                    for (; i < n; i++) {
                        xhat[i] = (xs[at + i] - mf.get(r)) * inv;
                        gh[i] = gs[at + i] * gammas[i];
                        sg += gh[i];
                        sgh += gh[i] * xhat[i];
                        dg[i] += gs[at + i] * xhat[i];
                        db[i] += gs[at + i];
                    }
                    FloatVector meanGh = FloatVector.broadcast(F, (float) (sg / n));
                    FloatVector meanGhXhat = FloatVector.broadcast(F, (float) (sgh / n));
                    i = 0;
                    for (; i < F.loopBound(n); i += F.length()) {
                        FloatVector.fromArray(F, gh, i).sub(meanGh).sub(FloatVector.fromArray(F, xhat, i).mul(meanGhXhat))
                                .mul(iv).intoArray(ds, at + i);
                    }
                    for (; i < n; i++) {
                        ds[at + i] = inv * (gh[i] - meanGh.lane(0) - xhat[i] * meanGhXhat.lane(0));
                    }
                }
                df.put(r0 * n, ds, 0, (r1 - r0) * n);
                gammaParts[blk] = dg;
                betaParts[blk] = db;
            }
        });
        float[] sumGamma = new float[n];
        float[] sumBeta = new float[n];
        for (int i = 0; i < n; i++) {
            double sg = 0;
            double sb = 0;
            for (int blk = 0; blk < blocks; blk++) {
                sg += gammaParts[blk][i];
                sb += betaParts[blk][i];
            }
            sumGamma[i] = (float) sg;
            sumBeta[i] = (float) sb;
        }
        dgamma.writableFloats().put(0, sumGamma);
        dbeta.writableFloats().put(0, sumBeta);
    }

    // ------------------------------------------------------------------ row helpers on heap arrays

    private static float max(float[] x, int at, int n) {
        FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            acc = acc.max(FloatVector.fromArray(F, x, at + i));
        }
        float max = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[at + i]);
        }
        return max;
    }

    private static double sum(float[] x, int at, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            acc = acc.add(FloatVector.fromArray(F, x, at + i));
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += x[at + i];
        }
        return sum;
    }

    private static double dot(float[] a, int ai, float[] b, int bi, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            acc = FloatVector.fromArray(F, a, ai + i).fma(FloatVector.fromArray(F, b, bi + i), acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[ai + i] * b[bi + i];
        }
        return sum;
    }

    private static double centeredSquares(float[] x, int at, int n, float mean) {
        FloatVector m = FloatVector.broadcast(F, mean);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector c = FloatVector.fromArray(F, x, at + i).sub(m);
            acc = c.fma(c, acc);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float c = x[at + i] - mean;
            sum += c * c;
        }
        return sum;
    }

    private static void scale(float[] y, int at, int n, float factor) {
        FloatVector f = FloatVector.broadcast(F, factor);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector.fromArray(F, y, at + i).mul(f).intoArray(y, at + i);
        }
        for (; i < n; i++) {
            y[at + i] *= factor;
        }
    }

    /** {@code y = x - c} over the row. */
    private static void shift(float[] x, int at, int n, float c, float[] y) {
        FloatVector s = FloatVector.broadcast(F, c);
        int i = 0;
        for (; i < F.loopBound(n); i += F.length()) {
            FloatVector.fromArray(F, x, at + i).sub(s).intoArray(y, at + i);
        }
        for (; i < n; i++) {
            y[at + i] = x[at + i] - c;
        }
    }
}
