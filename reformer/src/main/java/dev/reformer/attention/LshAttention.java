package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.kernels.Gemm;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;
import java.util.OptionalDouble;

/**
 * Locality-sensitive-hashing attention (Kitaev et al. 2020, sections 2 and 3).
 *
 * <p>Each query attends only to keys that hash to the same bucket, found by sorting: with shared
 * queries and keys ({@code k^ = q / ||q||}), nearby vectors tend to share a random-rotation
 * bucket. The stages, each a method below:
 * <ol>
 *   <li>{@link #hash}: per round k, {@code bucket = argmax(concat(x R_k, -x R_k))}, plus the round offset k*NB;</li>
 *   <li>{@link #sortByBucket}: sort the K*L items by {@code L * bucket + position};</li>
 *   <li>{@link Chunks#chunk}: cut the sorted items into chunks of C;</li>
 *   <li>{@link Chunks#lookAround}: each chunk also sees {@code chunksBefore} chunks back and
 *       {@code chunksAfter} ahead, cyclically over all K*L items;</li>
 *   <li>{@link Chunks#attend}: softmax attention inside the window, masks by original position;</li>
 *   <li>{@link #undoSort}: outputs and logsumexps back to the original order;</li>
 *   <li>{@link #combineRounds}: {@code out = sum_k softmax_k(lse_k) * out_k}.</li>
 * </ol>
 * Rotations are drawn afresh at every call from the caller's generator, one set per example and
 * head, or one per head shared by the batch ({@code rotationsSharedByBatch}); or supplied.
 *
 * <pre>{@code
 * LshAttention lsh = LshAttention.builder().hashes(2).buckets(8).chunkLength(16).causal(true).build();
 * Variable out = lsh.attend(qk, qk, v, null, new Generator(7));   // qk, v: (B, H, L, D)
 * }</pre>
 */
public final class LshAttention implements Attention {
    private final int hashes;
    private final int[] bucketFactors;
    private final int buckets;
    private final int chunkLength;
    private final int chunksBefore;
    private final int chunksAfter;
    private final boolean causal;
    private final double selfMaskValue;
    private final double logitScale;
    private final boolean dedupeRounds;
    private final boolean rotationsSharedByBatch;
    private final ChunkedAttentionDevice device;

    private LshAttention(Builder b) {
        this.hashes = b.hashes;
        this.bucketFactors = b.bucketFactors.clone();
        this.buckets = Arrays.stream(b.bucketFactors).reduce(1, (x, y) -> x * y);
        this.chunkLength = b.chunkLength;
        this.chunksBefore = b.chunksBefore;
        this.chunksAfter = b.chunksAfter;
        this.causal = b.causal;
        this.selfMaskValue = b.selfMaskValue;
        this.logitScale = b.logitScale;
        this.dedupeRounds = b.dedupeRounds;
        this.rotationsSharedByBatch = b.rotationsSharedByBatch;
        this.device = b.device == null ? null : ChunkedAttentionDevice.named(b.device);
    }

    public static Builder builder() {
        return new Builder();
    }

    public int hashes() {
        return hashes;
    }

    /** NB, the number of buckets per round (the product of the factors). */
    public int buckets() {
        return buckets;
    }

    public int chunkLength() {
        return chunkLength;
    }

    @Override
    public boolean sharesQueryKey() {
        return true;
    }

    /** Rotations for one call, (R, H, D, K, S) with R = 1 or B and S = sum of factors / 2, drawn from {@code rng}. */
    public Tensor drawRotations(Generator rng, DType dtype, long batch, long heads, long dim) {
        long perRound = Arrays.stream(bucketFactors).sum() / 2;
        return rng.normal(dtype, 0, 1, rotationsSharedByBatch ? 1 : batch, heads, dim, hashes, perRound);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, Tensor padding, Generator rng) {
        return attend(q, k, v, padding, rng, null);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, Tensor padding, Generator rng, HashReplay replay) {
        AttentionShapes.check("LSH attention", q, k, v, padding, true);
        long[] s = q.shape();
        return run(q, v, padding, drawRotations(rng, q.dtype(), s[0], s[1], s[3]), replay);
    }

