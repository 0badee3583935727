package dev.reformer.attention;

import dev.reformer.tensor.Tensor;
import java.util.Arrays;

/**
 * Causal attention one position at a time, for generation: keeps every earlier position's keys
 * and values (and, for LSH, its buckets and each round's sorted order), and computes the newest
 * position's output over the keys its window holds, which costs one window of keys (C(1 + before
 * + after) per LSH round, or the chunk's neighbours for local attention) instead of a pass over
 * the whole sequence. Full attention still reads every earlier key, but not the earlier queries.
 *
 * <p>The output for position t is the one the variant's {@code attend} gives position t of a
 * sequence of t + 1 positions, padded to {@code paddedLength} (as {@code ReformerLM} pads), given
 * the same keys and values: the same window slots, masks and round weights as
 * {@link ChunkedAttentionReference}, summed in double precision. For LSH the window depends on
 * the buckets of all positions up to t, so an LSH layer's output for an earlier position can change
 * as later positions arrive; a cached decoder keeps the output it had when computed. The two
 * agree exactly when no LSH layer feeds another attention layer (see {@code ReformerLM.Decoder}).
 */
public final class IncrementalAttention {
    private final ChunkedAttentionSpec spec;   // LSH and local attention; null for full attention
    private final boolean full;
    private final boolean causal;
    private final boolean shared;
    private final double scale;
    private final double selfMaskValue;
    private final LshAttention lsh;            // null unless LSH
    private final Tensor rotations;            // (1, H, D, K, S) for LSH
    private final int bucketsPerRound;
    private final int heads;
    private final int dim;
    private float[][] keys;                    // per head, (positions, D): normalised when queries double as keys
    private float[][] values;
    private int[][][] sorted;                  // LSH: per head and round, positions sorted by (bucket, position)
    private int[][][] bucketOf;                // LSH: per head and round, each position's bucket
    private int length;

    private IncrementalAttention(ChunkedAttentionSpec spec, boolean full, boolean causal, boolean shared, double scale,
            double selfMaskValue, LshAttention lsh, Tensor rotations, int bucketsPerRound, int heads, int dim) {
        this.spec = spec;
        this.full = full;
        this.causal = causal;
        this.shared = shared;
        this.scale = scale;
        this.selfMaskValue = selfMaskValue;
        this.lsh = lsh;
        this.rotations = rotations;
        this.bucketsPerRound = bucketsPerRound;
        this.heads = heads;
        this.dim = dim;
        int capacity = 64;
        this.keys = new float[heads][capacity * dim];
        this.values = new float[heads][capacity * dim];
        int rounds = spec == null ? 1 : spec.rounds();
        this.sorted = new int[heads][rounds][capacity];
        this.bucketOf = new int[heads][rounds][capacity];
    }

    static IncrementalAttention lsh(LshAttention lsh, ChunkedAttentionSpec spec, Tensor rotations, int bucketsPerRound,
            int heads, int dim) {
        if (spec.dedupe()) {
            throw new UnsupportedOperationException("incremental LSH attention does not implement the duplicate correction");
        }
        return new IncrementalAttention(spec, false, spec.causal(), spec.sharedQk(), spec.scale(), spec.selfMaskValue(), lsh,
                rotations, bucketsPerRound, heads, dim);
    }

    static IncrementalAttention local(ChunkedAttentionSpec spec, int heads, int dim) {
        return new IncrementalAttention(spec, false, spec.causal(), spec.sharedQk(), spec.scale(), spec.selfMaskValue(), null,
                null, 0, heads, dim);
    }

    static IncrementalAttention full(boolean causal, double scale, double selfMaskValue, int heads, int dim) {
        return new IncrementalAttention(null, true, causal, !Double.isNaN(selfMaskValue), scale, selfMaskValue, null, null, 0,
                heads, dim);
    }

    /** The number of positions seen so far. */
    public int length() {
        return length;
    }

    /**
     * Takes the newest position's query, key and value (each H*D, head-major; {@code k} is ignored
     * when queries double as keys) and returns its attention output (H*D).
     *
     * @param paddedLength the length the whole sequence, this position included, is padded to
     */
    public float[] next(float[] q, float[] k, float[] v, int paddedLength) {
        if (!causal) {
            throw new IllegalStateException("incremental attention needs a causal attention: a non-causal one reads later"
                    + " positions");
        }
        int t = length;
        if (paddedLength <= t) {
            throw new IllegalArgumentException("padded length " + paddedLength + " must exceed the position " + t);
        }
        grow(t + 1);
        int[][] buckets = spec != null && lsh != null ? hash(q) : null;
        for (int h = 0; h < heads; h++) {
            float[] key = Arrays.copyOfRange(shared ? q : k, h * dim, (h + 1) * dim);
            if (shared) {
                normalize(key);
            }
            System.arraycopy(key, 0, keys[h], t * dim, dim);
            System.arraycopy(v, h * dim, values[h], t * dim, dim);
            if (buckets != null) {
                for (int r = 0; r < spec.rounds(); r++) {
                    insert(h, r, t, buckets[h][r]);
                }
            }
        }
        length = t + 1;
        float[] out = new float[heads * dim];
        for (int h = 0; h < heads; h++) {
            double[] o = full ? attendAll(h, q, t) : attendWindows(h, q, t, paddedLength);
            for (int e = 0; e < dim; e++) {
                out[h * dim + e] = (float) o[e];
            }
        }
        return out;
    }

