package dev.reformer.model;

import dev.reformer.attention.Attention;
import dev.reformer.attention.FullAttention;
import dev.reformer.attention.LocalAttention;
import dev.reformer.attention.LshAttention;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Dropout;
import dev.reformer.autograd.nn.Embedding;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.autograd.nn.LayerNorm;
import dev.reformer.autograd.nn.Linear;
import dev.reformer.autograd.nn.Module;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.DTypeException;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The Reformer language model:
 * <pre>
 *   x  = TokenEmbedding(tokens) + PositionalEmbedding        (B, L, d)
 *   x1 = x2 = Dropout(x)                                     two streams
 *   (x1, x2) = N reversible blocks, y1 = x1 + Attention(x2), y2 = x2 + FeedForward(y1)
 *   logits = Linear(LayerNorm(concat(x1, x2)))               (B, L, vocab), norm over 2d
 * </pre>
 * With {@code reversible(false).ordinaryResidual(true)} the same blocks run as a standard
 * Transformer ({@link ResidualStack}): h = x, then h = h + Attention(h), h = h + FeedForward(h),
 * and the output layer reads concat(h, h). With {@code reversible(false)} alone, the reversible
 * function runs with its activations stored ({@link StoredStack}), for tests and memory studies.
 * Any length works: inputs are padded to a multiple of the chunk lengths (when auto-padding is
 * on), the padding is masked in every attention layer and cut from the logits.
 *
 * <pre>{@code
 * ReformerLM model = new ReformerLM(ReformerConfig.builder().layers(2).maxLength(256).build());
 * Variable logits = model.forward(tokens, null, new Generator(1));      // tokens (B, L) int64
 * Variable loss = model.loss(tokens, targets, -100, new Generator(1));
 * }</pre>
 */
public final class ReformerLM extends Module {
    private final ReformerConfig config;
    private final Embedding tokens;
    private final PositionalEmbedding positions;
    private final Dropout dropout;
    private final BlockStack stack;
    private final LayerNorm finalNorm;
    private final Linear output;