    /**
     * LSH attention with given rotations: the fused op ({@link ChunkedAttention}), or, when a
     * trace is asked for, the stage-by-stage composition that fills it.
     *
     * @param qk        shared queries and keys (B, H, L, D)
     * @param v         values (B, H, L, D)
     * @param padding   (B, L) bool, true at padded positions, or null
     * @param rotations (R, H, D, K, S), R = 1 (shared by the batch) or B
     * @param trace     filled with every stage's result when not null (for the probe and its picture)
     */
    public Variable attendWithRotations(Variable qk, Variable v, Tensor padding, Tensor rotations, Trace trace) {
        return trace == null ? run(qk, v, padding, rotations, null) : attendStageByStage(qk, v, padding, rotations, trace);
    }

    /** The fused path: hash, sort, then one op for chunking, attending and combining the rounds. */
    private Variable run(Variable qk, Variable v, Tensor padding, Tensor rotations, HashReplay replay) {
        Prepared p = prepare(qk, v, padding, rotations, replay);
        ChunkedAttentionProblem problem = new ChunkedAttentionProblem(spec(), (int) p.n, (int) p.length, (int) p.dim,
                p.order.sorted(), p.paddingPerHead == null ? null : toBooleans(p.paddingPerHead));
        Variable out = ChunkedAttention.apply(problem, device, p.qk3, p.v3);             // (N, L, D)
        return out.reshape(qk.shape());
    }

    @Override
    public IncrementalAttention incremental(int heads, int dim, DType dtype, Generator rng) {
        Tensor rotations = drawRotations(rng, dtype, 1, heads, dim);
        return new IncrementalAttention.Lsh(this, spec(), rotations,
                Arrays.stream(bucketFactors).reduce(1, (a, b) -> a * b), heads, dim);
    }

    /** The contract the fused op implements, from this attention's settings. */
    ChunkedAttentionSpec spec() {
        return new ChunkedAttentionSpec(hashes, chunkLength, chunksBefore, chunksAfter, true, causal, logitScale,
                selfMaskValue, dedupeRounds);
    }

    /**
     * The same attention composed stage by stage from primitives, each stage a method named after
     * the paper: the reference the fused op is tested against, and what the probe explains.
     */
    public Variable attendStageByStage(Variable qk, Variable v, Tensor padding, Tensor rotations, Trace trace) {
        Prepared p = prepare(qk, v, padding, rotations, null);
        long n = p.n;
        long length = p.length;
        long dim = p.dim;
        int items = Math.toIntExact(hashes * length);
        SortOrder order = p.order;
        Variable qk3 = p.qk3;
        Tensor paddingPerHead = p.paddingPerHead;
        Variable queries = Chunks.chunk(qk3.gather(1, order.positions()), chunkLength);  // (N, n, C, D)
        Variable keys = Chunks.chunk(Masks.normalize(qk3).gather(1, order.positions()), chunkLength); // (N, n, C, D)
        Variable values = Chunks.chunk(p.v3.gather(1, order.positions()), chunkLength); // (N, n, C, D)
        Tensor queryPositions = Chunks.chunk(order.positions(), chunkLength);           // (N, n, C)
        Tensor keyPositions = Chunks.lookAround(queryPositions, chunksBefore, chunksAfter); // (N, n, W*C)
        Tensor keyPadding = paddingPerHead == null ? null : Chunks.lookAround(
                Chunks.chunk(paddingPerHead.gather(1, order.positions()), chunkLength), chunksBefore, chunksAfter); // (N, n, W*C)
        Tensor logCounts = dedupeRounds ? DuplicateCounts.logCounts(order.undoSortIndex(), queryPositions,
                keyPositions, hashes, (int) length, qk.dtype()) : null;                  // (N, n, C, W*C)

        Chunks.Attended attended = Chunks.attend(queries,
                Chunks.lookAround(keys, chunksBefore, chunksAfter),                       // (N, n, W*C, D)
                Chunks.lookAround(values, chunksBefore, chunksAfter),
                new Chunks.Window(queryPositions, keyPositions, keyPadding, null),
                new Chunks.Scoring(causal, logitScale, OptionalDouble.of(selfMaskValue)), logCounts);

        Variable out = undoSort(attended.out().reshape(n, items, dim), order);           // (N, K*L, D)
        Variable lse = undoSort(attended.logsumexp().reshape(n, items, 1), order);       // (N, K*L, 1)
        Variable roundWeights = Functional.softmax(lse.reshape(n, hashes, length, 1), 1); // (N, K, L, 1)
        Variable combined = combineRounds(out.reshape(n, hashes, length, dim), roundWeights); // (N, L, D)
        if (trace != null) {
            trace.record(p.bucketIds, order, keyPositions, attended.weights(), roundWeights.data(), length);
        }
        return combined.reshape(qk.shape());
    }

