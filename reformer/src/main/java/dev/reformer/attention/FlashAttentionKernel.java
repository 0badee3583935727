package dev.reformer.attention;

import dev.reformer.tensor.ScratchArrays;
import dev.reformer.tensor.kernels.Exp;
import dev.reformer.tensor.kernels.Gemm;
import dev.reformer.tensor.kernels.Kernels;
import dev.reformer.tensor.kernels.Parallel;
import dev.reformer.tensor.kernels.Reductions;
import java.nio.FloatBuffer;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Full attention in float32 without an L x L matrix (flash attention's tiling, Dao et al. 2022):
 * the same contract as {@link ChunkedAttentionSpec} with one chunk of the whole sequence and no
 * neighbours, so memory grows with L, not L^2.
 *
 * <p>Forward, per block of {@link #QUERY_BLOCK} queries (one work item): walk the keys in blocks
 * of {@link #KEY_BLOCK}, {@code S = scale Q K^T} with the masks from positions, and keep per query
 * a running maximum m, a running sum l of {@code e^(S - m)} and the running output
 * {@code acc = sum e^(S - m) v}, rescaled by {@code e^(m_old - m_new)} whenever m grows. At the end
 * {@code out = acc / l} (each softmax normalised by its own sum) and {@code lse = m + log l}.
 * Causal key blocks that lie wholly after every query of the block hold only forbidden logits,
 * whose weights are exactly 0, and are skipped, unless a query of the block saw nothing but
 * forbidden keys, in which case, as in the composition, its softmax spreads over all of them.
 *
 * <p>Backward, per (row, segment of key blocks; rows split into segments only when there are
 * fewer than {@link #KEY_SEGMENTS}): recompute S, {@code P = e^(S - m - log l)},
 * {@code dV += P^T dO}, {@code dP = dO V^T}, {@code dS = P (dP - dO.O)} (zero where masked),
 * {@code dK += scale dS^T Q}, {@code dQ += scale dS K}. A segment owns its keys' gradients; each
 * segment adds its query gradients into a buffer of its own, and the buffers are summed in
 * segment order, so the results do not depend on the number of threads.
 */
final class FlashAttentionKernel {
    static final int QUERY_BLOCK = 64;
    static final int KEY_BLOCK = 128;
    /** Key segments in the backward over all rows, each with its own query-gradient buffer (see {@link #backward}). */
    static final int KEY_SEGMENTS = 8;

    private FlashAttentionKernel() {
    }

    /** Per query: the maximum logit (float, as the logits) and the log of its softmax's sum (double). */
    record Stats(float[] max, double[] logSum) {
        double lse(int i) {
            return max[i] + logSum[i];
        }
    }

    /**
     * Keys (row-major, and transposed by key block, normalised for shared QK) and values transposed
     * by key block, of every row. A transposed block is (D, cols) contiguous, where cols is the
     * block's width, so a tile's product reads one compact panel, not D rows strided by L.
     */
    private record Operands(float[] keys, float[] keysT, float[] valuesT) {
        void giveBack() {
            ScratchArrays.give(keys);
            ScratchArrays.give(keysT);
            ScratchArrays.give(valuesT);
        }
    }

    /** Writes {@code out} (N, L, D) and returns the per-query statistics the backward needs. */
    static Stats forward(ChunkedAttentionProblem pb, FloatBuffer q, FloatBuffer k, FloatBuffer v, FloatBuffer out) {
        int rows = pb.rows();
        int length = pb.length();
        int d = pb.dim();
        Operands ops = operands(pb, q, k, null);
        float[] values = ScratchArrays.floats(rows * length * d);
        v.get(0, values);
        float[] max = new float[rows * length];
        double[] logSum = new double[rows * length];
        int queryBlocks = (length + QUERY_BLOCK - 1) / QUERY_BLOCK;
        Parallel.forEach(rows * queryBlocks, () -> new Tile(pb), (tile, task) -> {
            int row = task / queryBlocks;
            int i0 = (task % queryBlocks) * QUERY_BLOCK;
            int rowsHere = Math.min(QUERY_BLOCK, length - i0);
            tile.loadQueries(q, row, i0, rowsHere);
            float[] m = tile.m;
            double[] l = tile.l;
            Arrays.fill(m, 0, rowsHere, Float.NEGATIVE_INFINITY);
            Arrays.fill(l, 0, rowsHere, 0);
            Arrays.fill(tile.acc, 0, rowsHere * d, 0f);
            int keyBlocks = (length + KEY_BLOCK - 1) / KEY_BLOCK;
            boolean[] visited = tile.visited;
            Arrays.fill(visited, 0, keyBlocks, false);
            for (int pass = 0; pass < 2; pass++) {
                for (int kb = 0; kb < keyBlocks; kb++) {
                    if (visited[kb] || (pass == 0 && tile.allForbiddenByCausality(kb * KEY_BLOCK, i0 + rowsHere - 1))) {
                        continue;
                    }
                    visited[kb] = true;
                    int j0 = kb * KEY_BLOCK;
                    int cols = Math.min(KEY_BLOCK, length - j0);
                    tile.logits(ops.keysT, row, i0, rowsHere, j0, cols);
                    for (int i = 0; i < rowsHere; i++) {
                        float blockMax = tile.rowMax(i, cols);
                        float newMax = Math.max(m[i], blockMax);
                        float correction = m[i] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(m[i] - newMax);
                        l[i] = l[i] * correction + tile.expRow(i, cols, newMax);
                        m[i] = newMax;
                        tile.scaleAcc(i, correction);
                    }
                    // acc += P V: (Q, K) x (K, D)
                    Gemm.gemm(rowsHere, d, cols, 1f, tile.s, 0, KEY_BLOCK, 1, values, (row * length + j0) * d, d,
                            tile.acc, 0, d, true);
                }
                if (pass == 0 && !tile.anyRowAllForbidden(rowsHere)) {
                    break;
                }
            }
            for (int i = 0; i < rowsHere; i++) {
                float inverse = (float) (1.0 / l[i]);
                for (int e = 0; e < d; e++) {
                    tile.acc[i * d + e] *= inverse;
                }
                max[row * length + i0 + i] = m[i];
                logSum[row * length + i0 + i] = Math.log(l[i]);
            }
            out.put((row * length + i0) * d, tile.acc, 0, rowsHere * d);
        });
        ops.giveBack();
        ScratchArrays.give(values);
        return new Stats(max, logSum);
    }

    /** Writes the gradients of q, k (separate keys only) and v, each (N, L, D). */
    static void backward(ChunkedAttentionProblem pb, FloatBuffer q, FloatBuffer k, FloatBuffer v, FloatBuffer out,
            FloatBuffer dOut, Stats stats, FloatBuffer dq, FloatBuffer dk, FloatBuffer dv) {
        int rows = pb.rows();
        int length = pb.length();
        int d = pb.dim();
        Operands ops = operands(pb, q, k, v);
        float[] queries = ScratchArrays.floats(rows * length * d);
        q.get(0, queries);
        float[] gradOut = ScratchArrays.floats(rows * length * d);
        dOut.get(0, gradOut);
        float[] delta = new float[rows * length]; // dO . O per query
        Parallel.forRange(rows * length, 256, (from, to) -> {
            float[] a = new float[d];
            float[] b = new float[d];
            for (int i = from; i < to; i++) {
                out.get(i * d, a, 0, d);
                dOut.get(i * d, b, 0, d);
                double sum = 0;
                for (int e = 0; e < d; e++) {
                    sum += (double) a[e] * b[e];
                }
                delta[i] = (float) sum;
            }
        });
        int keyBlocks = (length + KEY_BLOCK - 1) / KEY_BLOCK;
        // Rows are work items of their own; only few rows need their keys split to keep both cores
        // busy. At most KEY_SEGMENTS query-gradient buffers of (L, D) exist in all, and the count
        // follows from the shapes alone, so the sums' order does not depend on the threads.
        int segments = Math.max(1, Math.min(keyBlocks, KEY_SEGMENTS / rows));
        int queryBlocks = (length + QUERY_BLOCK - 1) / QUERY_BLOCK;
        float[][] queryGrads = new float[rows * segments][];
        float[] dKeys = ScratchArrays.zeroedFloats(rows * length * d);
        float[] dValues = ScratchArrays.zeroedFloats(rows * length * d);
        float scale = (float) pb.spec().scale();
        Parallel.forEach(rows * segments, () -> new Tile(pb), (tile, task) -> {
            int row = task / segments;
            int seg = task % segments;
            float[] dQ = ScratchArrays.zeroedFloats(length * d);
            for (int kb = keyBlocks * seg / segments; kb < keyBlocks * (seg + 1) / segments; kb++) {
                int j0 = kb * KEY_BLOCK;
                int cols = Math.min(KEY_BLOCK, length - j0);
                int keyAt = (row * length + j0) * d;
                for (int qb = 0; qb < queryBlocks; qb++) {
                    int i0 = qb * QUERY_BLOCK;
                    int rowsHere = Math.min(QUERY_BLOCK, length - i0);
                    if (tile.allForbiddenByCausality(j0, i0 + rowsHere - 1) && !anyAllForbidden(stats, row, length, i0, rowsHere)) {
                        continue; // every weight in this tile is exactly 0
                    }
                    int queryAt = (row * length + i0) * d;
                    tile.loadQueries(q, row, i0, rowsHere);
                    tile.logits(ops.keysT, row, i0, rowsHere, j0, cols);
                    tile.weightsFromStats(stats, row * length + i0, rowsHere, cols);
                    // dV += P^T dO: (K, Q) x (Q, D)
                    Gemm.gemm(cols, d, rowsHere, 1f, tile.s, 0, 1, KEY_BLOCK, gradOut, queryAt, d, dValues, keyAt, d, true);
                    // dP = dO V^T: (Q, D) x (D, K)
                    Gemm.gemm(rowsHere, cols, d, 1f, gradOut, queryAt, d, 1, ops.valuesT, keyAt, cols,
                            tile.ds, 0, KEY_BLOCK, false);
                    tile.logitGradients(delta, row * length + i0, rowsHere, cols);
                    // dK += scale dS^T Q: (K, Q) x (Q, D); dQ += scale dS K: (Q, K) x (K, D)
                    Gemm.gemm(cols, d, rowsHere, scale, tile.ds, 0, 1, KEY_BLOCK, queries, queryAt, d, dKeys, keyAt, d, true);
                    Gemm.gemm(rowsHere, d, cols, scale, tile.ds, 0, KEY_BLOCK, 1, ops.keys, keyAt, d, dQ, i0 * d, d, true);
                }
            }
            queryGrads[task] = dQ;
        });
        boolean shared = pb.spec().sharedQk();
        Parallel.forRange(rows * length, 64, (from, to) -> {
            float[] sq = new float[d];
            float[] sk = new float[d];
            for (int rt = from; rt < to; rt++) {
                int row = rt / length;
                int t = rt % length;
                Arrays.fill(sq, 0f);
                for (int seg = 0; seg < segments; seg++) {
                    float[] part = queryGrads[row * segments + seg];
                    for (int e = 0; e < d; e++) {
                        sq[e] += part[t * d + e];
                    }
                }
                if (shared) {
                    System.arraycopy(dKeys, rt * d, sk, 0, d);
                    KeyNormalization.addBackward(queries, rt * d, sk, sq, d);
                } else {
                    dk.put(rt * d, dKeys, rt * d, d);
                }
                dq.put(rt * d, sq, 0, d);
            }
        });
        dv.put(0, dValues);
        ops.giveBack();
        for (float[] a : new float[][] {queries, gradOut, dKeys, dValues}) {
            ScratchArrays.give(a);
        }
        for (float[] part : queryGrads) {
            ScratchArrays.give(part);
        }
    }

    private static boolean anyAllForbidden(Stats stats, int row, int length, int i0, int n) {
        for (int i = 0; i < n; i++) {
            if (stats.max[row * length + i0 + i] <= (float) ChunkedAttentionProblem.FORBIDDEN) {
                return true;
            }
        }
        return false;
    }

    /** Keys of every row, row-major and transposed (D, L) per row, normalised for shared QK; values transposed when given. */
    private static Operands operands(ChunkedAttentionProblem pb, FloatBuffer q, FloatBuffer k, FloatBuffer v) {
        int rows = pb.rows();
        int length = pb.length();
        int d = pb.dim();
        float[] keys = ScratchArrays.floats(rows * length * d);
        (k == null ? q : k).get(0, keys);
        float[] keysT = ScratchArrays.floats(keys.length);
        float[] valuesT = v == null ? null : ScratchArrays.floats(keys.length);
        float[] values = v == null ? null : ScratchArrays.floats(keys.length);
        if (v != null) {
            v.get(0, values);
        }
        Parallel.forRange(rows, 1, (from, to) -> {
            for (int row = from; row < to; row++) {
                int base = row * length * d;
                if (k == null) {
                    for (int t = 0; t < length; t++) {
                        KeyNormalization.normalize(keys, base + t * d, d);
                    }
                }
                transpose(keys, keysT, base, length, d);
                if (values != null) {
                    transpose(values, valuesT, base, length, d);
                }
            }
        });
        ScratchArrays.give(values);
        return new Operands(keys, keysT, valuesT);
    }

    /** One row's (L, D) block transposed key block by key block: block kb is (D, cols) at {@code base + kb*KEY_BLOCK*D}. */
    private static void transpose(float[] from, float[] to, int base, int length, int d) {
        for (int j0 = 0; j0 < length; j0 += KEY_BLOCK) {
            int cols = Math.min(KEY_BLOCK, length - j0);
            int block = base + j0 * d;
            for (int j = 0; j < cols; j++) {
                for (int e = 0; e < d; e++) {
                    to[block + e * cols + j] = from[block + j * d + e];
                }
            }
        }
    }

    /** One block of queries against one block of keys, and the running statistics of the forward. */
    private static final class Tile {
        final ChunkedAttentionProblem pb;
        final PositionMasks masks;
        final int d;
        final int[] keyPositions = new int[KEY_BLOCK];
        final int[] blocked = new int[KEY_BLOCK];
        final float[] s = new float[QUERY_BLOCK * KEY_BLOCK];   // logits, then weights
        final float[] ds = new float[QUERY_BLOCK * KEY_BLOCK];  // dP, then dS
        final int[] masked = new int[QUERY_BLOCK * KEY_BLOCK];
        final float[] m = new float[QUERY_BLOCK];
        final double[] l = new double[QUERY_BLOCK];
        final float[] acc;
        final boolean[] visited;
        private final float[] queryRows;

        Tile(ChunkedAttentionProblem pb) {
            this.pb = pb;
            this.masks = new PositionMasks(pb);
            this.d = pb.dim();
            this.acc = new float[QUERY_BLOCK * d];
            this.queryRows = new float[QUERY_BLOCK * d];
            this.visited = new boolean[(pb.length() + KEY_BLOCK - 1) / KEY_BLOCK];
        }

        void loadQueries(FloatBuffer q, int row, int i0, int n) {
            q.get((row * pb.length() + i0) * d, queryRows, 0, n * d);
        }

        /** Causal only: whether every key from {@code firstKey} on comes after the last query. */
        boolean allForbiddenByCausality(int firstKey, int lastQuery) {
            return pb.spec().causal() && firstKey > lastQuery;
        }

        boolean anyRowAllForbidden(int n) {
            for (int i = 0; i < n; i++) {
                if (m[i] <= (float) ChunkedAttentionProblem.FORBIDDEN) {
                    return true;
                }
            }
            return false;
        }

        /** {@code S = scale Q K^T} for queries i0.. and keys j0.., then the masks from positions. */
        void logits(float[] keysT, int row, int i0, int n, int j0, int cols) {
            int length = pb.length();
            Gemm.gemm(n, cols, d, (float) pb.spec().scale(), queryRows, 0, d, 1, keysT, (row * length + j0) * d, cols,
                    s, 0, KEY_BLOCK, false);
            for (int j = 0; j < cols; j++) {
                keyPositions[j] = j0 + j;
                blocked[j] = pb.padded(row, j0 + j) ? 1 : 0;
            }
            for (int i = 0; i < n; i++) {
                masks.apply(s, masked, i * KEY_BLOCK, cols, i0 + i, keyPositions, blocked, 0);
            }
        }

        float rowMax(int i, int cols) {
            return Reductions.max(s, i * KEY_BLOCK, cols);
        }

        /** {@code s = e^(s - max)} over row i in place; returns the row's sum (in double). */
        double expRow(int i, int cols, float max) {
            return Exp.expShifted(s, i * KEY_BLOCK, cols, max, s);
        }

        void scaleAcc(int i, float factor) {
            if (factor == 1f) {
                return;
            }
            for (int e = 0; e < d; e++) {
                acc[i * d + e] *= factor;
            }
        }

        /** {@code P = e^((S - max) - log sum)} from the forward's statistics, row by row, in place. */
        void weightsFromStats(Stats stats, int first, int n, int cols) {
            for (int i = 0; i < n; i++) {
                int at = i * KEY_BLOCK;
                float max = stats.max[first + i];
                for (int j = at; j < at + cols; j++) {
                    s[j] -= max;
                }
                Exp.expShifted(s, at, cols, (float) stats.logSum[first + i], s);
            }
        }

        /** {@code dS = P (dP - dO.O)} in place over dP, zero where the logit was masked. */
        void logitGradients(float[] delta, int first, int n, int cols) {
            for (int i = 0; i < n; i++) {
                int at = i * KEY_BLOCK;
                if (Kernels.vector()) {
                    Vector.logitGradientRow(s, ds, masked, at, cols, -delta[first + i]);
                    continue;
                }
                for (int j = at; j < at + cols; j++) {
                    ds[j] = masked[j] == 0 ? s[j] * (ds[j] - delta[first + i]) : 0f;
                }
            }
        }
    }

    /** The vector form of this kernel's own row step. */
    private static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // as many lanes as F

        private Vector() {
        }

        /** {@code ds = p (ds + shift)} over {@code [at, at + cols)}, zero where the logit was masked. */
        static void logitGradientRow(float[] p, float[] ds, int[] masked, int at, int cols, float shift) {
            FloatVector sh = FloatVector.broadcast(F, shift);
            int j = 0;
            for (; j < F.loopBound(cols); j += F.length()) {
                FloatVector.fromArray(F, p, at + j).mul(FloatVector.fromArray(F, ds, at + j).add(sh)).viewAsIntegralLanes()
                        .blend(0, IntVector.fromArray(I, masked, at + j).compare(VectorOperators.NE, 0)).viewAsFloatingLanes()
                        .intoArray(ds, at + j);
            }
            for (; j < cols; j++) {
                ds[at + j] = masked[at + j] == 0 ? p[at + j] * (ds[at + j] + shift) : 0f;
            }
        }
    }
}
