package dev.reformer.attention;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import dev.reformer.tensor.kernels.Exp;
import dev.reformer.tensor.kernels.Kernels;
import dev.reformer.tensor.kernels.Parallel;
import dev.reformer.tensor.kernels.Reductions;
import dev.reformer.tensor.kernels.Softmax;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Full attention in float32 without an L x L matrix: the queries are taken in blocks of
 * {@link #queryBlock} rows, and each block meets all the keys at once (the key blocks of flash
 * attention, Dao et al. 2022, widened to the whole sequence), so memory grows with L times the
 * block, not L^2. The same contract as {@link ChunkedAttentionSpec} with one chunk of the whole
 * sequence and no neighbours.
 *
 * <p>The matrix products, five of the seven per block, run in BLAS (ND4J's sgemm, about 150
 * GFLOP/s on two cores here, where the engine's own {@code Gemm} reaches 60): the products are
 * large, {@code QB x D x L}. The row steps between them (masks from positions, softmax, the
 * logits' gradients) run in the kernel families' float loops, each row copied to the heap.
 *
 * <p>Forward, per block of queries Q (QB rows): {@code S = scale Q K^T} (QB x L, BLAS); per row,
 * the masks, {@code P = e^(S - m) / l} with m the row's maximum and l the sum, kept as m and
 * {@code log l}; {@code O = P V} (BLAS).
 *
 * <p>Backward, per block: S again and {@code dP = dO V^T} (BLAS); then one pass over the rows:
 * {@code P = e^((S - m) - log l)} from the saved statistics and {@code dS = P (dP - dO.O)}, zero
 * where masked;
 * {@code dQ = scale dS K}, {@code dK^T += scale Q^T dS}, {@code dV^T += dO^T P} (BLAS; the key
 * and value gradients are summed transposed, (D, L) per sequence, where BLAS ran 1.2-2.3x faster
 * than on (L, D), and transposed once at the end).
 *
 * <p>Causal attention: a block's queries see no key after its last one, whose weights are exactly
 * 0, so its products stop there; should a query of the block see nothing but forbidden keys, its
 * softmax spreads over all of them, as in the composition, and the block is redone over the whole
 * sequence.
 */
final class FlashAttentionKernel {
    /**
     * Elements of one block's logits, {@code QB x L}: 8M floats, 32 MB (with their gradients, 64 MB
     * of scratch): BLAS runs the products with a short side of 128 at half the speed of 512.
     */
    private static final int BLOCK_ELEMENTS = 1 << 23;

    private FlashAttentionKernel() {
    }

    /** Queries per block for sequences of {@code length}: up to 1024, at least 64. */
    static int queryBlock(int length) {
        return Math.max(64, Math.min(1024, BLOCK_ELEMENTS / Math.max(length, 1)));
    }

    /** Per query: the maximum logit and the log of its softmax's sum (float, as the logits). */
    record Stats(float[] max, float[] logSum) {
        double lse(int i) {
            return max[i] + (double) logSum[i];
        }
    }

    /** The operands as BLAS sees them: (N*L, D) row-major, keys normalised for shared QK. */
    private record Operands(INDArray q, INDArray k, INDArray v, Tensor ownKeys) {
        /** Rows {@code [from, to)} of sequence {@code row} of the (N*L, D) matrix x, as a view. */
        INDArray rows(INDArray x, int row, int length, int from, int to) {
            long d = x.size(1);
            return Nd4j.create(x.data(), new long[] {to - from, d}, new long[] {d, 1},
                    x.offset() + ((long) row * length + from) * d, 'c', x.dataType());
        }
    }

    private static Operands operands(ChunkedAttentionProblem pb, Tensor q, Tensor k, Tensor v) {
        long rows = (long) pb.rows() * pb.length();
        int d = pb.dim();
        Tensor q2 = q.reshape(rows, d);
        Tensor ownKeys = null;
        if (k == null) {
            // shared QK: the keys are the queries, each normalised to unit length
            ownKeys = KeyNormalization.normalizedRows(q2.floats(), rows, d).reshape(rows, d);
        }
        Tensor k2 = ownKeys != null ? ownKeys : k.reshape(rows, d);
        return new Operands(q2.nd4j(), k2.nd4j(), v.reshape(rows, d).nd4j(), ownKeys);
    }

    /** Writes {@code out} (N, L, D) and returns the per-query statistics the backward needs. */
    static Stats forward(ChunkedAttentionProblem pb, Tensor q, Tensor k, Tensor v, Tensor out) {
        int length = pb.length();
        int qb = queryBlock(length);
        Operands ops = operands(pb, q, k, v);
        INDArray o = out.reshape((long) pb.rows() * length, pb.dim()).nd4j();
        float[] max = new float[pb.rows() * length];
        float[] logSum = new float[pb.rows() * length];
        Tensor scores = Tensor.empty(DType.FLOAT32, (long) qb * length);
        Rows rowSteps = new Rows(pb);
        for (int row = 0; row < pb.rows(); row++) {
            for (int i0 = 0; i0 < length; i0 += qb) {
                int n = Math.min(qb, length - i0);
                int keys = rowSteps.visibleKeys(i0, n);
                for (int pass = 0; pass < 2; pass++) {
                    INDArray s = scoresView(scores, n, keys);
                    // S = scale Q K^T: (QB, D) x (D, keys)
                    Nd4j.gemm(ops.rows(ops.q, row, length, i0, i0 + n), ops.rows(ops.k, row, length, 0, keys), s, false, true,
                            pb.spec().scale(), 0.0);
                    boolean spread = rowSteps.softmax(scores, row, i0, n, keys, max, logSum);
                    if (!spread || keys == length) {
                        break;
                    }
                    keys = length; // a query saw only forbidden keys: its softmax covers the whole sequence
                }
                // O = P V: (QB, keys) x (keys, D)
                Nd4j.gemm(scoresView(scores, n, keys), ops.rows(ops.v, row, length, 0, keys),
                        ops.rows(o, row, length, i0, i0 + n), false, false, 1.0, 0.0);
            }
        }
        scores.free();
        if (ops.ownKeys != null) {
            ops.ownKeys.free();
        }
        return new Stats(max, logSum);
    }

    /** The first {@code n * keys} elements of the scores buffer as a (n, keys) row-major matrix. */
    private static INDArray scoresView(Tensor scores, int n, int keys) {
        return scores.slice(0, 0, (long) n * keys).reshape(n, keys).nd4j();
    }

    /** Writes the gradients of q, k (separate keys only) and v, each (N, L, D). */
    static void backward(ChunkedAttentionProblem pb, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Stats stats,
            Tensor dq, Tensor dk, Tensor dv) {
        int length = pb.length();
        int d = pb.dim();
        long all = (long) pb.rows() * length;
        int qb = queryBlock(length);
        Operands ops = operands(pb, q, k, v);
        INDArray gradOut = dOut.reshape(all, d).nd4j();
        float[] delta = dotRows(out, dOut, Math.toIntExact(all), d);   // dO . O per query
        boolean shared = k == null;
        // dK^T and dV^T, (D, L) per sequence, summed over the blocks
        Tensor keyGradsT = Tensor.empty(DType.FLOAT32, pb.rows(), d, length);
        Tensor valueGradsT = Tensor.empty(DType.FLOAT32, pb.rows(), d, length);
        INDArray dKT = keyGradsT.nd4j();
        INDArray dVT = valueGradsT.nd4j();
        dKT.assign(0);
        dVT.assign(0);
        INDArray dQ = dq.reshape(all, d).nd4j();
        Tensor scores = Tensor.empty(DType.FLOAT32, (long) qb * length);
        Tensor scoreGrads = Tensor.empty(DType.FLOAT32, (long) qb * length);
        Rows rowSteps = new Rows(pb);
        double scale = pb.spec().scale();
        Tensor partial = pb.spec().causal() ? Tensor.empty(DType.FLOAT32, (long) d * length) : null;
        for (int row = 0; row < pb.rows(); row++) {
            INDArray dKTRow = dKT.slice(row);
            INDArray dVTRow = dVT.slice(row);
            for (int i0 = 0; i0 < length; i0 += qb) {
                int n = Math.min(qb, length - i0);
                int keys = rowSteps.anyAllForbidden(stats, row, i0, n) ? length : rowSteps.visibleKeys(i0, n);
                INDArray qRows = ops.rows(ops.q, row, length, i0, i0 + n);
                INDArray kRows = ops.rows(ops.k, row, length, 0, keys);
                INDArray vRows = ops.rows(ops.v, row, length, 0, keys);
                INDArray dORows = ops.rows(gradOut, row, length, i0, i0 + n);
                INDArray s = scoresView(scores, n, keys);
                INDArray ds = scoresView(scoreGrads, n, keys);
                Nd4j.gemm(qRows, kRows, s, false, true, scale, 0.0);                        // S = scale Q K^T
                Nd4j.gemm(dORows, vRows, ds, false, true, 1.0, 0.0);                        // dP = dO V^T
                rowSteps.weightsAndLogitGradients(scores, scoreGrads, row, i0, n, keys, stats, delta); // P; dS = P (dP - dO.O)
                Nd4j.gemm(ds, kRows, ops.rows(dQ, row, length, i0, i0 + n), false, false, scale, 0.0); // dQ = scale dS K
                addProduct(qRows, ds, scale, dKTRow, keys, partial);                        // dK^T += scale Q^T dS
                addProduct(dORows, s, 1.0, dVTRow, keys, partial);                          // dV^T += dO^T P
            }
        }
        scores.free();
        scoreGrads.free();
        if (partial != null) {
            partial.free();
        }
        // separate keys' gradients go to dk; shared keys' are folded into dq below
        Tensor keyGrads = shared ? Tensor.empty(DType.FLOAT32, all, d) : dk;
        transposeRows(keyGradsT, keyGrads, pb.rows(), d, length);
        transposeRows(valueGradsT, dv, pb.rows(), d, length);
        keyGradsT.free();
        valueGradsT.free();
        if (shared) {
            // k = q / |q|: dq += (dk - k (k . dk)) / |q|, per position
            FloatBuffer qs = q.floats();
            FloatBuffer dks = keyGrads.floats();
            FloatBuffer dqs = dq.writableFloats();
            Parallel.forRange(Math.toIntExact(all), 256, (a, b) -> {
                float[] x = new float[d];
                float[] gk = new float[d];
                float[] gq = new float[d];
                for (int r = a; r < b; r++) {
                    qs.get(r * d, x, 0, d);
                    dks.get(r * d, gk, 0, d);
                    dqs.get(r * d, gq, 0, d);
                    KeyNormalization.addBackward(x, 0, gk, gq, d);
                    dqs.put(r * d, gq, 0, d);
                }
            });
            keyGrads.free();
            ops.ownKeys.free();
        }
    }

    /**
     * {@code sum[:, 0:keys] += alpha a^T b} for a (QB, D), b (QB, keys) and sum (D, L). BLAS
     * writes only into dense matrices: where keys < L (causal blocks) the product goes to
     * {@code partial} first and is added column block by column block.
     */
    private static void addProduct(INDArray a, INDArray b, double alpha, INDArray sum, int keys, Tensor partial) {
        long d = sum.size(0);
        long length = sum.size(1);
        if (keys == length) {
            Nd4j.gemm(a, b, sum, true, false, alpha, 1.0);
            return;
        }
        INDArray p = partial.slice(0, 0, d * keys).reshape(d, keys).nd4j();
        Nd4j.gemm(a, b, p, true, false, alpha, 0.0);
        INDArray target = Nd4j.create(sum.data(), new long[] {d, keys}, new long[] {length, 1}, sum.offset(), 'c',
                sum.dataType());
        target.addi(p);
    }

    /** {@code to[row][t][e] = from[row][e][t]}: (N, D, L) into (N, L, D), a block of positions at a time. */
    private static void transposeRows(Tensor from, Tensor to, int rows, int d, int length) {
        FloatBuffer src = from.floats();
        FloatBuffer dst = to.writableFloats();
        int block = 64;
        int blocks = (length + block - 1) / block;
        Parallel.forRange(rows * blocks, 4, (a, b) -> {
            float[] in = new float[d * block];
            float[] out = new float[block * d];
            for (int item = a; item < b; item++) {
                int row = item / blocks;
                int t0 = (item % blocks) * block;
                int width = Math.min(block, length - t0);
                for (int e = 0; e < d; e++) {
                    src.get((row * d + e) * length + t0, in, e * width, width);
                }
                for (int t = 0; t < width; t++) {
                    for (int e = 0; e < d; e++) {
                        out[t * d + e] = in[e * width + t];
                    }
                }
                dst.put((row * length + t0) * d, out, 0, width * d);
            }
        });
    }

    /** {@code dO . O} per query, summed in double. */
    private static float[] dotRows(Tensor out, Tensor dOut, int rows, int d) {
        float[] delta = new float[rows];
        FloatBuffer o = out.floats();
        FloatBuffer g = dOut.floats();
        Parallel.forRange(rows, 256, (from, to) -> {
            float[] a = new float[d];
            float[] b = new float[d];
            for (int i = from; i < to; i++) {
                o.get(i * d, a, 0, d);
                g.get(i * d, b, 0, d);
                double sum = 0;
                for (int e = 0; e < d; e++) {
                    sum += (double) a[e] * b[e];
                }
                delta[i] = (float) sum;
            }
        });
        return delta;
    }

    /**
     * The row steps between the products: each row of a block's scores is copied to the heap,
     * worked on there and copied back; rows are independent and shared out over the threads.
     */
    private static final class Rows {
        final ChunkedAttentionProblem pb;
        final PositionMasks masks;
        final int length;
        /** 1 where a key of sequence {@link #blockedRow} is padding; read only where the masks may block. */
        final int[] blocked;
        int blockedRow = -1;

        Rows(ChunkedAttentionProblem pb) {
            this.pb = pb;
            this.masks = new PositionMasks(pb);
            this.length = pb.length();
            this.blocked = new int[length];
        }

        /** The padding flags of sequence {@code row}, made on the calling thread before its rows are shared out. */
        int[] blocked(int row) {
            if (masks.mayBlock() && blockedRow != row) {
                for (int j = 0; j < length; j++) {
                    blocked[j] = pb.padded(row, j) ? 1 : 0;
                }
                blockedRow = row;
            }
            return blocked;
        }

        /** Keys the queries {@code [i0, i0 + n)} can see: all, or for causal attention up to the block's last query. */
        int visibleKeys(int i0, int n) {
            return pb.spec().causal() ? i0 + n : length;
        }

        /** One thread's rows: logits, their gradients and the mask flags, at least {@code length} long. */
        private static final class Scratch {
            final float[] s;
            final float[] ds;
            final int[] masked;

            Scratch(int length) {
                s = new float[length];
                ds = new float[length];
                masked = new int[length];
            }
        }

        /** Each thread's scratch, kept between calls: making it per block and pass took 4% of full attention at L = 1024. */
        private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(0));

        /** This thread's scratch, long enough for this problem's rows. */
        private Scratch scratch() {
            Scratch t = SCRATCH.get();
            if (t.s.length < length) {
                t = new Scratch(length);
                SCRATCH.set(t);
            }
            return t;
        }

        /**
         * Masks and softmax of the block's rows in place; records each query's maximum and log sum.
         * Returns whether a query saw only forbidden keys (its maximum is the forbidden value).
         */
        boolean softmax(Tensor scores, int row, int i0, int n, int keys, float[] max, float[] logSum) {
            FloatBuffer sb = scores.writableFloats();
            int[] barred = blocked(row);
            boolean[] spread = new boolean[1];
            Parallel.forRange(n, 8, (from, to) -> {
                Scratch t = scratch();
                for (int i = from; i < to; i++) {
                    sb.get(i * keys, t.s, 0, keys);
                    masks.applyInOrder(t.s, t.masked, 0, keys, i0 + i, 0, barred);
                    float m = Reductions.max(t.s, 0, keys);
                    double sum = Exp.expShifted(t.s, 0, keys, m, t.s);
                    float inverse = (float) (1.0 / sum);
                    for (int j = 0; j < keys; j++) {
                        t.s[j] *= inverse;
                    }
                    sb.put(i * keys, t.s, 0, keys);
                    max[row * length + i0 + i] = m;
                    logSum[row * length + i0 + i] = (float) Math.log(sum);
                    if (m <= (float) ChunkedAttentionProblem.FORBIDDEN) {
                        spread[0] = true;
                    }
                }
            });
            return spread[0];
        }

        boolean anyAllForbidden(Stats stats, int row, int i0, int n) {
            for (int i = 0; i < n; i++) {
                if (stats.max[row * length + i0 + i] <= (float) ChunkedAttentionProblem.FORBIDDEN) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Row by row, {@code P = e^((S - m) - log l)} from the forward's statistics, the masks
         * applied again (P replaces S, for {@code dV^T += dO^T P}), and
         * {@code dS = P (dP - dO.O)}, zero where the logit was masked (dS replaces dP): one copy
         * of each row to the heap and back for both steps.
         */
        void weightsAndLogitGradients(Tensor scores, Tensor scoreGrads, int row, int i0, int n, int keys, Stats stats,
                float[] delta) {
            FloatBuffer sb = scores.writableFloats();
            FloatBuffer db = scoreGrads.writableFloats();
            boolean vector = Kernels.vector();
            int[] barred = blocked(row);
            Parallel.forRange(n, 8, (from, to) -> {
                Scratch t = scratch();
                for (int i = from; i < to; i++) {
                    int query = row * length + i0 + i;
                    sb.get(i * keys, t.s, 0, keys);
                    db.get(i * keys, t.ds, 0, keys);
                    masks.applyInOrder(t.s, t.masked, 0, keys, i0 + i, 0, barred);
                    float m = stats.max[query];
                    for (int j = 0; j < keys; j++) {
                        t.s[j] -= m;
                    }
                    Exp.expShifted(t.s, 0, keys, stats.logSum[query], t.s);
                    float shift = -delta[query];
                    if (vector) {
                        Vector.logitGradientRow(t.s, t.ds, t.masked, 0, keys, shift);
                    } else {
                        for (int j = 0; j < keys; j++) {
                            t.ds[j] = t.masked[j] == 0 ? t.s[j] * (t.ds[j] + shift) : 0f;
                        }
                    }
                    sb.put(i * keys, t.s, 0, keys);
                    db.put(i * keys, t.ds, 0, keys);
                }
            });
        }
    }

    /** The vector form of the kernel's own row step. */
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
