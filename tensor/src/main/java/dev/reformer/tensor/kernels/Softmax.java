package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax, log-softmax and logsumexp over the last axis, forward and backward, one row at a time:
 * each row is read a few times from the cache and written once, where the same ops composed of
 * primitives write a whole tensor per step. The formulas, with m the row's maximum:
 * <ul>
 *   <li>softmax: {@code y = e^(x - m) / sum e^(x - m)}; backward {@code dx = y (g - sum(g y))}</li>
 *   <li>log-softmax: {@code y = x - lse}, {@code lse = m + log sum e^(x - m)}; backward
 *       {@code dx = g - e^y sum(g)}</li>
 *   <li>logsumexp: {@code lse}; backward {@code dx = g e^(x - lse)}</li>
 * </ul>
 * Each softmax is normalised by its own sum, not as {@code e^(x - lse)}: that loses digits when
 * the logits are large (lse sits near -1e9 for a row of forbidden keys). The compositions of
 * primitives in {@code Functional} ({@code softmaxComposed}, ...) are the reference these are
 * tested against. Float32 rows run one algorithm, as a vector kernel or as plain loops, on
 * {@link Exp}'s float exponential; float64 rows the reference in double with {@code Math.exp}.
 */
public final class Softmax {
    private Softmax() {
    }

    /** What a softmax-family forward writes per row. */
    public enum Kind {
        /** {@code y = e^(x - m) / sum e^(x - m)}. */
        SOFTMAX,
        /** {@code y = x - m - log sum e^(x - m)}. */
        LOG_SOFTMAX
    }

    /** {@code y = softmax or log-softmax of each row of x} (rows of n); both dense, same shape. */
    public static void forward(Kind kind, Tensor x, Tensor y, int n) {
        Pass.over(x.numel() / n, n).rows(x).rowsOut(y).run(g -> {
            if (g.isFloat && !g.vector) {
                plainRows(kind, g.f(0), g.rows, n, g.f(1));
                return;
            }
            for (int at = 0; at < g.elements(); at += n) {
                if (g.isFloat) {
                    row(kind, g.f(0), at, n, g.f(1), true);
                } else {
                    row(kind, g.d(0), at, n, g.d(1));
                }
            }
        });
    }

    /**
     * The float32 forward of a group of rows in plain loops: the maxima row by row, then one
     * exponential over the whole group (the plain exponential's fixed cost per call, a dozen
     * loops, would otherwise be paid per row), then the sums and the last step row by row. The
     * same arithmetic as {@link #row(Kind, float[], int, int, float[], boolean)}.
     */
    static void plainRows(Kind kind, float[] x, int rows, int n, float[] y) {
        float[] max = new float[rows];
        for (int r = 0; r < rows; r++) {
            int at = r * n;
            float m = Reductions.plainMax(x, at, n);
            max[r] = m;
            for (int i = at; i < at + n; i++) {
                y[i] = x[i] - m;
            }
        }
        Exp.plain(y, 0, rows * n, 0f, y);
        for (int r = 0; r < rows; r++) {
            int at = r * n;
            double sum = Reductions.fold(Reductions.Fold.SUM, y, at, n, false);
            if (kind == Kind.SOFTMAX) {
                scale(y, at, n, (float) (1.0 / sum), false);
            } else {
                float shift = (float) (max[r] + Math.log(sum));
                for (int i = at; i < at + n; i++) {
                    y[i] = x[i] - shift;
                }
            }
        }
    }

    /** One value per row of x: {@code m + log sum e^(x - m)}. */
    public static void logsumexp(Tensor x, Tensor out, int n) {
        Pass.over(x.numel() / n, n).rows(x).perRowOut(out).run(g -> {
            for (int r = 0; r < g.rows; r++) {
                if (g.isFloat) {
                    // the e^(x - m) go to scratch; only their sum is kept
                    float[] x0 = g.f(0);
                    float max = (float) Reductions.fold(Reductions.Fold.MAX, x0, r * n, n, g.vector);
                    double sum = g.vector ? Exp.Vector.expShifted(x0, r * n, n, max, g.floatScratch(0, g.elements()))
                            : Exp.plain(x0, r * n, n, max, g.floatScratch(0, g.elements()));
                    g.f(1)[r] = (float) (max + Math.log(sum));
                } else {
                    g.d(1)[r] = logsumexp(g.d(0), r * n, n);
                }
            }
        });
    }

