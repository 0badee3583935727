package dev.reformer.attention;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.ScratchArrays;
import dev.reformer.tensor.Tensor;
import dev.reformer.tensor.kernels.Gemm;
import dev.reformer.tensor.kernels.Kernels;
import dev.reformer.tensor.kernels.VectorLanes;
import dev.reformer.tensor.kernels.Parallel;
import dev.reformer.tensor.kernels.Softmax;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused chunked attention in float32, on both cores: the fast implementation of
 * {@link ChunkedAttentionSpec}'s contract, held equal to the plain
 * {@link ChunkedAttentionReference} and to the stage-by-stage composition by the tests. Its
 * matrix products and row steps are the kernel families' ({@link Gemm}, {@link Softmax}), which
 * run their vector kernels where the JDK's vector module is loaded and their plain loops
 * elsewhere; its own row steps likewise have a plain loop beside a {@code Vector} class.
 *
 * <p>Work is cut into segments of {@link #SEGMENT} consecutive chunks of one row. A segment
 * gathers, through the sorted order, the keys and values of its chunks and of the chunks its
 * windows reach beyond it (its halo) into small arrays, once: consecutive chunks' windows overlap,
 * and a window is then a run of columns of those arrays, never a concatenated copy. Keys of shared
 * QK are normalised once per call, each position's query to unit length, before any window reads them.
 *
 * <p>Forward, per chunk: {@code S = scale Q K^T} (C x W) with {@link Gemm}; the masked logits
 * overwritten from positions; per row {@code P = e^(S - max) / sum} and {@code lse = max + log sum}
 * (the sum in double); {@code O = P V}; O and lse written at the items' places.
 *
 * <p>Backward, per chunk: S and P recomputed exactly as the forward made them, then
 * {@code dP = dO V^T}, {@code dS = P (dP - dO.O + dlse)} (zero where masked), {@code dV += P^T dO},
 * {@code dK += scale dS^T Q}, {@code dQ = scale dS K}. Key and value gradients accumulate in the
 * segment's own buffers, halo included; a final pass adds, for every position, its K slots'
 * contributions from every segment, in a fixed order. No two threads write the same memory and
 * every sum runs in an order fixed by the shapes alone, so the results do not depend on the
 * number of threads.
 *
 * <p>Buffers are row-major: q, k, v and their gradients (N, L, D); per-item outputs and their
 * gradients (N, K*L, D) and logsumexps (N, K*L) in item order (item = r*L + t).
 */
final class ChunkedAttentionKernel {
    /** Chunks per work item: enough to amortise the halo of before + after chunks. */
    static final int SEGMENT = 16;

    private ChunkedAttentionKernel() {
    }

    /** Writes every item's output into {@code out} (N, K*L, D) and returns the logsumexps (N, K*L). */
    static double[] forward(ChunkedAttentionProblem pb, FloatBuffer q, FloatBuffer k, FloatBuffer v, FloatBuffer out) {
        int d = pb.dim();
        int items = pb.items();
        Segments segments = new Segments(pb);
        int[] slotOf = pb.spec().dedupe() ? pb.slotOfItems() : null;
        double[] lse = new double[pb.rows() * items];
        Tensor ownKeys = k == null ? KeyNormalization.normalizedRows(q, (long) pb.rows() * pb.length(), d) : null;
        FloatBuffer keys = ownKeys != null ? ownKeys.floats() : k;
        Parallel.forRange(pb.rows() * segments.count, 1, (from, to) -> {
            Segment seg = new Segment(pb);
            for (int task = from; task < to; task++) {
                int row = task / segments.count;
                int g = task % segments.count;
                seg.gather(row, segments.first(g), segments.end(g), q, keys, v, false);
                for (int c = seg.first; c < seg.end; c++) {
                    seg.weights(c, slotOf);
                    // O = P V: (C, W) x (W, D), the window's values a run of rows of the segment's
                    Gemm.gemm(seg.c, d, seg.w, 1f, seg.logits, 0, seg.w, 1, seg.values, seg.windowRow(c) * d, d,
                            seg.o, 0, d, false, seg.products);
                    for (int i = 0; i < seg.c; i++) {
                        int at = row * items + seg.queryItem[seg.core(c, i)];
                        out.put(at * d, seg.o, i * d, d);
                        lse[at] = seg.lse[i];
                    }
                }
            }
        });
        if (ownKeys != null) {
            ownKeys.free();
        }
        return lse;
    }

    /**
     * Writes the gradients of q, k (separate keys only) and v (N, L, D) from those of the per-item
     * outputs ({@code dOut}) and logsumexps ({@code dLse}); {@code out} holds the forward's per-item
     * outputs. Each item's query gradient is written over its {@code dOut} row once its segment
     * has read that row (no other segment reads it), so {@code dOut} must be the caller's scratch
     * and is overwritten.
     */
    static void backward(ChunkedAttentionProblem pb, FloatBuffer q, FloatBuffer k, FloatBuffer v, FloatBuffer out,
            FloatBuffer dOut, double[] dLse, FloatBuffer dq, FloatBuffer dk, FloatBuffer dv) {
        int d = pb.dim();
        int c = pb.spec().chunkLength();
        int items = pb.items();
        int rows = pb.rows();
        int length = pb.length();
        Segments segments = new Segments(pb);
        int[] slotOf = pb.slotOfItems();
        int[] dedupeSlots = pb.spec().dedupe() ? slotOf : null;
        float[][] keyGrads = new float[rows * segments.count][];
        float[][] valueGrads = new float[rows * segments.count][];
        float scale = (float) pb.spec().scale();
        Tensor ownKeys = k == null ? KeyNormalization.normalizedRows(q, (long) rows * length, d) : null;
        FloatBuffer keys = ownKeys != null ? ownKeys.floats() : k;
        Parallel.forRange(rows * segments.count, 1, (from, to) -> {
            Segment seg = new Segment(pb);
            for (int task = from; task < to; task++) {
                int row = task / segments.count;
                int g = task % segments.count;
                seg.gather(row, segments.first(g), segments.end(g), q, keys, v, true);
                seg.gatherGradients(row, out, dOut, dLse);
                float[] dKeys = ScratchArrays.zeroedFloats(seg.extended * c * d);
                float[] dValues = ScratchArrays.zeroedFloats(seg.extended * c * d);
                for (int chunk = seg.first; chunk < seg.end; chunk++) {
                    seg.weights(chunk, dedupeSlots);
                    seg.logitGradients(chunk);
                    int window = seg.windowRow(chunk) * d;
                    int core = seg.core(chunk, 0) * d;
                    // dV += P^T dO: (W, C) x (C, D), A(j, i) = P[i][j]
                    Gemm.gemm(seg.w, d, c, 1f, seg.logits, 0, 1, seg.w, seg.dOut, core, d, dValues, window, d, true, seg.products);
                    // dK += scale dS^T Q: (W, C) x (C, D)
                    Gemm.gemm(seg.w, d, c, scale, seg.dLogits, 0, 1, seg.w, seg.queries, core, d, dKeys, window, d, true, seg.products);
                    // dQ = scale dS K: (C, W) x (W, D)
                    Gemm.gemm(c, d, seg.w, scale, seg.dLogits, 0, seg.w, 1, seg.keys, window, d, seg.o, 0, d, false, seg.products);
                    for (int i = 0; i < c; i++) {
                        dOut.put((row * items + seg.queryItem[core / d + i]) * d, seg.o, i * d, d);
                    }
                }
                keyGrads[task] = dKeys;
                valueGrads[task] = dValues;
            }
        });
        if (ownKeys != null) {
            ownKeys.free();
        }
        // Per position: its K items' query gradients and its K slots' key and value gradients from
        // every segment whose windows reached them, in a fixed order.
        boolean shared = pb.spec().sharedQk();
        Parallel.forRange(rows * length, 64, (from, to) -> {
            float[] sq = new float[d];
            float[] sk = new float[d];
            float[] sv = new float[d];
            float[] x = new float[d];
            float[] own = new float[d];
            for (int rt = from; rt < to; rt++) {
                int row = rt / length;
                int t = rt % length;
                java.util.Arrays.fill(sq, 0f);
                java.util.Arrays.fill(sk, 0f);
                java.util.Arrays.fill(sv, 0f);
                for (int r = 0; r < pb.spec().rounds(); r++) {
                    int slot = slotOf[row * items + r * length + t];
                    dOut.get((row * items + r * length + t) * d, x, 0, d); // now the item's query gradient
                    add(x, 0, sq, d);
                    for (long source : segments.sources(slot / c)) {
                        int g = (int) (source >>> 32);
                        int at = ((int) source * c + slot % c) * d;
                        add(keyGrads[row * segments.count + g], at, sk, d);
                        add(valueGrads[row * segments.count + g], at, sv, d);
                    }
                }
                if (shared) {
                    q.get(rt * d, own, 0, d);
                    KeyNormalization.addBackward(own, 0, sk, sq, d);
                } else {
                    dk.put(rt * d, sk, 0, d);
                }
                dq.put(rt * d, sq, 0, d);
                dv.put(rt * d, sv, 0, d);
            }
        });
        for (int task = 0; task < keyGrads.length; task++) {
            ScratchArrays.give(keyGrads[task]);
            ScratchArrays.give(valueGrads[task]);
        }
    }

    /** {@code dst[i] += src[from + i]} for {@code i < n}. */
    private static void add(float[] src, int from, float[] dst, int n) {
        if (Kernels.vector()) {
            Vector.add(src, from, dst, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            dst[i] += src[from + i];
        }
    }

    /**
     * How each row's chunks are cut into segments of {@link #SEGMENT}, and, for every chunk, which
     * segments' buffers hold contributions to it: segment g covers its own chunks plus
     * {@code before} chunks ahead of them and {@code after} behind, wrapping around.
     */
    private static final class Segments {
        final int count;
        private final int chunks;
        private final long[][] sources; // per chunk: (segment << 32 | chunk index within the segment's buffer)

        Segments(ChunkedAttentionProblem pb) {
            this.chunks = pb.chunks();
            int before = pb.spec().chunksBefore();
            int extra = before + pb.spec().chunksAfter();
            this.count = (chunks + SEGMENT - 1) / SEGMENT;
            List<List<Long>> lists = new ArrayList<>();
            for (int x = 0; x < chunks; x++) {
                lists.add(new ArrayList<>());
            }
            for (int g = 0; g < count; g++) {
                for (int e = 0; e < end(g) - first(g) + extra; e++) {
                    lists.get(Math.floorMod(first(g) - before + e, chunks)).add(((long) g << 32) | e);
                }
            }
            sources = new long[chunks][];
            for (int x = 0; x < chunks; x++) {
                sources[x] = lists.get(x).stream().mapToLong(Long::longValue).toArray();
            }
        }

        int first(int g) {
            return g * SEGMENT;
        }

        int end(int g) {
            return Math.min(chunks, (g + 1) * SEGMENT);
        }

        long[] sources(int chunk) {
            return sources[chunk];
        }
    }

    /**
     * One segment's gathered operands and one chunk's results; a thread reuses one for all the
     * segments it handles. Extended chunk e of segment [first, end) is chunk first - before + e
     * (wrapped); chunk c's window is the extended chunks c - first .. c - first + W/C - 1.
     */
    private static final class Segment {
        final ChunkedAttentionProblem pb;
        final PositionMasks masks;
        final int c;
        final int w;
        final int d;
        int row;
        int first;
        int end;
        int extended;             // chunks gathered: end - first + before + after
        final Gemm.Workspace products = new Gemm.Workspace(); // this thread's working arrays for the products
        final float[] keys;       // (E*C, D) keys of the extended chunks
        final float[] keysT;      // (D, E*C)
        final float[] values;     // (E*C, D)
        final float[] valuesT;    // (D, E*C), backward only
        final int[] keyPosition;  // (E*C)
        final int[] blocked;      // (E*C) 1 where the key is padding or past an end of a non-cyclic sequence
        final float[] queries;    // (S*C, D) queries of the segment's own chunks
        final int[] queryItem;    // (S*C)
        final float[] out;        // (S*C, D) backward only: the forward's per-item outputs
        final float[] dOut;       // (S*C, D) backward only
        final double[] dLse;      // (S*C) backward only
        final float[] logits;     // (C, W) one chunk's logits, then weights
        final float[] dLogits;    // (C, W) backward only
        final int[] masked;       // (C, W) 1 where the logit was masked
        final float[] o;          // (C, D)
        final double[] lse;       // (C)

        Segment(ChunkedAttentionProblem pb) {
            this.pb = pb;
            this.masks = new PositionMasks(pb);
            this.c = pb.spec().chunkLength();
            this.w = pb.spec().window();
            this.d = pb.dim();
            int maxExtended = SEGMENT + pb.spec().chunksBefore() + pb.spec().chunksAfter();
            keys = new float[maxExtended * c * d];
            keysT = new float[d * maxExtended * c];
            values = new float[maxExtended * c * d];
            valuesT = new float[d * maxExtended * c];
            keyPosition = new int[maxExtended * c];
            blocked = new int[maxExtended * c];
            queries = new float[SEGMENT * c * d];
            queryItem = new int[SEGMENT * c];
            out = new float[SEGMENT * c * d];
            dOut = new float[SEGMENT * c * d];
            dLse = new double[SEGMENT * c];
            logits = new float[c * w];
            dLogits = new float[c * w];
            masked = new int[c * w];
            o = new float[c * d];
            lse = new double[c];
        }

        /** Row of the segment's key and value arrays where chunk {@code chunk}'s window starts. */
        int windowRow(int chunk) {
            return (chunk - first) * c;
        }

        /** Index of query i of chunk {@code chunk} among the segment's queries. */
        int core(int chunk, int i) {
            return (chunk - first) * c + i;
        }

        /** Reads the segment's queries and its extended chunks' keys (normalised ones for shared QK) and values through the sorted order. */
        void gather(int row, int first, int end, FloatBuffer qAll, FloatBuffer kAll, FloatBuffer vAll,
                boolean forBackward) {
            this.row = row;
            this.first = first;
            this.end = end;
            int before = pb.spec().chunksBefore();
            int length = pb.length();
            int chunks = pb.chunks();
            this.extended = end - first + before + pb.spec().chunksAfter();
            int columns = extended * c;
            for (int e = 0; e < extended; e++) {
                int unwrapped = first - before + e;
                boolean outside = !pb.spec().cyclic() && (unwrapped < 0 || unwrapped >= chunks);
                int chunk = Math.floorMod(unwrapped, chunks);
                for (int i = 0; i < c; i++) {
                    int j = e * c + i;
                    int p = pb.item(row, chunk * c + i) % length;
                    keyPosition[j] = p;
                    blocked[j] = outside || pb.padded(row, p) ? 1 : 0;
                    int from = (row * length + p) * d;
                    kAll.get(from, keys, j * d, d);
                    vAll.get(from, values, j * d, d);
                }
            }
            transpose(keys, keysT, columns);
            if (forBackward) {
                transpose(values, valuesT, columns);
            }
            for (int s = 0; s < (end - first) * c; s++) {
                int item = pb.item(row, first * c + s);
                queryItem[s] = item;
                qAll.get((row * length + item % length) * d, queries, s * d, d);
            }
        }

        /** {@code to[e][j] = from[j][e]} for {@code columns} rows of D. */
        private void transpose(float[] from, float[] to, int columns) {
            for (int e = 0; e < d; e++) {
                int at = e * columns;
                for (int j = 0; j < columns; j++) {
                    to[at + j] = from[j * d + e];
                }
            }
        }

        /** The forward's per-item outputs and the gradients of outputs and logsumexps, for the segment's queries. */
        void gatherGradients(int row, FloatBuffer outAll, FloatBuffer dOutAll, double[] dLseAll) {
            int items = pb.items();
            for (int s = 0; s < (end - first) * c; s++) {
                int at = row * items + queryItem[s];
                outAll.get(at * d, out, s * d, d);
                dOutAll.get(at * d, dOut, s * d, d);
                dLse[s] = dLseAll[at];
            }
        }

        /** Logits {@code scale Q K^T} of chunk {@code chunk}, masked and deduplicated, then softmax weights (in place) and lse. */
        void weights(int chunk, int[] slotOf) {
            int columns = extended * c;
            Gemm.gemm(c, w, d, (float) pb.spec().scale(), queries, core(chunk, 0) * d, d, 1, keysT, windowRow(chunk),
                    columns, logits, 0, w, false, products);
            int windowStart = windowRow(chunk);
            for (int i = 0; i < c; i++) {
                int t = queryItem[core(chunk, i)] % pb.length();
                masks.apply(logits, masked, i * w, w, t, keyPosition, blocked, windowStart);
                if (slotOf != null) {
                    for (int j = 0; j < w; j++) {
                        logits[i * w + j] -= (float) Math.log(pb.duplicateCount(slotOf, row, t, keyPosition[windowStart + j]));
                    }
                }
            }
            // per row e^(x - max) / sum, the sum finished in double: weights that should sum to 1 do, to float rounding
            Softmax.rowsInPlace(logits, 0, c, w, lse, 0);
        }

        /** {@code dS = P (dO V^T - dO.O + dlse)} for chunk {@code chunk}, zero where the logit was masked. */
        void logitGradients(int chunk) {
            int core = core(chunk, 0);
            // dP = dO V^T: (C, D) x (D, W)
            Gemm.gemm(c, w, d, 1f, dOut, core * d, d, 1, valuesT, windowRow(chunk), extended * c, dLogits, 0, w, false, products);
            for (int i = 0; i < c; i++) {
                int at = (core + i) * d;
                if (Kernels.vector()) {
                    Vector.logitGradientRow(dOut, out, at, d, dLse[core + i], logits, dLogits, masked, i * w, w);
                    continue;
                }
                float delta = 0;
                for (int e = 0; e < d; e++) {
                    delta += dOut[at + e] * out[at + e];
                }
                float shift = (float) (dLse[core + i] - delta);
                for (int j = i * w; j < (i + 1) * w; j++) {
                    dLogits[j] = masked[j] == 0 ? logits[j] * (dLogits[j] + shift) : 0f;
                }
            }
        }
    }

    /** The vector forms of this kernel's own row steps. */
    private static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // as many lanes as F

        private Vector() {
        }

        static void add(float[] src, int from, float[] dst, int n) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector.fromArray(F, dst, i).add(FloatVector.fromArray(F, src, from + i)).intoArray(dst, i);
            }
            for (; i < n; i++) {
                dst[i] += src[from + i];
            }
        }

        /**
         * One query's {@code dS = P (dP - dO.O + dlse)} over its window {@code [at, at + w)} of the
         * logits (P) and their gradients (dP in, dS out), zero where the logit was masked.
         */
        static void logitGradientRow(float[] dOut, float[] out, int row, int d, double dLse, float[] logits,
                float[] dLogits, int[] masked, int at, int w) {
            FloatVector acc = FloatVector.zero(F);
            int e = 0;
            for (; e < F.loopBound(d); e += F.length()) {
                acc = FloatVector.fromArray(F, dOut, row + e).fma(FloatVector.fromArray(F, out, row + e), acc);
            }
            float[] lanes = VectorLanes.scratch();
            acc.intoArray(lanes, 0);
            float delta = VectorLanes.sum(lanes, F.length());
            for (; e < d; e++) {
                delta += dOut[row + e] * out[row + e];
            }
            FloatVector shift = FloatVector.broadcast(F, (float) (dLse - delta));
            int j = 0;
            for (; j < F.loopBound(w); j += F.length()) {
                int k = at + j;
                // zeroed on the bits where masked: an int compare and blend, no mask cast (see PositionMasks)
                FloatVector.fromArray(F, logits, k).mul(FloatVector.fromArray(F, dLogits, k).add(shift)).viewAsIntegralLanes()
                        .blend(0, IntVector.fromArray(I, masked, k).compare(VectorOperators.NE, 0)).viewAsFloatingLanes()
                        .intoArray(dLogits, k);
            }
            for (; j < w; j++) {
                int k = at + j;
                dLogits[k] = masked[k] == 0 ? logits[k] * (dLogits[k] + shift.lane(0)) : 0f;
            }
        }
    }
}