    public ReformerLM(ReformerConfig config) {
        this.config = config;
        Generator init = new Generator(config.seed());
        DType dtype = config.dtype();
        this.tokens = child("tokens", new Embedding(config.vocabSize(), config.dModel(), dtype, init));
        this.positions = config.axialShape() != null
                ? child("positions", new AxialPositionalEmbedding(config.axialShape()[0], config.axialShape()[1],
                        config.axialDims()[0], config.axialDims()[1], dtype, init))
                : child("positions", new AbsolutePositionalEmbedding(config.paddedMaxLength(), config.dModel(), dtype, init));
        this.dropout = child("dropout", new Dropout(config.dropout(), init.split()));
        List<ReversibleBlock> blocks = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            AttentionLayer f = new AttentionLayer(config.dModel(), config.heads(), config.headDim(), attention(i),
                    config.dropout(), dtype, init);
            FeedForward g = new FeedForward(config.dModel(), config.dFf(), config.activation(), config.dropout(),
                    config.ffChunks(), dtype, init);
            blocks.add(child("blocks." + i, new ReversibleBlock(f, g)));
        }
        this.stack = config.reversible() ? new ReversibleStack(blocks)
                : config.ordinaryResidual() ? new ResidualStack(blocks) : new StoredStack(blocks);
        this.finalNorm = child("finalNorm", new LayerNorm(2L * config.dModel(), 1e-5, dtype));
        this.output = child("output", new Linear(2L * config.dModel(), config.vocabSize(), true, dtype, init));
    }

    public ReformerConfig config() {
        return config;
    }

    private Attention attention(int layer) {
        double separateScale = 1.0 / Math.sqrt(config.headDim());
        return switch (config.attentionOf(layer)) {
            case LSH -> LshAttention.builder()
                    .hashes(config.lshHashes()).bucketFactors(config.lshBucketFactors())
                    .chunkLength(config.lshChunkLength()).chunksBefore(config.lshChunksBefore())
                    .chunksAfter(config.lshChunksAfter()).causal(config.causal())
                    .selfMaskValue(config.selfMaskValue()).logitScale(config.lshLogitScale())
                    .dedupeRounds(config.lshDedupeRounds()).rotationsSharedByBatch(config.lshRotationsSharedByBatch())
                    .build();
            case LOCAL -> config.sharedQueryKey()
                    ? LocalAttention.sharedQk(config.localChunkLength(), config.localChunksBefore(), config.localChunksAfter(),
                            config.causal(), config.lshLogitScale(), config.selfMaskValue())
                    : LocalAttention.separate(config.localChunkLength(), config.localChunksBefore(),
                            config.localChunksAfter(), config.causal(), separateScale);
            case FULL -> config.sharedQueryKey()
                    ? FullAttention.sharedQk(config.causal(), config.lshLogitScale(), config.selfMaskValue())
                    : FullAttention.separate(config.causal(), separateScale);
        };
    }

    /**
     * Logits (B, L, vocab) for int tokens (B, L).
     *
     * @param padding (B, L) bool, true at positions that are padding already, or null
     * @param rng     this call's randomness (LSH rotations, dropout)
     */
    public Variable forward(Tensor tokenIds, Tensor padding, Generator rng) {
        if (tokenIds.rank() != 2 || !tokenIds.dtype().isInteger()) {
            throw new ShapeException("ReformerLM: tokens" + tokenIds.shapeString() + " (" + tokenIds.dtype().label()
                    + ") must be int32 or int64 of shape (B, L)");
        }
        long batch = tokenIds.size(0);
        long length = tokenIds.size(1);
        long padded = paddedLength(length);
        Tensor mask = paddingMask(padding, batch, length, padded);
        Tensor ids = padded == length ? tokenIds
                : Tensor.concat(1, tokenIds.cast(DType.INT64), Tensor.zeros(DType.INT64, batch, padded - length));
        Variable x = tokens.forward(ids).add(positions.forward(padded));                   // (B, L', d)
        x = dropout.forward(x, rng);
        Variable streams = stack.forward(Variable.concat(2, x, x), mask, rng);              // (B, L', 2d)
        Variable logits = project(streams);                                                 // (B, L', vocab)
        return padded == length ? logits : logits.slice(1, 0, length);
    }

    /**
     * A decoder that feeds this model one token at a time and returns the next token's logits,
     * keeping each attention layer's keys and values ({@link Decoder}); {@code rng} plays the role
     * it plays in {@link #forward}. The model must be in evaluation mode.
     */
    public Decoder decoder(Generator rng) {
        return new Decoder(this, rng);
    }

    Embedding tokenEmbedding() {
        return tokens;
    }

    PositionalEmbedding positionalEmbedding() {
        return positions;
    }

    BlockStack stack() {
        return stack;
    }

    /** Logits (B, L, vocab) of the stacks' output streams (B, L, 2d). */
    Variable logitsOf(Variable streams) {
        return project(streams);
    }

    /** Mean cross-entropy of the next-token predictions against {@code targets} (B, L), skipping {@code ignoreIndex}. */
    public Variable loss(Tensor tokenIds, Tensor targets, long ignoreIndex, Generator rng) {
        return Functional.crossEntropy(forward(tokenIds, null, rng), targets, ignoreIndex);
    }

    /** The length an input of {@code length} tokens runs at: the same, or padded up to the chunk lengths. */
    public long paddedLength(long length) {
        int multiple = config.lengthMultiple();
        long padded = (length + multiple - 1) / multiple * multiple;
        if (padded != length && !config.autoPad()) {
            throw new ConfigException("length " + length + " is not a multiple of chunk length " + multiple
                    + ": pad to " + padded + " or enable auto-padding");
        }
        if (padded > positions.maxLength()) {
            throw new ConfigException("length " + length + (padded != length ? " (padded to " + padded + ")" : "")
                    + " exceeds the " + positions.maxLength() + " positions of this model: raise max length (and"
                    + " retrain) or shorten the input");
        }
        return padded;
    }

    private Variable project(Variable streams) {
        long length = streams.shape()[1];
        int pieces = (int) Math.min(config.outputChunks(), length);
        if (pieces == 1) {
            return output.forward(finalNorm.forward(streams));
        }
        List<Variable> parts = new ArrayList<>();
        for (int i = 0; i < pieces; i++) {
            Variable piece = streams.slice(1, length * i / pieces, length * (i + 1) / pieces);
            parts.add(output.forward(finalNorm.forward(piece)));
        }
        return Variable.concat(1, parts.toArray(new Variable[0]));
    }

    /** The caller's padding (if any) widened to the padded length, padded positions true; null if nothing is padded. */
    private static Tensor paddingMask(Tensor padding, long batch, long length, long padded) {
        if (padding != null) {
            if (padding.dtype() != DType.BOOL) {
                throw new DTypeException("ReformerLM: padding" + padding.shapeString() + " must be bool");
            }
            if (padding.rank() != 2 || padding.size(0) != batch || padding.size(1) != length) {
                throw new ShapeException("ReformerLM: padding" + padding.shapeString() + " must have the tokens' shape ("
                        + batch + "," + length + ")");
            }
        }
        if (padded == length) {
            return padding;
        }
        Tensor real = padding != null ? padding : Tensor.zeros(DType.BOOL, batch, length);
        return Tensor.concat(1, real, Tensor.ones(DType.BOOL, batch, padded - length));
    }
}