    /** The backward of {@link #forward}, from y (the forward's output) and g (its gradient). */
    public static void backward(Kind kind, Tensor y, Tensor g, Tensor dx, int n) {
        Pass.over(y.numel() / n, n).rows(y).rows(g).rowsOut(dx).run(p -> {
            for (int at = 0; at < p.elements(); at += n) {
                if (p.isFloat) {
                    rowBackward(kind, p.f(0), p.f(1), at, n, p.f(2), p.vector);
                } else {
                    rowBackward(kind, p.d(0), p.d(1), at, n, p.d(2));
                }
            }
        });
    }

    /** The backward of {@link #logsumexp}: {@code dx = g_row e^(x - lse_row)}. */
    public static void logsumexpBackward(Tensor x, Tensor lse, Tensor g, Tensor dx, int n) {
        Pass.over(x.numel() / n, n).rows(x).perRow(lse).perRow(g).rowsOut(dx).run(p -> {
            for (int r = 0; r < p.rows; r++) {
                if (p.isFloat) {
                    float[] out = p.f(3);
                    if (p.vector) {
                        Exp.Vector.expShifted(p.f(0), r * n, n, p.f(1)[r], out);
                    } else {
                        Exp.plain(p.f(0), r * n, n, p.f(1)[r], out);
                    }
                    scale(out, r * n, n, p.f(2)[r], p.vector);
                } else {
                    double[] out = p.d(3);
                    Exp.expShifted(p.d(0), r * n, n, p.d(1)[r], out);
                    for (int i = r * n; i < r * n + n; i++) {
                        out[i] *= p.d(2)[r];
                    }
                }
            }
        });
    }

    /**
     * The softmax of {@code x[at .. at + n)} in place, for kernels that keep their values in float
     * arrays (the fused attention kernels); returns the row's logsumexp.
     */
    public static double inPlace(float[] x, int at, int n) {
        return row(Kind.SOFTMAX, x, at, n, x, Kernels.vector());
    }

    /**
     * {@link #inPlace} for each of {@code rows} rows of {@code n} from {@code x[at]}, row r's
     * logsumexp into {@code lse[lseAt + r]}: one call for a block of short rows (a chunk's 64-key
     * attention windows), whose per-call costs would otherwise be paid per row. The same bits.
     */
    public static void rowsInPlace(float[] x, int at, int rows, int n, double[] lse, int lseAt) {
        boolean vector = Kernels.vector();
        float[] lanes = vector ? VectorLanes.scratch() : null;
        for (int r = 0; r < rows; r++) {
            lse[lseAt + r] = row(Kind.SOFTMAX, x, at + r * n, n, x, vector, lanes);
        }
    }

    // ------------------------------------------------------------------ float64: the reference

    /** One row of the forward ({@code y} may be {@code x} for SOFTMAX); returns the row's logsumexp. */
    static double row(Kind kind, double[] x, int at, int n, double[] y) {
        double max = Reductions.fold(Reductions.Fold.MAX, x, at, n);
        double sum = Exp.expShifted(x, at, n, max, y);
        double lse = max + Math.log(sum);
        for (int i = at; i < at + n; i++) {
            y[i] = kind == Kind.SOFTMAX ? y[i] / sum : x[i] - lse;
        }
        return lse;
    }

    static double logsumexp(double[] x, int at, int n) {
        double max = Reductions.fold(Reductions.Fold.MAX, x, at, n);
        double sum = 0;
        for (int i = at; i < at + n; i++) {
            sum += Math.exp(x[i] - max);
        }
        return max + Math.log(sum);
    }

    static void rowBackward(Kind kind, double[] y, double[] g, int at, int n, double[] dx) {
        double total = 0;
        for (int i = at; i < at + n; i++) {
            total += kind == Kind.SOFTMAX ? g[i] * y[i] : g[i];
        }
        for (int i = at; i < at + n; i++) {
            dx[i] = kind == Kind.SOFTMAX ? y[i] * (g[i] - total) : g[i] - Math.exp(y[i]) * total;
        }
    }

