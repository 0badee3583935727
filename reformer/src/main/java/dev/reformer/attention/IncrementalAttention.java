package dev.reformer.attention;

import dev.reformer.tensor.Tensor;
import java.util.Arrays;

/**
 * Causal attention one position at a time, for generation: keeps every earlier position's keys
 * and values and computes the newest position's output over the keys its window holds: one
 * window of keys per LSH round (C(1 + before + after)) or local chunk, instead of a pass over the
 * whole sequence. Full attention still reads every earlier key, but not the earlier queries.
 *
 * <p>The output for position t is the one the variant's {@code attend} gives position t of a
 * sequence of t + 1 positions, padded to {@code paddedLength} (as {@code ReformerLM} pads), given
 * the same keys and values: the same window slots, masks and round weights as
 * {@link ChunkedAttentionReference}, summed in double precision. For LSH the window depends on
 * the buckets of all positions up to t, so an LSH layer's output for an earlier position can change
 * as later positions arrive; a cache keeps the output it had when computed. The two agree exactly
 * when no LSH layer feeds another attention layer (see {@code Decoder.isExact}).
 *
 * <p>Three kinds: {@link Full}, {@link Windowed} (local attention: chunks in sequence order) and
 * {@link Lsh} (windows of each round's order sorted by bucket).
 */
public abstract class IncrementalAttention {
    protected final int heads;
    protected final int dim;
    private final boolean shared;
    private final double scale;
    private final double selfMaskValue;
    private float[][] keys;                    // per head, (positions, D): normalised when queries double as keys
    private float[][] values;
    protected int length;

    IncrementalAttention(int heads, int dim, boolean causal, double scale, double selfMaskValue) {
        if (!causal) {
            throw new IllegalArgumentException("incremental attention needs a causal attention: a non-causal one reads later"
                    + " positions");
        }
        this.heads = heads;
        this.dim = dim;
        this.shared = !Double.isNaN(selfMaskValue);
        this.scale = scale;
        this.selfMaskValue = selfMaskValue;
        this.keys = new float[heads][64 * dim];
        this.values = new float[heads][64 * dim];
    }

    /** The number of positions seen so far. */
    public final int length() {
        return length;
    }

    /**
     * Takes the newest position's query, key and value (each H*D, head-major; {@code k} is ignored
     * when queries double as keys) and returns its attention output (H*D).
     *
     * @param paddedLength the length the whole sequence, this position included, is padded to
     */
    public final float[] next(float[] q, float[] k, float[] v, int paddedLength) {
        int t = length;
        if (paddedLength <= t) {
            throw new IllegalArgumentException("padded length " + paddedLength + " must exceed the position " + t);
        }
        if ((t + 1) * dim > keys[0].length) {
            for (int h = 0; h < heads; h++) {
                keys[h] = Arrays.copyOf(keys[h], 2 * keys[h].length);
                values[h] = Arrays.copyOf(values[h], 2 * values[h].length);
            }
        }
        for (int h = 0; h < heads; h++) {
            float[] key = Arrays.copyOfRange(shared ? q : k, h * dim, (h + 1) * dim);
            if (shared) {
                normalize(key);
            }
            System.arraycopy(key, 0, keys[h], t * dim, dim);
            System.arraycopy(v, h * dim, values[h], t * dim, dim);
        }
        remember(q, t);
        length = t + 1;
        float[] out = new float[heads * dim];
        for (int h = 0; h < heads; h++) {
            double[] o = attend(h, q, t, paddedLength);
            for (int e = 0; e < dim; e++) {
                out[h * dim + e] = (float) o[e];
            }
        }
        return out;
    }

    /** Records what the variant needs of position t beyond its key and value (LSH: its buckets). */
    void remember(float[] q, int t) {
    }

    /** The output (D) of head h for the query of position t. */
    abstract double[] attend(int h, float[] q, int t, int paddedLength);

