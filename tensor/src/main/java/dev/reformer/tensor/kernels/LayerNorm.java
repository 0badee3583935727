package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalisation over the last axis, forward and backward, one row at a time:
 * <ul>
 *   <li>forward: {@code y = (x - mean) rstd gamma + beta} with {@code rstd = 1/sqrt(var + eps)}, the
 *       biased variance (as in the paper and PyTorch); the per-row mean and rstd are kept for the
 *       backward.</li>
 *   <li>backward: with {@code xhat = (x - mean) rstd} recomputed and {@code gh = g gamma},
 *       {@code dx = rstd (gh - mean(gh) - xhat mean(gh xhat))} per row, and
 *       {@code dgamma = sum g xhat}, {@code dbeta = sum g} over the rows.</li>
 * </ul>
 * A row is read from memory once: the mean, the variance and the output passes find it in the
 * cache. The parameter gradients are summed per group of rows, then over the groups in order, so
 * they do not depend on the thread count. {@code Functional.layerNormComposed} is the reference
 * the fused op is tested against; float32 runs one algorithm as a vector kernel or as plain loops.
 */
public final class LayerNorm {
    private LayerNorm() {
    }

    /** y, and the per-row mean and rstd; x and y (rows, n), gamma and beta (n), mean and rstd (rows). */
    public static void forward(Tensor x, Tensor gamma, Tensor beta, double eps, Tensor y, Tensor mean, Tensor rstd, int n) {
        Pass.over(x.numel() / n, n).rows(x).shared(gamma).shared(beta).rowsOut(y).perRowOut(mean).perRowOut(rstd).run(g -> {
            for (int r = 0; r < g.rows; r++) {
                if (g.vector) {
                    Vector.row(g.f(0), r, n, g.f(1), g.f(2), (float) eps, g.f(3), g.f(4), g.f(5));
                } else if (g.isFloat) {
                    row(g.f(0), r, n, g.f(1), g.f(2), (float) eps, g.f(3), g.f(4), g.f(5), g.floatScratch(0, n));
                } else {
                    row(g.d(0), r, n, g.d(1), g.d(2), eps, g.d(3), g.d(4), g.d(5));
                }
            }
        });
    }

    /** dx (rows, n), dgamma and dbeta (n), from x, the forward's mean and rstd, gamma and the output's gradient g. */
    public static void backward(Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor g, Tensor dx, Tensor dgamma,
            Tensor dbeta, int n) {
        Pass pass = Pass.over(x.numel() / n, n).rows(x).perRow(mean).perRow(rstd).shared(gamma).rows(g).rowsOut(dx);
        double[][] gammaParts = new double[pass.groups()][];
        double[][] betaParts = new double[pass.groups()][];
        pass.run(p -> {
            double[] dg = new double[n];
            double[] db = new double[n];
            if (p.isFloat) {
                float[] dgf = new float[n];
                float[] dbf = new float[n];
                for (int r = 0; r < p.rows; r++) {
                    if (p.vector) {
                        Vector.rowBackward(p.f(0), r, n, p.f(1)[r], p.f(2)[r], p.f(3), p.f(4), p.f(5), dgf, dbf,
                                p.floatScratch(0, 2 * n));
                    } else {
                        rowBackward(p.f(0), r, n, p.f(1)[r], p.f(2)[r], p.f(3), p.f(4), p.f(5), dgf, dbf,
                                p.floatScratch(0, n), p.floatScratch(1, n), p.floatScratch(2, n));
                    }
                }
                for (int i = 0; i < n; i++) {
                    dg[i] = dgf[i];
                    db[i] = dbf[i];
                }
            } else {
                double[] scratch = p.doubleScratch(0, 2 * n);
                for (int r = 0; r < p.rows; r++) {
                    rowBackward(p.d(0), r, n, p.d(1)[r], p.d(2)[r], p.d(3), p.d(4), p.d(5), dg, db, scratch);
                }
            }
            gammaParts[p.index] = dg;
            betaParts[p.index] = db;
        });
        double[] sumGamma = new double[n];
        double[] sumBeta = new double[n];
        for (int part = 0; part < gammaParts.length; part++) {
            for (int i = 0; i < n; i++) {
                sumGamma[i] += gammaParts[part][i];
                sumBeta[i] += betaParts[part][i];
            }
        }
        write(dgamma, sumGamma);
        write(dbeta, sumBeta);
    }