    /** What both paths start from: inputs per (example, head) row, the buckets and their sorted order. */
    private record Prepared(long n, long length, long dim, Variable qk3, Variable v3, Tensor paddingPerHead,
            Tensor bucketIds, SortOrder order) {
    }

    private Prepared prepare(Variable qk, Variable v, Tensor padding, Tensor rotations, HashReplay replay) {
        AttentionShapes.check("LSH attention", qk, qk, v, padding, true);
        long[] s = qk.shape();
        long batch = s[0];
        long heads = s[1];
        long length = s[2];
        long dim = s[3];
        checkLength(length);
        checkRotations(rotations, batch, heads, dim);
        long n = batch * heads;
        Variable qk3 = qk.reshape(n, length, dim);                                       // (N, L, D)
        Variable v3 = v.reshape(n, length, dim);
        Tensor paddingPerHead = padding == null ? null
                : padding.reshape(batch, 1, length).expand(batch, heads, length).reshape(n, length); // (N, L)
        Tensor bucketIds = replay == null ? hash(qk3.data(), rotations, paddingPerHead, heads)
                : replay.buckets(() -> hash(qk3.data(), rotations, paddingPerHead, heads)); // (N, K, L)
        return new Prepared(n, length, dim, qk3, v3, paddingPerHead, bucketIds, sortByBucket(bucketIds));
    }

    /**
     * Bucket of every item, (N, K, L) int32: for round k, {@code argmax(concat(x R_k, -x R_k))}
     * (index j < NB/2 means +(x R_k)[j]), one argmax per factor when NB is factorised
     * ({@code bucket = b_1 + f_1 * b_2 + f_1 f_2 * b_3 ...}), plus the round offset. Padded
     * positions get a bucket of their own, NB, and then the offset is k * (NB + 1).
     *
     * <p>Hashed in blocks of positions: each block's projections {@code x R} (in the input's
     * dtype) are reduced to their argmaxes and dropped, so memory stays linear in L although the
     * projections of the whole sequence, L x K x NB/2 values, grow as L^2 when NB grows with L.
     * (Time still grows as L x NB: with NB proportional to L that is L^2, as in every
     * implementation; at L = 64K, NB = 1024 it is a quarter of an LSH-4 call.)
     */
    Tensor hash(Tensor qk, Tensor rotations, Tensor paddingPerHead, long heads) {
        long[] s = qk.shape();
        int n = Math.toIntExact(s[0]);
        int length = Math.toIntExact(s[1]);
        int dim = Math.toIntExact(s[2]);
        int perRound = Math.toIntExact(rotations.size(4));
        int columns = hashes * perRound;
        Tensor matrices = rotations.cast(qk.dtype()).reshape(rotations.size(0) * heads, dim, columns); // (R*H, D, K*S)
        boolean[] padded = paddingPerHead == null ? null : toBooleans(paddingPerHead);
        int[] ids = new int[n * hashes * length];
        Buckets buckets = new Buckets(ids, padded, length, perRound);
        if (qk.dtype() == DType.FLOAT32) {
            hashFloat(qk.floats(), matrices.toFloatArray(), n, length, dim, columns, rotations.size(0) == 1, heads, buckets);
            return Tensor.of(ids, n, hashes, length);
        }
        // Float64: ND4J's BLAS products in blocks of positions (at most 1M projections in memory).
        int block = Math.max(1, Math.min(length, (1 << 20) / columns));
        for (int row = 0; row < n; row++) {
            int matrix = (int) (rotations.size(0) == 1 ? row % heads : row);
            Tensor r = matrices.slice(0, matrix, matrix + 1).reshape(dim, columns);
            for (int from = 0; from < length; from += block) {
                int to = Math.min(length, from + block);
                Tensor projected = qk.slice(0, row, row + 1).slice(1, from, to).reshape(to - from, dim).matmul(r); // (P, K*S)
                double[] values = projected.toDoubleArray();
                projected.free();
                for (int i = 0; i < to - from; i++) {
                    buckets.assign(row, from + i, values, i * columns);
                }
            }
        }
        return Tensor.of(ids, n, hashes, length);
    }

