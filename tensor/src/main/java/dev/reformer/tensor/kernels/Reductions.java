package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums and maxima over axes, on a dense tensor seen as {@code (outer, reduced, inner)}: rows
 * ({@code inner = 1}, a reduction over the last axes) fold each row to one value; columns
 * ({@code inner > 1}) fold {@code reduced} rows of {@code inner} values elementwise.
 *
 * <p>Sums are added in an order fixed by the shapes alone: a row longer than {@link #BLOCK} is
 * summed in blocks whose partial sums are then added in order, and columns are summed in runs of
 * {@link #RUN} rows, the runs then added in order. So the result does not depend on the number of
 * threads.
 *
 * <pre>{@code
 * Reductions.reduce(Reductions.Fold.SUM, x, rows, n, 1, out);   // (rows, n) -> (rows): sum of each row
 * }</pre>
 */
public final class Reductions {
    /** Elements per block of a long row. */
    static final int BLOCK = 1 << 15;
    /** Rows per run of a column reduction. */
    static final int RUN = 256;

    private Reductions() {
    }

    /** What a reduction folds with. */
    public enum Fold { SUM, MAX }

    /** {@code out[o, i] = fold over r of x[o, r, i]}; x dense, out dense {@code (outer, inner)}, one floating dtype. */
    public static void reduce(Fold fold, Tensor x, long outer, long reduced, long inner, Tensor out) {
        if (inner > 1) {
            columns(fold, x, outer, Math.toIntExact(reduced), Math.toIntExact(inner), out);
        } else if (reduced <= BLOCK) {
            int n = (int) reduced;
            Pass.over(outer, n).rows(x).perRowOut(out).run(g -> {
                for (int r = 0; r < g.rows; r++) {
                    if (g.vector) {
                        g.f(1)[r] = (float) Vector.fold(fold, g.f(0), r * n, n);
                    } else {
                        g.d(1)[r] = fold(fold, g.d(0), r * n, n);
                    }
                }
            });
        } else {
            longRows(fold, x, Math.toIntExact(outer), Math.toIntExact(reduced), out);
        }
    }

    /** Rows longer than a block: each block folded on its own, then the blocks' results in order. */
    private static void longRows(Fold fold, Tensor x, int rows, int n, Tensor out) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        double[] partial = new double[rows * blocks];
        Memory in = Memory.of(x);
        boolean vector = in.isFloat() && Kernels.vector();
        Parallel.forRange(rows * blocks, 1, (from, to) -> {
            float[] f = vector ? new float[BLOCK] : null;
            double[] d = vector ? null : new double[BLOCK];
            float[] staging = in.isFloat() && !vector ? new float[BLOCK] : null;
            for (int item = from; item < to; item++) {
                int start = (item % blocks) * BLOCK;
                int length = Math.min(BLOCK, n - start);
                long at = (long) (item / blocks) * n + start;
                if (vector) {
                    in.get(at, f, 0, length);
                    partial[item] = Vector.fold(fold, f, 0, length);
                } else {
                    in.get(at, d, 0, length, staging);
                    partial[item] = fold(fold, d, 0, length);
                }
            }
        });
        double[] result = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = partial[r * blocks];
            for (int b = 1; b < blocks; b++) {
                acc = fold == Fold.SUM ? acc + partial[r * blocks + b] : Math.max(acc, partial[r * blocks + b]);
            }
            result[r] = acc;
        }
        Memory.writable(out).put(0, result, 0, rows, new float[rows]);
    }

    /**
     * Columns: per outer index, runs of {@link #RUN} rows folded elementwise into a partial row,
     * {@link Pass#GROUP} columns at a time (both cores share the runs), then the runs in order.
     */
    private static void columns(Fold fold, Tensor x, long outer, int reduced, int inner, Tensor out) {
        int width = Math.min(inner, Pass.GROUP);
        int columnBlocks = (inner + width - 1) / width;
        int runs = (reduced + RUN - 1) / RUN;
        int items = Math.toIntExact(outer * columnBlocks * runs);
        Memory in = Memory.of(x);
        boolean vector = in.isFloat() && Kernels.vector();
        float[][] floatParts = vector ? new float[items][] : null;
        double[][] doubleParts = vector ? null : new double[items][];
        Parallel.forRange(items, 1, (from, to) -> {
            float[] row = vector ? new float[width] : null;
            double[] rowD = vector ? null : new double[width];
            float[] staging = in.isFloat() && !vector ? new float[width] : null;
            for (int item = from; item < to; item++) {
                int run = item % runs;
                int block = (item / runs) % columnBlocks;
                long o = item / runs / columnBlocks;
                int c0 = block * width;
                int w = Math.min(width, inner - c0);
                long base = o * reduced * inner + c0;
                int r0 = run * RUN;
                int r1 = Math.min(reduced, r0 + RUN);
                if (vector) {
                    float[] acc = new float[w];
                    in.get(base + (long) r0 * inner, acc, 0, w);
                    for (int r = r0 + 1; r < r1; r++) {
                        in.get(base + (long) r * inner, row, 0, w);
                        Vector.foldInto(fold, acc, row, w);
                    }
                    floatParts[item] = acc;
                } else {
                    double[] acc = new double[w];
                    in.get(base + (long) r0 * inner, acc, 0, w, staging);
                    for (int r = r0 + 1; r < r1; r++) {
                        in.get(base + (long) r * inner, rowD, 0, w, staging);
                        foldInto(fold, acc, rowD, w);
                    }
                    doubleParts[item] = acc;
                }
            }
        });
        Memory result = Memory.writable(out);
        float[] staging = new float[width];
        for (int item = 0; item < items; item += runs) {
            int block = (item / runs) % columnBlocks;
            long o = item / runs / columnBlocks;
            int w = Math.min(width, inner - block * width);
            long at = o * inner + (long) block * width;
            if (vector) {
                for (int run = 1; run < runs; run++) {
                    Vector.foldInto(fold, floatParts[item], floatParts[item + run], w);
                }
                result.put(at, floatParts[item], 0, w);
            } else {
                for (int run = 1; run < runs; run++) {
                    foldInto(fold, doubleParts[item], doubleParts[item + run], w);
                }
                result.put(at, doubleParts[item], 0, w, staging);
            }
        }
    }

    /** The largest of {@code x[at .. at + n)}, for kernels that keep their values in float arrays. */
    public static float max(float[] x, int at, int n) {
        if (Kernels.vector()) {
            return (float) Vector.fold(Fold.MAX, x, at, n);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = at; i < at + n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    // ------------------------------------------------------------------ scalar loops

    /** The sum or maximum of {@code x[at .. at + n)}. */
    static double fold(Fold fold, double[] x, int at, int n) {
        double acc = fold == Fold.SUM ? 0 : Double.NEGATIVE_INFINITY;
        if (fold == Fold.SUM) {
            for (int i = at; i < at + n; i++) {
                acc += x[i];
            }
        } else {
            for (int i = at; i < at + n; i++) {
                acc = Math.max(acc, x[i]);
            }
        }
        return acc;
    }

    /** {@code acc[i] = fold(acc[i], x[i])} for {@code i < n}. */
    static void foldInto(Fold fold, double[] acc, double[] x, int n) {
        if (fold == Fold.SUM) {
            for (int i = 0; i < n; i++) {
                acc[i] += x[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                acc[i] = Math.max(acc[i], x[i]);
            }
        }
    }

    // ------------------------------------------------------------------ vector kernels (float32)

    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        /** The sum (lanes added, then the tail) or maximum of {@code x[at .. at + n)}. */
        static double fold(Fold fold, float[] x, int at, int n) {
            int i = 0;
            float result;
            if (fold == Fold.SUM) {
                FloatVector acc = FloatVector.zero(F);
                for (; i < F.loopBound(n); i += F.length()) {
                    acc = acc.add(FloatVector.fromArray(F, x, at + i));
                }
                result = acc.reduceLanes(VectorOperators.ADD);
                for (; i < n; i++) {
                    result += x[at + i];
                }
            } else {
                FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
                for (; i < F.loopBound(n); i += F.length()) {
                    acc = acc.max(FloatVector.fromArray(F, x, at + i));
                }
                result = acc.reduceLanes(VectorOperators.MAX);
                for (; i < n; i++) {
                    result = Math.max(result, x[at + i]);
                }
            }
            return result;
        }

        static void foldInto(Fold fold, float[] acc, float[] x, int n) {
            int i = 0;
            if (fold == Fold.SUM) {
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, x, i)).intoArray(acc, i);
                }
                for (; i < n; i++) {
                    acc[i] += x[i];
                }
            } else {
                for (; i < F.loopBound(n); i += F.length()) {
                    FloatVector.fromArray(F, acc, i).max(FloatVector.fromArray(F, x, i)).intoArray(acc, i);
                }
                for (; i < n; i++) {
                    acc[i] = Math.max(acc[i], x[i]);
                }
            }
        }
    }
}
