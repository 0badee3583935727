package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums and maxima over axes, on a dense tensor seen as {@code (outer, reduced, inner)}: rows
 * ({@code inner = 1}, a reduction over the last axes) fold each row to one value; columns
 * ({@code inner > 1}) fold {@code reduced} rows of {@code inner} values elementwise. Also the row
 * folds other kernels build on: {@link #sum}, {@link #max}, {@link #dot} over float arrays.
 *
 * <p>Float64 adds one value at a time (the reference). Float32 sums runs of {@link #SUM_RUN}
 * elements in float, keeping running sums (the vector kernel one per lane, the plain loop
 * {@link #LANES} scalars, which the CPU adds in parallel), and adds the runs' sums in double: long
 * rows then lose no more than a short one does.
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
    /** Running sums of the plain float loops. */
    static final int LANES = 8;
    /** Elements a float32 sum adds in float before adding the result in double. */
    static final int SUM_RUN = 256;

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
                    if (g.isFloat) {
                        g.f(1)[r] = (float) fold(fold, g.f(0), r * n, n, g.vector);
                    } else {
                        g.d(1)[r] = fold(fold, g.d(0), r * n, n);
                    }
                }
            });
        } else {
            longRows(fold, x, outer, Math.toIntExact(reduced), out);
        }
    }

    /**
     * Rows longer than a block: the pass runs over the blocks, each folded on its own (the last
     * block of a row shorter), then each row's blocks are folded in order.
     */
    private static void longRows(Fold fold, Tensor x, long rows, int n, Tensor out) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        double[] partial = new double[Math.toIntExact(rows * blocks)];
        Memory in = Memory.of(x);
        boolean vector = in.isFloat() && Kernels.vector();
        Parallel.forRange(partial.length, 1, (from, to) -> {
            float[] f = in.isFloat() ? new float[BLOCK] : null;
            double[] d = in.isFloat() ? null : new double[BLOCK];
            for (int item = from; item < to; item++) {
                int start = (item % blocks) * BLOCK;
                int length = Math.min(BLOCK, n - start);
                long at = (long) (item / blocks) * n + start;
                if (in.isFloat()) {
                    in.get(at, f, 0, length);
                    partial[item] = fold(fold, f, 0, length, vector);
                } else {
                    in.get(at, d, 0, length);
                    partial[item] = fold(fold, d, 0, length);
                }
            }
        });
        Memory result = Memory.writable(out);
        for (long r = 0; r < rows; r++) {
            double acc = partial[(int) (r * blocks)];
            for (int b = 1; b < blocks; b++) {
                double p = partial[(int) (r * blocks + b)];
                acc = fold == Fold.SUM ? acc + p : Math.max(acc, p);
            }
            if (in.isFloat()) {
                result.put(r, new float[] {(float) acc}, 0, 1);
            } else {
                result.put(r, new double[] {acc}, 0, 1);
            }
        }
    }

    /**
     * Columns: per outer index, runs of {@link #RUN} rows folded elementwise into a partial row,
     * {@link Pass#GROUP} columns at a time (the threads share the runs), then the runs in order.
     */
    private static void columns(Fold fold, Tensor x, long outer, int reduced, int inner, Tensor out) {
        int width = Math.min(inner, Pass.GROUP);
        int columnBlocks = (inner + width - 1) / width;
        int runs = (reduced + RUN - 1) / RUN;
        int items = Math.toIntExact(outer * columnBlocks * runs);
        Memory in = Memory.of(x);
        boolean isFloat = in.isFloat();
        boolean vector = isFloat && Kernels.vector();
        Object[] parts = new Object[items];
        Parallel.forRange(items, 1, (from, to) -> {
            float[] row = isFloat ? new float[width] : null;
            double[] rowD = isFloat ? null : new double[width];
            for (int item = from; item < to; item++) {
                int run = item % runs;
                int block = (item / runs) % columnBlocks;
                long o = item / runs / columnBlocks;
                int c0 = block * width;
                int w = Math.min(width, inner - c0);
                long base = o * reduced * inner + c0;
                int r0 = run * RUN;
                int r1 = Math.min(reduced, r0 + RUN);
                if (isFloat) {
                    float[] acc = new float[w];
                    in.get(base + (long) r0 * inner, acc, 0, w);
                    for (int r = r0 + 1; r < r1; r++) {
                        in.get(base + (long) r * inner, row, 0, w);
                        foldInto(fold, acc, row, w, vector);
                    }
                    parts[item] = acc;
                } else {
                    double[] acc = new double[w];
                    in.get(base + (long) r0 * inner, acc, 0, w);
                    for (int r = r0 + 1; r < r1; r++) {
                        in.get(base + (long) r * inner, rowD, 0, w);
                        foldInto(fold, acc, rowD, w);
                    }
                    parts[item] = acc;
                }
            }
        });
        Memory result = Memory.writable(out);
        for (int item = 0; item < items; item += runs) {
            int block = (item / runs) % columnBlocks;
            long o = item / runs / columnBlocks;
            int w = Math.min(width, inner - block * width);
            long at = o * inner + (long) block * width;
            if (isFloat) {
                float[] acc = (float[]) parts[item];
                for (int run = 1; run < runs; run++) {
                    foldInto(fold, acc, (float[]) parts[item + run], w, vector);
                }
                result.put(at, acc, 0, w);
            } else {
                double[] acc = (double[]) parts[item];
                for (int run = 1; run < runs; run++) {
                    foldInto(fold, acc, (double[]) parts[item + run], w);
                }
                result.put(at, acc, 0, w);
            }
        }
    }

    // ------------------------------------------------------------------ row folds over float arrays

    /** The sum of {@code x[at .. at + n)}. */
    public static double sum(float[] x, int at, int n) {
        return fold(Fold.SUM, x, at, n, Kernels.vector());
    }

    /** The largest of {@code x[at .. at + n)}. */
    public static float max(float[] x, int at, int n) {
        return (float) fold(Fold.MAX, x, at, n, Kernels.vector());
    }

    /** {@code sum a[ai + i] b[bi + i]} for {@code i < n}. */
    public static double dot(float[] a, int ai, float[] b, int bi, int n) {
        return dot(a, ai, b, bi, n, Kernels.vector());
    }

    static double dot(float[] a, int ai, float[] b, int bi, int n, boolean vector) {
        double total = 0;
        for (int start = 0; start < n; start += SUM_RUN) {
            int len = Math.min(SUM_RUN, n - start);
            total += vector ? Vector.dot(a, ai + start, b, bi + start, len) : plainDot(a, ai + start, b, bi + start, len);
        }
        return total;
    }

    static double fold(Fold fold, float[] x, int at, int n, boolean vector) {
        if (fold == Fold.MAX) {
            return vector ? Vector.fold(fold, x, at, n) : plainMax(x, at, n);
        }
        double total = 0;
        for (int start = at; start < at + n; start += SUM_RUN) {
            int len = Math.min(SUM_RUN, at + n - start);
            total += vector ? Vector.fold(fold, x, start, len) : plainSum(x, start, len);
        }
        return total;
    }

    static void foldInto(Fold fold, float[] acc, float[] x, int n, boolean vector) {
        if (vector) {
            Vector.foldInto(fold, acc, x, n);
        } else if (fold == Fold.SUM) {
            for (int i = 0; i < n; i++) {
                acc[i] += x[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                acc[i] = Math.max(acc[i], x[i]);
            }
        }
    }

    // ------------------------------------------------------------------ float64: the reference

    /** The sum or maximum of {@code x[at .. at + n)}, one value at a time. */
    static double fold(Fold fold, double[] x, int at, int n) {
        double acc = fold == Fold.SUM ? 0 : Double.NEGATIVE_INFINITY;
        for (int i = at; i < at + n; i++) {
            acc = fold == Fold.SUM ? acc + x[i] : Math.max(acc, x[i]);
        }
        return acc;
    }

    /** {@code acc[i] = fold(acc[i], x[i])} for {@code i < n}. */
    static void foldInto(Fold fold, double[] acc, double[] x, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] = fold == Fold.SUM ? acc[i] + x[i] : Math.max(acc[i], x[i]);
        }
    }

    // ------------------------------------------------------------------ float32: plain loops

    /** One run's sum: eight running sums, then added, as the vector kernel's lanes on a 256-bit machine. */
    static double plainSum(float[] x, int at, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int i = at;
        for (; i + LANES <= at + n; i += LANES) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
            s4 += x[i + 4];
            s5 += x[i + 5];
            s6 += x[i + 6];
            s7 += x[i + 7];
        }
        float sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (; i < at + n; i++) {
            sum += x[i];
        }
        return sum;
    }

    static float plainMax(float[] x, int at, int n) {
        float m0 = Float.NEGATIVE_INFINITY;
        float m1 = m0;
        float m2 = m0;
        float m3 = m0;
        int i = at;
        for (; i + 4 <= at + n; i += 4) {
            m0 = Math.max(m0, x[i]);
            m1 = Math.max(m1, x[i + 1]);
            m2 = Math.max(m2, x[i + 2]);
            m3 = Math.max(m3, x[i + 3]);
        }
        float max = Math.max(Math.max(m0, m1), Math.max(m2, m3));
        for (; i < at + n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    static double plainDot(float[] a, int ai, float[] b, int bi, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 = Math.fma(a[ai + i], b[bi + i], s0);
            s1 = Math.fma(a[ai + i + 1], b[bi + i + 1], s1);
            s2 = Math.fma(a[ai + i + 2], b[bi + i + 2], s2);
            s3 = Math.fma(a[ai + i + 3], b[bi + i + 3], s3);
        }
        double sum = (s0 + s1) + (s2 + s3);
        for (; i < n; i++) {
            sum += a[ai + i] * b[bi + i];
        }
        return sum;
    }

    // ------------------------------------------------------------------ float32: vector kernels

    /**
     * The vector kernels, one method per loop and no op chosen inside one: the JIT compiles a
     * vector method once it is hot, and the vector calls of a branch its profile never saw taken are
     * left as calls into the library's slow Java fallback (measured: row maxima 8x slower in
     * three JVMs out of four when the sum and the maximum shared a method).
     */
    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        static double fold(Fold fold, float[] x, int at, int n) {
            return fold == Fold.SUM ? sum(x, at, n) : max(x, at, n);
        }

        /** The sum of {@code x[at .. at + n)}: lanes added in order, then the tail. */
        static float sum(float[] x, int at, int n) {
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                acc = acc.add(FloatVector.fromArray(F, x, at + i));
            }
            float[] lanes = VectorLanes.scratch();
            acc.intoArray(lanes, 0);
            float result = VectorLanes.sum(lanes, F.length());
            for (; i < n; i++) {
                result += x[at + i];
            }
            return result;
        }

        /** The largest of {@code x[at .. at + n)} (the order of a maximum changes nothing). */
        static float max(float[] x, int at, int n) {
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                acc = acc.max(FloatVector.fromArray(F, x, at + i));
            }
            float result = acc.reduceLanes(VectorOperators.MAX);
            for (; i < n; i++) {
                result = Math.max(result, x[at + i]);
            }
            return result;
        }

        static double dot(float[] a, int ai, float[] b, int bi, int n) {
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                acc = FloatVector.fromArray(F, a, ai + i).fma(FloatVector.fromArray(F, b, bi + i), acc);
            }
            float[] lanes = VectorLanes.scratch();
            acc.intoArray(lanes, 0);
            double sum = VectorLanes.sum(lanes, F.length());
            for (; i < n; i++) {
                sum += a[ai + i] * b[bi + i];
            }
            return sum;
        }

        static void foldInto(Fold fold, float[] acc, float[] x, int n) {
            if (fold == Fold.SUM) {
                addInto(acc, x, n);
            } else {
                maxInto(acc, x, n);
            }
        }

        static void addInto(float[] acc, float[] x, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, x, i)).intoArray(acc, i);
            }
            for (; i < n; i++) {
                acc[i] += x[i];
            }
        }

        static void maxInto(float[] acc, float[] x, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, acc, i).max(FloatVector.fromArray(F, x, i)).intoArray(acc, i);
            }
            for (; i < n; i++) {
                acc[i] = Math.max(acc[i], x[i]);
            }
        }
    }
}