    /**
     * The float32 projections in blocks of 64 positions by {@link FloatGemm}, on both cores, each
     * block reduced to its buckets at once. Each projection sums over D in a fixed order with fused
     * multiply-adds, so the buckets do not depend on the machine's vector width or BLAS build.
     */
    private void hashFloat(java.nio.FloatBuffer qk, float[] matrices, int n, int length, int dim, int columns,
            boolean shared, long heads, Buckets buckets) {
        int block = 64;
        int blocksPerRow = (length + block - 1) / block;
        // Each (D, K*S) matrix repacked as panels of Gemm.panel() columns, (D, PANEL) contiguous
        // (zero-padded at the right end): its rows, K*S floats apart, would otherwise all fall in
        // one cache set when K*S is a power of two (2 GFLOP/s instead of 100 at K*S = 2048).
        int width = Gemm.panel();
        int panels = (columns + width - 1) / width;
        int count = matrices.length / (dim * columns);
        float[] packed = new float[count * panels * dim * width];
        for (int mtx = 0; mtx < count; mtx++) {
            for (int p = 0; p < panels; p++) {
                for (int d = 0; d < dim; d++) {
                    int cols = Math.min(width, columns - p * width);
                    System.arraycopy(matrices, (mtx * dim + d) * columns + p * width, packed,
                            ((mtx * panels + p) * dim + d) * width, cols);
                }
            }
        }
        dev.reformer.tensor.kernels.Parallel.forEach(n * blocksPerRow, () -> new float[][] {new float[block * dim],
            new float[block * columns]}, (scratch, task) -> {
                int row = task / blocksPerRow;
                int from = (task % blocksPerRow) * block;
                int positions = Math.min(block, length - from);
                int matrix = (int) (shared ? row % heads : row);
                qk.get((row * length + from) * dim, scratch[0], 0, positions * dim);
                // (P, D) x (D, K*S), one panel of columns at a time
                for (int p = 0; p < panels; p++) {
                    Gemm.gemm(positions, Math.min(width, columns - p * width), dim, 1f, scratch[0], 0, dim, 1, packed,
                            (matrix * panels + p) * dim * width, width, scratch[1], p * width, columns, false);
                }
                for (int i = 0; i < positions; i++) {
                    buckets.assign(row, from + i, scratch[1], i * columns);
                }
            });
    }

    /** Where a hash writes its buckets, and how a position's projections become its K buckets. */
    private final class Buckets {
        private final int[] ids;       // (N, K, L)
        private final boolean[] padded;
        private final int length;
        private final int perRound;
        private final int perRoundBuckets;

        Buckets(int[] ids, boolean[] padded, int length, int perRound) {
            this.ids = ids;
            this.padded = padded;
            this.length = length;
            this.perRound = perRound;
            this.perRoundBuckets = buckets + (padded == null ? 0 : 1);
        }

        /** The K buckets of position t of row {@code row} from its projections {@code x[at .. at + K*S)}. */
        void assign(int row, int t, float[] x, int at) {
            boolean isPadding = padded != null && padded[row * length + t];
            for (int k = 0; k < hashes; k++) {
                int bucket = 0;
                int product = 1;
                int offset = at + k * perRound;
                for (int factor : bucketFactors) {
                    bucket += product * BucketArgmax.ofPlusMinus(x, offset, factor / 2);
                    product *= factor;
                    offset += factor / 2;
                }
                ids[(row * hashes + k) * length + t] = k * perRoundBuckets + (isPadding ? buckets : bucket);
            }
        }

        void assign(int row, int t, double[] x, int at) {
            boolean isPadding = padded != null && padded[row * length + t];
            for (int k = 0; k < hashes; k++) {
                int bucket = 0;
                int product = 1;
                int offset = at + k * perRound;
                for (int factor : bucketFactors) {
                    bucket += product * BucketArgmax.ofPlusMinus(x, offset, factor / 2);
                    product *= factor;
                    offset += factor / 2;
                }
                ids[(row * hashes + k) * length + t] = k * perRoundBuckets + (isPadding ? buckets : bucket);
            }
        }
    }

