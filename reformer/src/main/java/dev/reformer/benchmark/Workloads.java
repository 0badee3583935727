package dev.reformer.benchmark;

import dev.reformer.attention.Attention;
import dev.reformer.attention.FullAttention;
import dev.reformer.attention.LocalAttention;
import dev.reformer.attention.LshAttention;
import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.optim.Adam;
import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.Locale;

/**
 * The benchmarked workloads, each built from the same description the peer baseline
 * ({@code ../shared/peer/peer_bench.py}) takes, so that both sides run the same work:
 * <ul>
 *   <li>{@code lsh}, {@code local}, {@code full}: forward and backward of one attention head,
 *       D = 64, 16,384 tokens in all (B = 16384 / L; one sequence for longer L), chunk 64 (the peer's bucket size), NB = L / 64
 *       buckets, logits scaled by D^-0.5, a query's own position at -5e4 (the peer's values),
 *       rotations shared by the batch (the peer's default); full attention shares QK as the
 *       peer's FullQKAttention does;</li>
 *   <li>{@code dupstep}: one training step (forward, backward, Adam) of the duplication-task
 *       model: L = 256, vocab 128, one layer, d = 128, d_ff = 512, 4 heads of 32, LSH K = 2 with
 *       chunks of 32 (NB = 8), batch 16, causal, learned absolute positions;</li>
 *   <li>{@code lm}: forward and backward (no optimizer step, as the peer) of a ReformerLM with
 *       vocab 256, d = 256, d_ff = 1024, 6 layers, 4 heads of 64, L = 4096, LSH K = 4, chunk 64
 *       (NB = 64), causal, axial positions 64 x 64, feed-forward in 4 chunks.</li>
 * </ul>
 * Each step runs in a {@link MemoryScope}, as the trainer does.
 */
public final class Workloads {
    /** Tokens per attention benchmark step, as in the peer's runs. */
    public static final int TOKENS = 16384;
    public static final int DIM = 64;
    public static final int CHUNK = 64;

    private Workloads() {
    }

    /** One benchmark configuration, in the peer's terms. */
    public record Config(String kind, int length, int hashes, boolean causal) {
        public Config {
            if (!kind.matches("lsh|local|full|dupstep|lm")) {
                throw new IllegalArgumentException("unknown workload '" + kind + "': use lsh, local, full, dupstep or lm");
            }
        }

        /** The peer's JSON description ({@code run.sh --one}); null where the peer has no such run (local, L > 16384). */
        public String peerJson() {
            if (length > TOKENS) {
                return null; // the peer's harness runs 16,384 tokens as B = 16384 / L sequences
            }
            return switch (kind) {
                case "lsh" -> String.format(Locale.ROOT, "{\"kind\":\"lsh\",\"L\":%d,\"n_hashes\":%d,\"causal\":%s}", length,
                        hashes, causal);
                case "full" -> String.format(Locale.ROOT, "{\"kind\":\"full\",\"L\":%d,\"causal\":%s}", length, causal);
                case "dupstep" -> "{\"kind\":\"dupstep\",\"L\":256}";
                case "lm" -> "{\"kind\":\"lm\",\"L\":4096,\"use_full_attn\":false}";
                default -> null;
            };
        }

        /** A short label for tables: {@code lsh K=4 L=4096 causal}. */
        public String label() {
            return switch (kind) {
                case "lsh" -> "LSH K=" + hashes + ", L=" + length + (causal ? ", causal" : "");
                case "local", "full" -> kind + ", L=" + length + (causal ? ", causal" : "");
                case "dupstep" -> "duplication training step";
                default -> "ReformerLM step, L=4096";
            };
        }

        /** Parses {@code kind:L[:K][:causal]}, e.g. {@code lsh:4096:4:causal}, {@code full:1024}, {@code dupstep}. */
        public static Config parse(String text) {
            String[] p = text.split(":");
            String kind = p[0];
            int length = p.length > 1 ? Integer.parseInt(p[1]) : kind.equals("dupstep") ? 256 : 4096;
            int hashes = kind.equals("lsh") && p.length > 2 && !p[2].equals("causal") ? Integer.parseInt(p[2]) : 4;
            boolean causal = text.endsWith(":causal") || kind.equals("dupstep") || kind.equals("lm");
            return new Config(kind, length, hashes, causal);
        }