    /** The newest position's bucket in each round, per head: the same hash as the whole-sequence call. */
    private int[][] hash(float[] q) {
        Tensor qk = Tensor.of(q, heads, 1, dim);                                          // (N = H, L = 1, D)
        int[] ids = lsh.hash(qk, rotations, null, heads).toIntArray();                    // (H, K, 1), round offsets included
        int rounds = spec.rounds();
        int[][] b = new int[heads][rounds];
        for (int h = 0; h < heads; h++) {
            for (int r = 0; r < rounds; r++) {
                b[h][r] = ids[h * rounds + r] - r * bucketsPerRound;
            }
        }
        return b;
    }

    /** Inserts position t (the largest so far) into round r's order, after every position of a bucket up to its own. */
    private void insert(int h, int r, int t, int bucket) {
        int[] order = sorted[h][r];
        int at = 0;
        for (int i = 0; i < t; i++) {
            if (bucketOf[h][r][order[i]] <= bucket) {
                at++;
            }
        }
        System.arraycopy(order, at, order, at + 1, t - at);
        order[at] = t;
        bucketOf[h][r][t] = bucket;
    }

    /** LSH and local attention: each round's window of the sorted order, then the rounds' softmax-weighted sum. */
    private double[] attendWindows(int h, float[] q, int t, int paddedLength) {
        int rounds = spec.rounds();
        int c = spec.chunkLength();
        int chunks = rounds * paddedLength / c;
        double[][] outs = new double[rounds][];
        double[] lse = new double[rounds];
        int windowChunks = spec.chunksBefore() + 1 + spec.chunksAfter();
        for (int r = 0; r < rounds; r++) {
            int rank = lsh == null ? t : indexOf(sorted[h][r], t);
            int chunk = (r * paddedLength + rank) / c;
            int[] positions = new int[windowChunks * c];
            int count = 0;
            for (int w = 0; w < windowChunks; w++) {
                int neighbour = chunk + w - spec.chunksBefore();
                if (!spec.cyclic() && (neighbour < 0 || neighbour >= chunks)) {
                    continue;                                         // outside a non-cyclic sequence: forbidden
                }
                int first = Math.floorMod(neighbour, chunks) * c;
                for (int j = 0; j < c; j++) {
                    int slot = first + j;
                    int slotRank = slot % paddedLength;
                    if (slotRank > t) {
                        continue;                                     // padding (LSH: the end of each round) or later
                    }
                    positions[count++] = lsh == null ? slot : sorted[h][slot / paddedLength][slotRank];
                }
            }
            double[] o = new double[dim];
            lse[r] = softmaxSum(h, q, t, positions, count, o);
            outs[r] = o;
        }
        if (rounds == 1) {
            return outs[0];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double l : lse) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (double l : lse) {
            sum += Math.exp(l - max);
        }
        double[] out = new double[dim];
        for (int r = 0; r < rounds; r++) {
            double w = Math.exp(lse[r] - max) / sum;
            for (int e = 0; e < dim; e++) {
                out[e] += w * outs[r][e];
            }
        }
        return out;
    }

    private double[] attendAll(int h, float[] q, int t) {
        int[] positions = new int[t + 1];
        for (int p = 0; p <= t; p++) {
            positions[p] = p;
        }
        double[] o = new double[dim];
        softmaxSum(h, q, t, positions, t + 1, o);
        return o;
    }

    /**
     * Softmax over the keys at {@code positions} (repeats count again, as in the windows of the
     * whole-sequence call) of query t; adds the weighted values to {@code out}, returns the logsumexp.
     * Later positions are forbidden by the causal mask; their weight would be exactly 0.
     */
    private double softmaxSum(int h, float[] q, int t, int[] positions, int count, double[] out) {
        double[] logits = new double[count];
        double max = Double.NEGATIVE_INFINITY;
        int kept = 0;
        int[] at = new int[count];
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
            logits[kept] = logit;
            at[kept++] = p;
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            logits[i] = Math.exp(logits[i] - max);
            sum += logits[i];
        }
        for (int i = 0; i < kept; i++) {
            double w = logits[i] / sum;
            for (int e = 0; e < dim; e++) {
                out[e] += w * values[h][at[i] * dim + e];
            }
        }
        return max + Math.log(sum);
    }

    private static int indexOf(int[] order, int position) {
        for (int i = 0; ; i++) {
            if (order[i] == position) {
                return i;
            }
        }
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

    private void grow(int needed) {
        int capacity = keys[0].length / dim;
        if (needed <= capacity) {
            return;
        }
        int next = Math.max(needed, 2 * capacity);
        for (int h = 0; h < heads; h++) {
            keys[h] = Arrays.copyOf(keys[h], next * dim);
            values[h] = Arrays.copyOf(values[h], next * dim);
            for (int r = 0; r < sorted[h].length; r++) {
                sorted[h][r] = Arrays.copyOf(sorted[h][r], next);
                bucketOf[h][r] = Arrays.copyOf(bucketOf[h][r], next);
            }
        }
    }
}