    /**
     * {@code argmax(concat(x, -x))} for {@code x = values[from .. from + half)}, without building
     * the concatenation: index j < half stands for +x[j], index half + j for -x[j]. The first
     * maximum wins, as with numpy's and PyTorch's argmax (see {@link BucketArgmax}).
     */
    static int argmaxOfPlusMinus(double[] values, int from, int half) {
        return BucketArgmax.ofPlusMinus(values, from, half);
    }

    /**
     * Sorts each row's K*L items by {@code L * bucket + position} (item {@code k*L + t} has
     * position t): the keys are distinct, so positions ascend within a bucket and rounds follow
     * each other. A counting sort over the bucket ids does it in O(K*L + buckets): items are
     * placed in item order, so within a bucket positions come out ascending.
     */
    public static SortOrder sortByBucket(Tensor bucketIds) {
        long[] s = bucketIds.shape();
        int n = Math.toIntExact(s[0]);
        int length = Math.toIntExact(s[2]);
        int items = Math.toIntExact(s[1] * length);
        int[] ids = bucketIds.toIntArray();
        int range = 0;
        for (int id : ids) {
            range = Math.max(range, id + 1);
        }
        int[] sorted = new int[ids.length];
        int[] start = new int[range + 1];
        for (int row = 0; row < n; row++) {
            java.util.Arrays.fill(start, 0);
            int base = row * items;
            for (int item = 0; item < items; item++) {
                start[ids[base + item] + 1]++;
            }
            for (int b = 0; b < range; b++) {
                start[b + 1] += start[b];
            }
            for (int item = 0; item < items; item++) {
                sorted[base + start[ids[base + item]]++] = item;
            }
        }
        return new SortOrder(n, items, length, sorted);
    }

    /** Sorted items back in item order (N, K*L, F), with the gradient of a permutation. */
    static Variable undoSort(Variable sorted, SortOrder order) {
        return new UndoSort(order.sortedIndex(), order.undoSortIndex()).apply(sorted);
    }

    /** {@code out = sum_k w_k out_k} over the rounds (axis 1), with {@code w = softmax_k(lse_k)}. */
    static Variable combineRounds(Variable outPerRound, Variable roundWeights) {
        return outPerRound.mul(roundWeights).sum(false, 1);
    }

    private void checkLength(long length) {
        long items = hashes * length;
        if (items % chunkLength != 0) {
            long padded = length;
            while ((hashes * padded) % chunkLength != 0) {
                padded++;
            }
            throw new ShapeException("LSH attention: K*L = " + hashes + "*" + length + " = " + items
                    + " items do not split into chunks of " + chunkLength + "; pad L to " + padded
                    + " (or choose a chunk length that divides " + items + ")");
        }
    }

    private void checkRotations(Tensor rotations, long batch, long heads, long dim) {
        long perRound = Arrays.stream(bucketFactors).sum() / 2;
        long[] r = rotations.shape();
        boolean fits = r.length == 5 && (r[0] == 1 || r[0] == batch) && r[1] == heads && r[2] == dim
                && r[3] == hashes && r[4] == perRound;
        if (!fits) {
            throw new ShapeException("LSH attention: rotations" + Shapes.str(r) + " must have shape (R, H, D, K, NB/2) = "
                    + "(1 or " + batch + "," + heads + "," + dim + "," + hashes + "," + perRound + ")");
        }
    }

