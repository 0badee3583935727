package dev.reformer.model;

import dev.reformer.tensor.DType;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Everything that defines a {@link ReformerLM}, validated when built: {@link Builder#build}
 * throws a {@link ConfigException} naming the setting and the fix.
 *
 * <pre>{@code
 * ReformerConfig config = ReformerConfig.builder()
 *         .vocabSize(256).dModel(128).dFf(256).heads(4).layers(4)
 *         .attention(AttentionType.LOCAL, AttentionType.LOCAL, AttentionType.LOCAL, AttentionType.LSH)
 *         .maxLength(4096).axialShape(64, 64).axialDims(64, 64)
 *         .lshHashes(2).lshBuckets(64).lshChunkLength(64).localChunkLength(64)
 *         .causal(true).build();
 * }</pre>
 */
public record ReformerConfig(
        int vocabSize, int dModel, int dFf, int heads, int headDim, int layers, List<AttentionType> attention,
        int maxLength, long[] axialShape, long[] axialDims,
        boolean causal,
        int lshHashes, int[] lshBucketFactors, int lshChunkLength, int lshChunksBefore, int lshChunksAfter,
        boolean lshDedupeRounds, boolean lshRotationsSharedByBatch, double lshLogitScale,
        int localChunkLength, int localChunksBefore, int localChunksAfter,
        double selfMaskValue, double dropout, FeedForward.Activation activation, int ffChunks, int outputChunks,
        boolean reversible, boolean autoPad, DType dtype, long seed, boolean sharedQueryKey, boolean ordinaryResidual) {

    /** Attention variant of a layer. */
    public enum AttentionType {
        LSH, LOCAL, FULL;

        public static AttentionType parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("attention type '" + name + "' is unknown: use lsh, local or full");
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The attention variant of layer {@code i} (the list repeats over the layers). */
    public AttentionType attentionOf(int layer) {
        return attention.get(layer % attention.size());
    }

    /** Every sequence length must be a multiple of this: the least common multiple of the chunk lengths in use. */
    public int lengthMultiple() {
        int m = 1;
        for (int i = 0; i < layers; i++) {
            switch (attentionOf(i)) {
                case LSH -> m = lcm(m, lshChunkLength);
                case LOCAL -> m = lcm(m, localChunkLength);
                case FULL -> { }
            }
        }
        return m;
    }

    /** The longest padded sequence: max length rounded up to {@link #lengthMultiple()}. */
    public int paddedMaxLength() {
        int m = lengthMultiple();
        return (maxLength + m - 1) / m * m;
    }

    public int lshBuckets() {
        return Arrays.stream(lshBucketFactors).reduce(1, (a, b) -> a * b);
    }

    private static int lcm(int a, int b) {
        return a / gcd(a, b) * b;
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Builds and validates a configuration. Defaults: a small causal LSH language model. */
    public static final class Builder {
        private int vocabSize = 256;
        private int dModel = 64;
        private int dFf = 128;
        private int heads = 2;
        private int headDim = 0;
        private int layers = 2;
        private List<AttentionType> attention = List.of(AttentionType.LSH);
        private int maxLength = 1024;
        private long[] axialShape;
        private long[] axialDims;
        private boolean causal = true;
        private int lshHashes = 2;
        private int[] lshBucketFactors;
        private int lshChunkLength = 64;
        private int lshChunksBefore = 1;
        private int lshChunksAfter = 0;
        private boolean lshDedupeRounds = false;
        private boolean lshRotationsSharedByBatch = false;
        private double lshLogitScale = 1.0;
        private int localChunkLength = 64;
        private int localChunksBefore = 1;
        private int localChunksAfter = 0;
        private double selfMaskValue = -1e5;
        private double dropout = 0.0;
        private FeedForward.Activation activation = FeedForward.Activation.GELU;
        private int ffChunks = 1;
        private int outputChunks = 1;
        private boolean reversible = true;
        private boolean ordinaryResidual = false;
        private boolean autoPad = true;
        private DType dtype = DType.FLOAT32;
        private long seed = 0;
        private boolean sharedQueryKey = false;

        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder dModel(int d) { dModel = d; return this; }
        public Builder dFf(int d) { dFf = d; return this; }
        public Builder heads(int h) { heads = h; return this; }
        /** Per-head width; 0 (the default) means dModel / heads. */
        public Builder headDim(int d) { headDim = d; return this; }
        public Builder layers(int n) { layers = n; return this; }
        /** Attention variant per layer, repeated over the layers (lsh, local, local, lsh, ...). */
        public Builder attention(AttentionType... types) { attention = List.of(types); return this; }
        public Builder maxLength(int l) { maxLength = l; return this; }
        /** Axial positional embeddings on an L1 x L2 grid; without this, a learned table of maxLength rows. */
        public Builder axialShape(long rows, long columns) { axialShape = new long[] {rows, columns}; return this; }
        /** Widths of the axial row and column vectors; they must add up to dModel (default: half each). */
        public Builder axialDims(long rowDim, long columnDim) { axialDims = new long[] {rowDim, columnDim}; return this; }
        public Builder causal(boolean on) { causal = on; return this; }
        public Builder lshHashes(int k) { lshHashes = k; return this; }
        /** Buckets per LSH round (even); default 2 * maxLength / chunk length, as in the paper. */
        public Builder lshBuckets(int nb) { lshBucketFactors = new int[] {nb}; return this; }
        public Builder lshBucketFactors(int... f) { lshBucketFactors = f.clone(); return this; }
        public Builder lshChunkLength(int c) { lshChunkLength = c; return this; }
        public Builder lshChunksBefore(int n) { lshChunksBefore = n; return this; }
        public Builder lshChunksAfter(int n) { lshChunksAfter = n; return this; }
        public Builder lshDedupeRounds(boolean on) { lshDedupeRounds = on; return this; }
        public Builder lshRotationsSharedByBatch(boolean on) { lshRotationsSharedByBatch = on; return this; }
        public Builder lshLogitScale(double s) { lshLogitScale = s; return this; }
        public Builder localChunkLength(int c) { localChunkLength = c; return this; }
        public Builder localChunksBefore(int n) { localChunksBefore = n; return this; }
        public Builder localChunksAfter(int n) { localChunksAfter = n; return this; }
        public Builder selfMaskValue(double v) { selfMaskValue = v; return this; }
        public Builder dropout(double rate) { dropout = rate; return this; }
        public Builder activation(FeedForward.Activation a) { activation = a; return this; }
        /** Run the feed-forward in this many pieces along the sequence (same result, less memory). */
        public Builder ffChunks(int n) { ffChunks = n; return this; }
        /** Run the final norm and output projection in this many pieces along the sequence. */
        public Builder outputChunks(int n) { outputChunks = n; return this; }
        /** Reversible blocks (no stored activations) or plain ones. */
        public Builder reversible(boolean on) { reversible = on; return this; }
        /**
         * With {@code reversible(false)}: ordinary residual blocks, one stream of width d,
         * {@code h = h + Attention(h); h = h + FeedForward(h)} (a standard Transformer, the paper's
         * baseline in Figure 3), instead of the reversible function with its activations stored.
         */
        public Builder ordinaryResidual(boolean on) { ordinaryResidual = on; return this; }
        /** Pad every input to a multiple of the chunk lengths, masking the padding, instead of refusing it. */
        public Builder autoPad(boolean on) { autoPad = on; return this; }
        public Builder dtype(DType d) { dtype = d; return this; }
        /** Seed of the parameters' initialisation and of the model's own random stream. */
        public Builder seed(long s) { seed = s; return this; }
        /**
         * Full and local attention with one shared query/key projection (keys normalised, own
         * position masked), as LSH attention always has: then an LSH model can be evaluated with
         * full attention and back (the paper's Table 2). Default: separate queries and keys.
         */
        public Builder sharedQueryKey(boolean on) { sharedQueryKey = on; return this; }

        public ReformerConfig build() {
            positive("vocab size", vocabSize);
            positive("d_model", dModel);
            positive("d_ff", dFf);
            positive("heads", heads);
            positive("layers", layers);
            positive("max length", maxLength);
            positive("LSH hash rounds", lshHashes);
            positive("LSH chunk length", lshChunkLength);
            positive("local chunk length", localChunkLength);
            positive("feed-forward chunks", ffChunks);
            positive("output chunks", outputChunks);
            if (attention.isEmpty()) {
                throw new ConfigException("attention: give at least one attention type (lsh, local or full)");
            }
            if (reversible && ordinaryResidual) {
                throw new ConfigException("reversible and ordinary residual blocks exclude each other: set reversible(false)"
                        + " for ordinary residual blocks");
            }
            int perHead = headDim;
            if (perHead == 0) {
                if (dModel % heads != 0) {
                    throw new ConfigException("d_model " + dModel + " is not divisible by " + heads
                            + " heads: set the head width explicitly (headDim) or change the number of heads");
                }
                perHead = dModel / heads;
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new ConfigException("dropout " + dropout + " must be in [0, 1)");
            }
            nonNegative("LSH chunks before", lshChunksBefore);
            nonNegative("LSH chunks after", lshChunksAfter);
            nonNegative("local chunks before", localChunksBefore);
            nonNegative("local chunks after", localChunksAfter);
            nonNegative("head width (0 for d_model / heads)", headDim);
            if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
                throw new ConfigException("dtype " + dtype.label() + " cannot hold parameters: use float32 or float64");
            }
            int[] factors = lshBucketFactors;
            if (factors == null) {
                int nb = Math.max(2, 2 * maxLength / lshChunkLength);
                factors = new int[] {nb % 2 == 0 ? nb : nb + 1};
            }
            for (int f : factors) {
                if (f < 2 || f % 2 != 0) {
                    throw new ConfigException("LSH bucket count " + f + " must be even and at least 2 (each bucket is"
                            + " one of the directions +r or -r of a random rotation): use " + Math.max(2, f + (f % 2)));
                }
            }
            long[] dims = axialDims;
            if (axialShape != null) {
                if (axialShape[0] < 1 || axialShape[1] < 1) {
                    throw new ConfigException("axial shape " + axialShape[0] + "x" + axialShape[1] + " must be positive");
                }
                if (dims == null) {
                    dims = new long[] {dModel / 2, dModel - dModel / 2};
                }
                if (dims[0] < 1 || dims[1] < 1 || dims[0] + dims[1] != dModel) {
                    throw new ConfigException("axial dims " + dims[0] + "+" + dims[1] + " must be positive and add up to"
                            + " d_model " + dModel);
                }
            } else if (dims != null) {
                throw new ConfigException("axial dims are set but no axial shape: set both, or neither for learned"
                        + " absolute positions");
            }
            ReformerConfig config = new ReformerConfig(vocabSize, dModel, dFf, heads, perHead, layers, attention,
                    maxLength, axialShape, dims, causal, lshHashes, factors, lshChunkLength, lshChunksBefore,
                    lshChunksAfter, lshDedupeRounds, lshRotationsSharedByBatch, lshLogitScale, localChunkLength,
                    localChunksBefore, localChunksAfter, selfMaskValue, dropout, activation, ffChunks, outputChunks,
                    reversible, autoPad, dtype, seed, sharedQueryKey, ordinaryResidual);
            int multiple = config.lengthMultiple();
            if (maxLength % multiple != 0 && !autoPad) {
                throw new ConfigException("max length " + maxLength + " is not a multiple of chunk length " + multiple
                        + ": use " + config.paddedMaxLength() + " or enable auto-padding");
            }
            if (axialShape != null && axialShape[0] * axialShape[1] < config.paddedMaxLength()) {
                throw new ConfigException("axial shape " + axialShape[0] + "x" + axialShape[1] + " = "
                        + axialShape[0] * axialShape[1] + " positions cannot cover max length " + config.paddedMaxLength()
                        + " (after padding to a multiple of " + multiple + "): choose a shape whose product is at least "
                        + config.paddedMaxLength());
            }
            return config;
        }

        private static void nonNegative(String what, int value) {
            if (value < 0) {
                throw new ConfigException(what + " is " + value + " but must be at least 0");
            }
        }

        private static void positive(String what, int value) {
            if (value < 1) {
                throw new ConfigException(what + " is " + value + " but must be at least 1");
            }
        }
    }
}