    private static void write(Tensor t, double[] values) {
        Memory m = Memory.writable(t);
        if (!m.isFloat()) {
            m.put(0, values, 0, values.length);
            return;
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        m.put(0, f, 0, f.length);
    }

    // ------------------------------------------------------------------ float64: the reference

    /** Row r of x into row r of y, and its mean and rstd. */
    static void row(double[] x, int r, int n, double[] gamma, double[] beta, double eps, double[] y, double[] mean,
            double[] rstd) {
        int at = r * n;
        double mu = Reductions.fold(Reductions.Fold.SUM, x, at, n) / n;
        double squares = 0;
        for (int i = at; i < at + n; i++) {
            squares += (x[i] - mu) * (x[i] - mu);
        }
        double inv = 1.0 / Math.sqrt(squares / n + eps);
        for (int i = 0; i < n; i++) {
            y[at + i] = (x[at + i] - mu) * inv * gamma[i] + beta[i];
        }
        mean[r] = mu;
        rstd[r] = inv;
    }

    /** Row r's dx, and its terms of dgamma and dbeta added into dg and db; scratch holds 2n values. */
    static void rowBackward(double[] x, int r, int n, double mu, double inv, double[] gamma, double[] g, double[] dx,
            double[] dg, double[] db, double[] scratch) {
        int at = r * n;
        double sumGh = 0;
        double sumGhXhat = 0;
        for (int i = 0; i < n; i++) {
            double xhat = (x[at + i] - mu) * inv;
            double gh = g[at + i] * gamma[i];
            scratch[i] = xhat;
            scratch[n + i] = gh;
            sumGh += gh;
            sumGhXhat += gh * xhat;
            dg[i] += g[at + i] * xhat;
            db[i] += g[at + i];
        }
        for (int i = 0; i < n; i++) {
            dx[at + i] = inv * (scratch[n + i] - sumGh / n - scratch[i] * sumGhXhat / n);
        }
    }

    // ------------------------------------------------------------------ float32: plain loops

    /**
     * As {@link Vector#row}, in plain loops over a copy of the row at index 0 of {@code scratch} (n
     * values): the JIT vectorises a loop only when every array in it is read at one index.
     */
    static void row(float[] x, int r, int n, float[] gamma, float[] beta, float eps, float[] y, float[] mean, float[] rstd,
            float[] scratch) {
        int at = r * n;
        float mu = (float) (Reductions.fold(Reductions.Fold.SUM, x, at, n, false) / n);
        System.arraycopy(x, at, scratch, 0, n);
        for (int i = 0; i < n; i++) {
            scratch[i] -= mu;                              // centred, for the variance
        }
        float inv = (float) (1.0 / Math.sqrt(Reductions.dot(scratch, 0, scratch, 0, n, false) / n + eps));
        for (int i = 0; i < n; i++) {
            scratch[i] = Math.fma(scratch[i] * inv, gamma[i], beta[i]);
        }
        System.arraycopy(scratch, 0, y, at, n);
        mean[r] = mu;
        rstd[r] = inv;
    }

    /**
     * As {@link Vector#rowBackward}, in plain loops over copies of x's and g's rows ({@code xhat}
     * and {@code gRow}) and {@code gh}, three scratch arrays of n values read at index 0.
     */
    static void rowBackward(float[] x, int r, int n, float mean, float inv, float[] gamma, float[] g, float[] dx,
            float[] dg, float[] db, float[] xhat, float[] gRow, float[] gh) {
        int at = r * n;
        System.arraycopy(x, at, xhat, 0, n);
        System.arraycopy(g, at, gRow, 0, n);
        for (int i = 0; i < n; i++) {
            xhat[i] = (xhat[i] - mean) * inv;
        }
        for (int i = 0; i < n; i++) {
            gh[i] = gRow[i] * gamma[i];
        }
        for (int i = 0; i < n; i++) {
            dg[i] = Math.fma(gRow[i], xhat[i], dg[i]);
        }
        for (int i = 0; i < n; i++) {
            db[i] += gRow[i];
        }
        float meanGh = (float) (Reductions.fold(Reductions.Fold.SUM, gh, 0, n, false) / n);
        float meanGhXhat = (float) (Reductions.dot(gh, 0, xhat, 0, n, false) / n);
        for (int i = 0; i < n; i++) {
            gh[i] = (gh[i] - meanGh - xhat[i] * meanGhXhat) * inv;
        }
        System.arraycopy(gh, 0, dx, at, n);
    }

    // ------------------------------------------------------------------ float32: vector kernels

    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        static void row(float[] x, int r, int n, float[] gamma, float[] beta, float eps, float[] y, float[] mean,
                float[] rstd) {
            int at = r * n;
            float mu = (float) (Reductions.fold(Reductions.Fold.SUM, x, at, n, true) / n);
            FloatVector m = FloatVector.broadcast(F, mu);
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector c = FloatVector.fromArray(F, x, at + i).sub(m);
                acc = c.fma(c, acc);
            }
            float[] lanes = VectorLanes.scratch();
            acc.intoArray(lanes, 0);
            double squares = VectorLanes.sum(lanes, F.length());
            for (; i < n; i++) {
                float c = x[at + i] - mu;
                squares += c * c;
            }
            float inv = (float) (1.0 / Math.sqrt(squares / n + eps));
            FloatVector v = FloatVector.broadcast(F, inv);
            for (i = 0; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, x, at + i).sub(m).mul(v)
                        .fma(FloatVector.fromArray(F, gamma, i), FloatVector.fromArray(F, beta, i))
                        .intoArray(y, at + i);
            }
            for (; i < n; i++) {
                y[at + i] = (x[at + i] - mu) * inv * gamma[i] + beta[i];
            }
            mean[r] = mu;
            rstd[r] = inv;
        }

        static void rowBackward(float[] x, int r, int n, float mean, float inv, float[] gamma, float[] g, float[] dx,
                float[] dg, float[] db, float[] scratch) {
            int at = r * n;
            FloatVector mu = FloatVector.broadcast(F, mean);
            FloatVector iv = FloatVector.broadcast(F, inv);
            FloatVector sumGh = FloatVector.zero(F);
            FloatVector sumGhXhat = FloatVector.zero(F);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector h = FloatVector.fromArray(F, x, at + i).sub(mu).mul(iv);
                FloatVector gv = FloatVector.fromArray(F, g, at + i);
                FloatVector ghv = gv.mul(FloatVector.fromArray(F, gamma, i));
                h.intoArray(scratch, i);
                ghv.intoArray(scratch, n + i);
                sumGh = sumGh.add(ghv);
                sumGhXhat = ghv.fma(h, sumGhXhat);
                gv.fma(h, FloatVector.fromArray(F, dg, i)).intoArray(dg, i);
                gv.add(FloatVector.fromArray(F, db, i)).intoArray(db, i);
            }
            float[] lanes = VectorLanes.scratch();
            sumGh.intoArray(lanes, 0);
            double sg = VectorLanes.sum(lanes, F.length());
            sumGhXhat.intoArray(lanes, 0);
            double sgh = VectorLanes.sum(lanes, F.length());
            for (; i < n; i++) {
                float h = (x[at + i] - mean) * inv;
                float gh = g[at + i] * gamma[i];
                scratch[i] = h;
                scratch[n + i] = gh;
                sg += gh;
                sgh += gh * h;
                dg[i] += g[at + i] * h;
                db[i] += g[at + i];
            }
            FloatVector meanGh = FloatVector.broadcast(F, (float) (sg / n));
            FloatVector meanGhXhat = FloatVector.broadcast(F, (float) (sgh / n));
            for (i = 0; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, scratch, n + i).sub(meanGh).sub(FloatVector.fromArray(F, scratch, i).mul(meanGhXhat))
                        .mul(iv).intoArray(dx, at + i);
            }
            for (; i < n; i++) {
                dx[at + i] = inv * (scratch[n + i] - meanGh.lane(0) - scratch[i] * meanGhXhat.lane(0));
            }
        }
    }
}
