package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax, log-softmax and logsumexp over the last axis, forward and backward, one row at a time:
 * each row is read a few times from the cache and written once, where the same ops composed of
 * primitives write a whole tensor per step. The formulas:
 * <ul>
 *   <li>softmax: {@code y = e^(x - m) / sum e^(x - m)}, m the row's maximum; backward
 *       {@code dx = y (g - sum(g y))}</li>
 *   <li>log-softmax: {@code y = x - m - log sum e^(x - m)}; backward {@code dx = g - e^y sum(g)}</li>
 *   <li>logsumexp: {@code lse = m + log sum e^(x - m)}; backward {@code dx = g e^(x - lse)}</li>
 * </ul>
 * Each softmax is normalised by its own sum, not as {@code e^(x - lse)}: that loses digits when
 * the logits are large (lse sits near -1e9 for a row of forbidden keys). The compositions of
 * primitives in {@code Functional} ({@code softmaxComposed}, ...) are the reference these are
 * tested against.
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
            for (int at = 0; at < g.elements(); at += n) {
                if (g.vector) {
                    Vector.row(kind, g.f(0), at, n, g.f(1));
                } else {
                    row(kind, g.d(0), at, n, g.d(1));
                }
            }
        });
    }

    /** One value per row of x: {@code m + log sum e^(x - m)}. */
    public static void logsumexp(Tensor x, Tensor out, int n) {
        Pass.over(x.numel() / n, n).rows(x).perRowOut(out).run(g -> {
            float[] scratch = g.vector ? g.floatScratch(g.elements()) : null;
            for (int r = 0; r < g.rows; r++) {
                if (g.vector) {
                    g.f(1)[r] = (float) Vector.logsumexp(g.f(0), r * n, n, scratch);
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
                if (p.vector) {
                    Vector.rowBackward(kind, p.f(0), p.f(1), at, n, p.f(2));
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
                if (p.vector) {
                    Exp.Vector.expShifted(p.f(0), r * n, n, p.f(1)[r], p.f(3));
                    Vector.scale(p.f(3), r * n, n, p.f(2)[r]);
                } else {
                    Exp.expShifted(p.d(0), r * n, n, p.d(1)[r], p.d(3));
                    for (int i = r * n; i < r * n + n; i++) {
                        p.d(3)[i] *= p.d(2)[r];
                    }
                }
            }
        });
    }

    /**
     * The softmax of {@code x[at .. at + n)} in place, for kernels that keep their values in float
     * arrays (the fused attention kernels); returns the row's logsumexp, {@code m + log sum}.
     */
    public static double inPlace(float[] x, int at, int n) {
        if (Kernels.vector()) {
            return Vector.row(Kind.SOFTMAX, x, at, n, x);
        }
        double[] row = SCRATCH.get().length >= n ? SCRATCH.get() : new double[n];
        SCRATCH.set(row);
        for (int i = 0; i < n; i++) {
            row[i] = x[at + i];
        }
        double lse = row(Kind.SOFTMAX, row, 0, n, row);
        for (int i = 0; i < n; i++) {
            x[at + i] = (float) row[i];
        }
        return lse;
    }

    private static final ThreadLocal<double[]> SCRATCH = ThreadLocal.withInitial(() -> new double[0]);

    // ------------------------------------------------------------------ scalar loops

    /** One row of the forward ({@code y} may be {@code x} for SOFTMAX); returns the row's logsumexp. */
    static double row(Kind kind, double[] x, int at, int n, double[] y) {
        double max = Reductions.fold(Reductions.Fold.MAX, x, at, n);
        double sum = Exp.expShifted(x, at, n, max, y);
        double lse = max + Math.log(sum);
        if (kind == Kind.SOFTMAX) {
            double inverse = 1.0 / sum;
            for (int i = at; i < at + n; i++) {
                y[i] *= inverse;
            }
        } else {
            for (int i = at; i < at + n; i++) {
                y[i] = x[i] - lse;
            }
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
        if (kind == Kind.SOFTMAX) {
            for (int i = at; i < at + n; i++) {
                total += g[i] * y[i];
            }
            for (int i = at; i < at + n; i++) {
                dx[i] = y[i] * (g[i] - total);
            }
        } else {
            for (int i = at; i < at + n; i++) {
                total += g[i];
            }
            for (int i = at; i < at + n; i++) {
                dx[i] = g[i] - Math.exp(y[i]) * total;
            }
        }
    }

    // ------------------------------------------------------------------ vector kernels (float32)

    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        /** One row of the forward ({@code y} may be {@code x} for SOFTMAX); returns the row's logsumexp. */
        static double row(Kind kind, float[] x, int at, int n, float[] y) {
            float max = (float) Reductions.Vector.fold(Reductions.Fold.MAX, x, at, n);
            double total = Exp.Vector.expShifted(x, at, n, max, y);
            double lse = max + Math.log(total);
            if (kind == Kind.SOFTMAX) {
                scale(y, at, n, (float) (1.0 / total));
            } else {
                FloatVector shift = FloatVector.broadcast(F, (float) lse);
                int i = 0;
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromArray(F, x, at + i).sub(shift).intoArray(y, at + i);
                }
                for (; i < n; i++) {
                    y[at + i] = x[at + i] - shift.lane(0);
                }
            }
            return lse;
        }

        /** The row's logsumexp; the e^(x - m) go to {@code scratch} at the row's place. */
        static double logsumexp(float[] x, int at, int n, float[] scratch) {
            float max = (float) Reductions.Vector.fold(Reductions.Fold.MAX, x, at, n);
            return max + Math.log(Exp.Vector.expShifted(x, at, n, max, scratch));
        }

        static void rowBackward(Kind kind, float[] y, float[] g, int at, int n, float[] dx) {
            int i = 0;
            if (kind == Kind.SOFTMAX) {
                FloatVector acc = FloatVector.zero(F);
                for (; i < F.loopBound(n); i += F.length()) {
                    acc = FloatVector.fromArray(F, g, at + i).fma(FloatVector.fromArray(F, y, at + i), acc);
                }
                double dot = acc.reduceLanes(VectorOperators.ADD);
                for (; i < n; i++) {
                    dot += g[at + i] * y[at + i];
                }
                FloatVector t = FloatVector.broadcast(F, (float) dot);
                for (i = 0; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromArray(F, y, at + i).mul(FloatVector.fromArray(F, g, at + i).sub(t)).intoArray(dx, at + i);
                }
                for (; i < n; i++) {
                    dx[at + i] = y[at + i] * (g[at + i] - t.lane(0));
                }
            } else {
                FloatVector t = FloatVector.broadcast(F, (float) Reductions.Vector.fold(Reductions.Fold.SUM, g, at, n));
                Exp.Vector.expShifted(y, at, n, 0f, dx);
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromArray(F, g, at + i).sub(FloatVector.fromArray(F, dx, at + i).mul(t)).intoArray(dx, at + i);
                }
                for (; i < n; i++) {
                    dx[at + i] = g[at + i] - dx[at + i] * t.lane(0);
                }
            }
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
    }
}