    // ------------------------------------------------------------------ float32: one algorithm, two loops

    /**
     * One float32 row of the forward ({@code y} may be {@code x} for SOFTMAX); returns the row's
     * logsumexp. The maximum, the exponentials and their sum come from the families that own them;
     * the last step scales by {@code 1/sum} or subtracts lse.
     */
    static double row(Kind kind, float[] x, int at, int n, float[] y, boolean vector) {
        return row(kind, x, at, n, y, vector, vector ? VectorLanes.scratch() : null);
    }

    /** {@link #row(Kind, float[], int, int, float[], boolean)} with this thread's vector lanes scratch (vector loops only). */
    private static double row(Kind kind, float[] x, int at, int n, float[] y, boolean vector, float[] lanes) {
        float max = (float) Reductions.fold(Reductions.Fold.MAX, x, at, n, vector);
        double sum = vector ? Exp.Vector.expShifted(x, at, n, max, y, lanes) : Exp.plain(x, at, n, max, y);
        double lse = max + Math.log(sum);
        if (kind == Kind.SOFTMAX) {
            scale(y, at, n, (float) (1.0 / sum), vector);
        } else if (vector) {
            Vector.shift(x, at, n, (float) lse, y);
        } else {
            float shift = (float) lse;
            for (int i = at; i < at + n; i++) {
                y[i] = x[i] - shift;
            }
        }
        return lse;
    }

    /** One float32 row of the backward: the total, then one elementwise step. */
    static void rowBackward(Kind kind, float[] y, float[] g, int at, int n, float[] dx, boolean vector) {
        if (kind == Kind.SOFTMAX) {
            float total = (float) Reductions.dot(g, at, y, at, n, vector);
            if (vector) {
                Vector.softmaxGradient(y, g, at, n, total, dx);
            } else {
                for (int i = at; i < at + n; i++) {
                    dx[i] = y[i] * (g[i] - total);
                }
            }
        } else {
            float total = (float) Reductions.fold(Reductions.Fold.SUM, g, at, n, vector);
            if (vector) {
                Exp.Vector.expShifted(y, at, n, 0f, dx);
                Vector.logSoftmaxGradient(g, at, n, total, dx);
            } else {
                Exp.plain(y, at, n, 0f, dx);
                for (int i = at; i < at + n; i++) {
                    dx[i] = g[i] - dx[i] * total;
                }
            }
        }
    }

    /** {@code y[i] *= factor} over the row. */
    static void scale(float[] y, int at, int n, float factor, boolean vector) {
        if (vector) {
            Vector.scale(y, at, n, factor);
            return;
        }
        for (int i = at; i < at + n; i++) {
            y[i] *= factor;
        }
    }

    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        static void scale(float[] y, int at, int n, float factor) {
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
        static void shift(float[] x, int at, int n, float c, float[] y) {
            FloatVector s = FloatVector.broadcast(F, c);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, x, at + i).sub(s).intoArray(y, at + i);
            }
            for (; i < n; i++) {
                y[at + i] = x[at + i] - c;
            }
        }

        /** {@code dx = y (g - total)}. */
        static void softmaxGradient(float[] y, float[] g, int at, int n, float total, float[] dx) {
            FloatVector t = FloatVector.broadcast(F, total);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, y, at + i).mul(FloatVector.fromArray(F, g, at + i).sub(t)).intoArray(dx, at + i);
            }
            for (; i < n; i++) {
                dx[at + i] = y[at + i] * (g[at + i] - total);
            }
        }

        /** {@code dx = g - dx total}, dx holding e^y. */
        static void logSoftmaxGradient(float[] g, int at, int n, float total, float[] dx) {
            FloatVector t = FloatVector.broadcast(F, total);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, g, at + i).sub(FloatVector.fromArray(F, dx, at + i).mul(t)).intoArray(dx, at + i);
            }
            for (; i < n; i++) {
                dx[at + i] = g[at + i] - dx[at + i] * total;
            }
        }
    }
}