    private static boolean[] toBooleans(Tensor mask) {
        long[] values = mask.toLongArray();
        boolean[] out = new boolean[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i] != 0;
        }
        return out;
    }

    /**
     * The sort of one call: {@code sorted[n * K*L + s]} is the item (k*L + t) at sorted slot s.
     * The stage-by-stage path reads it as (N, K*L) int64 tensors: {@link #sortedIndex}, the items'
     * {@link #positions} t, and the inverse permutation {@link #undoSortIndex}.
     */
    public record SortOrder(int rows, int items, int length, int[] sorted) {
        public Tensor sortedIndex() {
            long[] out = new long[sorted.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = sorted[i];
            }
            return Tensor.of(out, rows, items);
        }

        public Tensor positions() {
            long[] out = new long[sorted.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = sorted[i] % length;
            }
            return Tensor.of(out, rows, items);
        }

        public Tensor undoSortIndex() {
            long[] out = new long[sorted.length];
            for (int row = 0; row < rows; row++) {
                for (int slot = 0; slot < items; slot++) {
                    out[row * items + sorted[row * items + slot]] = slot;
                }
            }
            return Tensor.of(out, rows, items);
        }
    }

    /** Builds an {@link LshAttention}; defaults follow the paper: 1 chunk back, none ahead, scale 1, self mask -1e5. */
    public static final class Builder {
        private int hashes = 1;
        private int[] bucketFactors = {2};
        private int chunkLength = 64;
        private int chunksBefore = 1;
        private int chunksAfter = 0;
        private boolean causal = false;
        private double selfMaskValue = Masks.SELF_MASK_VALUE;
        private double logitScale = 1.0;
        private boolean dedupeRounds = false;
        private String device;
        private boolean rotationsSharedByBatch = false;

        /** K, the number of hash rounds. */
        public Builder hashes(int k) {
            this.hashes = k;
            return this;
        }

        /** NB buckets per round (even), hashed with one argmax. */
        public Builder buckets(int nb) {
            this.bucketFactors = new int[] {nb};
            return this;
        }

        /** NB = product of even factors, one argmax per factor (the reference code's factorised hashing). */
        public Builder bucketFactors(int... factors) {
            this.bucketFactors = factors.clone();
            return this;
        }

        public Builder chunkLength(int c) {
            this.chunkLength = c;
            return this;
        }

        public Builder chunksBefore(int before) {
            this.chunksBefore = before;
            return this;
        }

        public Builder chunksAfter(int after) {
            this.chunksAfter = after;
            return this;
        }

        public Builder causal(boolean on) {
            this.causal = on;
            return this;
        }

        public Builder selfMaskValue(double value) {
            this.selfMaskValue = value;
            return this;
        }

        /** Logits are {@code scale * q . k^}: 1 is the paper's choice, {@code D^-0.5} matches implementations that scale again. */
        public Builder logitScale(double scale) {
            this.logitScale = scale;
            return this;
        }

        /** Subtract log(count) for keys seen in several rounds' windows (paper eq. 16). */
        public Builder dedupeRounds(boolean on) {
            this.dedupeRounds = on;
            return this;
        }

        /**
         * Runs the chunked attention on the named device ({@code "cuda"}: the cuda-kernels module's
         * GPU kernels; null: the CPU), copying data to and from it; hashing and sorting stay on the
         * CPU. Throws at {@link #build} when no such device is on the class path or it cannot run
         * here, saying why.
         */
        public Builder device(String name) {
            this.device = name;
            return this;
        }

        public Builder rotationsSharedByBatch(boolean on) {
            this.rotationsSharedByBatch = on;
            return this;
        }

        public LshAttention build() {
            if (hashes < 1) {
                throw new IllegalArgumentException("LSH attention: hash rounds K = " + hashes + " must be at least 1");
            }
            if (bucketFactors.length == 0) {
                throw new IllegalArgumentException("LSH attention: give a bucket count (or its factors)");
            }
            for (int f : bucketFactors) {
                if (f < 2 || f % 2 != 0) {
                    throw new IllegalArgumentException("LSH attention: bucket count " + f + " must be even and at least 2"
                            + " (each bucket is a direction +r or -r of a random rotation)");
                }
            }
            if (chunkLength < 1 || chunksBefore < 0 || chunksAfter < 0) {
                throw new IllegalArgumentException("LSH attention: chunk length " + chunkLength + " must be >= 1 and"
                        + " chunks before/after (" + chunksBefore + "/" + chunksAfter + ") >= 0");
            }
            if (!Double.isFinite(selfMaskValue) || !Double.isFinite(logitScale)) {
                throw new IllegalArgumentException("LSH attention: self-mask value " + selfMaskValue + " and logit scale "
                        + logitScale + " must be finite");
            }
            return new LshAttention(this);
        }
    }
}