        @Override
        public String toString() {
            return kind + ":" + length + (kind.equals("lsh") ? ":" + hashes : "") + (causal ? ":causal" : "");
        }
    }

    /** One timed unit of work; each call is a fresh forward and backward (and optimizer step where named). */
    public interface Step {
        void run();
    }

    public static Step build(Config c, long seed) {
        return switch (c.kind()) {
            case "lsh", "local", "full" -> attention(c, seed);
            case "dupstep" -> duplicationStep(seed);
            default -> languageModelStep(seed);
        };
    }

    private static Step attention(Config c, long seed) {
        return attention(c, true, seed);
    }

    /**
     * The attention workload of {@code c} (kind lsh, local or full), forward and backward, or the
     * forward alone where {@code backward} is false (no graph is kept then).
     */
    public static Step attention(Config c, boolean backward, long seed) {
        Generator gen = new Generator(seed);
        int batch = Math.max(1, TOKENS / c.length()); // one sequence from L = 16384 on
        double scale = 1 / Math.sqrt(DIM);
        Attention attention = switch (c.kind()) {
            case "lsh" -> LshAttention.builder().hashes(c.hashes()).buckets(c.length() / CHUNK).chunkLength(CHUNK)
                    .causal(c.causal()).logitScale(scale).selfMaskValue(-5e4).rotationsSharedByBatch(true).build();
            case "local" -> LocalAttention.separate(CHUNK, 1, 0, c.causal(), scale);
            default -> FullAttention.sharedQk(c.causal(), scale, -5e4);
        };
        Variable q = Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, batch, 1, c.length(), DIM));
        Variable k = attention.sharesQueryKey() ? q : Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, batch, 1, c.length(), DIM));
        Variable v = Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, batch, 1, c.length(), DIM));
        Tensor upstream = gen.normal(DType.FLOAT32, 0, 1, batch, 1, c.length(), DIM);
        if (!backward) {
            return () -> {
                try (MemoryScope scope = MemoryScope.open(); GradMode.Scope off = GradMode.disabled()) {
                    attention.attend(q, k, v, null, gen.split());
                }
            };
        }
        return () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                q.zeroGrad();
                k.zeroGrad();
                v.zeroGrad();
                attention.attend(q, k, v, null, gen.split()).backward(upstream);
            }
        };
    }

    private static Step duplicationStep(long seed) {
        ReformerConfig config = ReformerConfig.builder().vocabSize(128).dModel(128).dFf(512).heads(4).headDim(32).layers(1)
                .maxLength(256).lshHashes(2).lshBuckets(8).lshChunkLength(32).causal(true).lshLogitScale(1 / Math.sqrt(32))
                .seed(seed).build();
        ReformerLM model = new ReformerLM(config);
        Adam adam = new Adam(model.parameters(), 1e-3, 0.9, 0.999, 1e-8);
        Generator gen = new Generator(seed);
        Tensor tokens = randomTokens(gen, 16, 256, 128);
        Tensor targets = randomTokens(gen, 16, 256, 128);
        return () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                adam.zeroGrad();
                model.loss(tokens, targets, -100, gen.split()).backward();
                adam.step();
            }
        };
    }

    private static Step languageModelStep(long seed) {
        ReformerConfig config = ReformerConfig.builder().vocabSize(256).dModel(256).dFf(1024).heads(4).headDim(64).layers(6)
                .maxLength(4096).axialShape(64, 64).axialDims(128, 128).lshHashes(4).lshBuckets(64).lshChunkLength(64)
                .causal(true).lshLogitScale(0.125).ffChunks(4).seed(seed).build();
        ReformerLM model = new ReformerLM(config);
        Generator gen = new Generator(seed);
        Tensor tokens = randomTokens(gen, 1, 4096, 256);
        Tensor targets = randomTokens(gen, 1, 4096, 256);
        return () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                model.zeroGrad();
                model.loss(tokens, targets, -100, gen.split()).backward();
            }
        };
    }

    /**
     * Forward and backward of a ReformerLM of {@code depth} layers, reversible blocks, or ("ordinary")
     * the same blocks with every activation stored ({@link dev.reformer.model.StoredStack}): d = 128, d_ff = 512, 4 heads of 32, LSH K = 2 with chunks of 64, L = 4096, one sequence.
     * What differs with depth is the activation memory the ordinary stack keeps and the reversible one
     * recomputes.
     */
    public static Step stack(int depth, boolean reversible, long seed) {
        ReformerConfig config = ReformerConfig.builder().vocabSize(256).dModel(128).dFf(512).heads(4).headDim(32)
                .layers(depth).maxLength(4096).lshHashes(2).lshBuckets(64).lshChunkLength(64).causal(true)
                .lshLogitScale(1 / Math.sqrt(32)).reversible(reversible).seed(seed).build();
        return modelStep(config, 1, 4096, seed);
    }

    /**
     * Forward and backward of a one-layer ReformerLM whose feed-forward runs in {@code chunks}
     * pieces along the sequence: d = 256, d_ff = 2048, local attention, L = 8192, one sequence.
     */
    public static Step feedForwardChunks(int chunks, long seed) {
        ReformerConfig config = ReformerConfig.builder().vocabSize(256).dModel(256).dFf(2048).heads(4).headDim(64)
                .layers(1).attention(ReformerConfig.AttentionType.LOCAL).maxLength(8192).localChunkLength(64).causal(true)
                .ffChunks(chunks).seed(seed).build();
        return modelStep(config, 1, 8192, seed);
    }

    /** The model variants of the paper's Table 3, in its order. */
    public static final java.util.List<String> TABLE3_VARIANTS = java.util.List.of("transformer", "reversible", "chunked", "lsh",
            "reformer");
    /** Table 3's sizes here: d_model, d_ff, heads, LSH rounds, LSH chunk, feed-forward chunks of the chunked variants. */
    public static final int T3_D_MODEL = 128;
    public static final int T3_D_FF = 1024;
    public static final int T3_HEADS = 4;
    public static final int T3_HASHES = 4;
    public static final int T3_CHUNK = 64;
    public static final int T3_FF_CHUNKS = 8;

    /**
     * Forward and backward of a ReformerLM as one of the paper's Table 3 variants: {@code transformer}
     * (ordinary residual layers, {@link dev.reformer.model.ResidualStack}, full attention), {@code reversible} (reversible layers, full
     * attention), {@code chunked} (reversible, full attention, feed-forward in
     * {@link #T3_FF_CHUNKS} chunks), {@code lsh} (ordinary residual layers, LSH attention) and
     * {@code reformer} (reversible, LSH, chunked feed-forward). d = 128, d_ff = 1024, 4 heads of 32,
     * LSH K = 4 with chunks of 64 (NB = L / 64), causal, one sequence of {@code length}.
     */
    public static Step table3(String variant, int length, int depth, long seed) {
        return modelStep(table3Config(variant, length, depth, seed), 1, length, seed);
    }

    /** The model of {@link #table3}. */
    public static ReformerConfig table3Config(String variant, int length, int depth, long seed) {
        boolean lsh = variant.equals("lsh") || variant.equals("reformer");
        boolean reversible = !variant.equals("transformer") && !variant.equals("lsh");
        boolean chunked = variant.equals("chunked") || variant.equals("reformer");
        return ReformerConfig.builder().vocabSize(256).dModel(T3_D_MODEL).dFf(T3_D_FF).heads(T3_HEADS)
                .headDim(T3_D_MODEL / T3_HEADS).layers(depth).maxLength(length)
                .attention(lsh ? ReformerConfig.AttentionType.LSH : ReformerConfig.AttentionType.FULL)
                .lshHashes(T3_HASHES).lshBuckets(length / T3_CHUNK).lshChunkLength(T3_CHUNK).causal(true)
                .lshLogitScale(1 / Math.sqrt(T3_D_MODEL / T3_HEADS)).sharedQueryKey(true).reversible(reversible)
                .ordinaryResidual(!reversible)
                .ffChunks(chunked ? T3_FF_CHUNKS : 1).seed(seed).build();
    }

    private static Step modelStep(ReformerConfig config, int batch, int length, long seed) {
        ReformerLM model = new ReformerLM(config);
        Generator gen = new Generator(seed);
        Tensor tokens = randomTokens(gen, batch, length, config.vocabSize());
        Tensor targets = randomTokens(gen, batch, length, config.vocabSize());
        return () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                model.zeroGrad();
                model.loss(tokens, targets, -100, gen.split()).backward();
            }
        };
    }

    private static Tensor randomTokens(Generator gen, int batch, int length, int vocab) {
        long[] ids = new long[batch * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = gen.nextInt(vocab);
        }
        return Tensor.of(ids, batch, length);
    }
}