    /**
     * Softmax over the keys at {@code positions} (repeats count again, as in the windows of the
     * whole-sequence call) of query t; adds the weighted values to {@code out}, returns the logsumexp.
     * Later positions are forbidden by the causal mask; their weight would be exactly 0.
     */
    final double softmaxSum(int h, float[] q, int t, int[] positions, int count, double[] out) {
        double[] weights = new double[count];
        int[] at = new int[count];
        double max = Double.NEGATIVE_INFINITY;
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int p = positions[i];
            double logit;
            if (shared && p == t) {
                logit = selfMaskValue;
            } else if (p > t) {
                continue;
            } else {
                double dot = 0;
                for (int e = 0; e < dim; e++) {
                    dot += (double) q[h * dim + e] * keys[h][p * dim + e];
                }
                logit = scale * dot;
            }
            weights[kept] = logit;
            at[kept++] = p;
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            weights[i] = Math.exp(weights[i] - max);
            sum += weights[i];
        }
        for (int i = 0; i < kept; i++) {
            double w = weights[i] / sum;
            for (int e = 0; e < dim; e++) {
                out[e] += w * values[h][at[i] * dim + e];
            }
        }
        return max + Math.log(sum);
    }

    /** {@code k / max(|k|, 1e-12)}, as {@link Masks#normalize}. */
    private static void normalize(float[] k) {
        double squared = 0;
        for (float x : k) {
            squared += (double) x * x;
        }
        double norm = Math.sqrt(Math.max(squared, 1e-24));
        for (int e = 0; e < k.length; e++) {
            k[e] = (float) (k[e] / norm);
        }
    }

    /** Full attention: every position up to t. */
    static final class Full extends IncrementalAttention {
        Full(boolean causal, double scale, double selfMaskValue, int heads, int dim) {
            super(heads, dim, causal, scale, selfMaskValue);
        }

        @Override
        double[] attend(int h, float[] q, int t, int paddedLength) {
            int[] positions = new int[t + 1];
            for (int p = 0; p <= t; p++) {
                positions[p] = p;
            }
            double[] o = new double[dim];
            softmaxSum(h, q, t, positions, t + 1, o);
            return o;
        }
    }

    /**
     * Chunked attention over an order of the K*P items (K rounds of the P padded positions): each
     * round's window is the query's chunk and its neighbours in that order, the rounds weighted by
     * the softmax of their logsumexps. Local attention is one round in sequence order, its windows
     * stopping at the ends.
     */
    static class Windowed extends IncrementalAttention {
        final ChunkedAttentionSpec spec;

        Windowed(ChunkedAttentionSpec spec, int heads, int dim) {
            super(heads, dim, spec.causal(), spec.scale(), spec.selfMaskValue());
            this.spec = spec;
        }

        /** The place of position t in round r's order (local: t itself). */
        int rankOf(int h, int r, int t) {
            return t;
        }

        /** The position at place {@code rank} of round r's order (local: rank itself). */
        int positionAt(int h, int r, int rank) {
            return rank;
        }

        @Override
        final double[] attend(int h, float[] q, int t, int paddedLength) {
            int rounds = spec.rounds();
            int c = spec.chunkLength();
            int chunks = rounds * paddedLength / c;
            int windowChunks = spec.chunksBefore() + 1 + spec.chunksAfter();
            double[][] outs = new double[rounds][dim];
            double[] lse = new double[rounds];
            int[] positions = new int[windowChunks * c];
            for (int r = 0; r < rounds; r++) {
                int chunk = (r * paddedLength + rankOf(h, r, t)) / c;                      // (round, rank) -> slot -> chunk
                int count = 0;
                for (int w = 0; w < windowChunks; w++) {
                    int neighbour = chunk + w - spec.chunksBefore();
                    if (!spec.cyclic() && (neighbour < 0 || neighbour >= chunks)) {
                        continue;                                   // past an end of a non-cyclic sequence: forbidden
                    }
                    int first = Math.floorMod(neighbour, chunks) * c;
                    for (int j = 0; j < c; j++) {
                        int slot = first + j;
                        int rank = slot % paddedLength;
                        if (rank <= t) {                            // ranks past t: padding (the end of each round)
                            positions[count++] = positionAt(h, slot / paddedLength, rank);
                        }
                    }
                }
                lse[r] = softmaxSum(h, q, t, positions, count, outs[r]);
            }
            return rounds == 1 ? outs[0] : combineRounds(outs, lse);
        }

        /** {@code sum_r softmax_r(lse_r) out_r}. */
        private double[] combineRounds(double[][] outs, double[] lse) {
            double max = Double.NEGATIVE_INFINITY;
            for (double l : lse) {
                max = Math.max(max, l);
            }
            double sum = 0;
            for (double l : lse) {
                sum += Math.exp(l - max);
            }
            double[] out = new double[dim];
            for (int r = 0; r < outs.length; r++) {
                double w = Math.exp(lse[r] - max) / sum;
                for (int e = 0; e < dim; e++) {
                    out[e] += w * outs[r][e];
                }
            }
            return out;
        }
    }

    /**
     * LSH attention: each round's order sorts the positions by (bucket, position). A new position
     * is the latest of its bucket, so its place is the number of earlier positions in buckets up to
     * its own (kept as counts per bucket), and it is inserted there.
     */
    static final class Lsh extends Windowed {
        private final LshAttention lsh;
        private final Tensor rotations;            // (1, H, D, K, S)
        private final int bucketsPerRound;
        private final int[][][] sorted;            // per head and round, positions in order
        private final int[][][] countOf;           // per head and round, positions per bucket
        private final int[][] newestRank;          // per head and round, the place of the newest position

        Lsh(LshAttention lsh, ChunkedAttentionSpec spec, Tensor rotations, int bucketsPerRound, int heads, int dim) {
            super(spec, heads, dim);
            if (spec.dedupe()) {
                throw new IllegalArgumentException("incremental LSH attention does not implement the duplicate correction"
                        + " (dedupeRounds): generate without the cache");
            }
            this.lsh = lsh;
            this.rotations = rotations;
            this.bucketsPerRound = bucketsPerRound;
            this.sorted = new int[heads][spec.rounds()][64];
            this.countOf = new int[heads][spec.rounds()][bucketsPerRound];
            this.newestRank = new int[heads][spec.rounds()];
        }

        @Override
        void remember(float[] q, int t) {
            int rounds = spec.rounds();
            Tensor qk = Tensor.of(q, heads, 1, dim);                                      // (N = H, L = 1, D)
            int[] ids = lsh.hash(qk, rotations, null, heads).toIntArray();               // (H, K, 1), round offsets included
            for (int h = 0; h < heads; h++) {
                for (int r = 0; r < rounds; r++) {
                    int bucket = ids[h * rounds + r] - r * bucketsPerRound;
                    int rank = 0;
                    for (int b = 0; b <= bucket; b++) {
                        rank += countOf[h][r][b];
                    }
                    countOf[h][r][bucket]++;
                    if (t + 1 > sorted[h][r].length) {
                        sorted[h][r] = Arrays.copyOf(sorted[h][r], 2 * sorted[h][r].length);
                    }
                    int[] order = sorted[h][r];
                    System.arraycopy(order, rank, order, rank + 1, t - rank);
                    order[rank] = t;
                    newestRank[h][r] = rank;
                }
            }
        }

        @Override
        int rankOf(int h, int r, int t) {
            return newestRank[h][r];
        }

        @Override
        int positionAt(int h, int r, int rank) {
            return sorted[h][r][rank];
        }
    }
}
