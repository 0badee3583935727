package dev.reformer.model;

import dev.reformer.attention.IncrementalAttention;
import dev.reformer.attention.LshAttention;
import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * Runs a {@link ReformerLM} one token at a time for generation: each new token goes through the
 * embeddings, every block and the output layer alone, and each attention layer reads the keys
 * and values it cached for the earlier positions ({@link IncrementalAttention}). A token then
 * costs one attention window per LSH round (or local chunk) instead of a forward pass over the
 * whole sequence.
 *
 * <p>The logits equal those of {@link ReformerLM#forward} on the whole prefix (last position, the
 * same {@code rng}) when no LSH layer feeds a later attention layer ({@link #isExact}): full and
 * local attention give every position an output that later positions cannot change, and so does
 * LSH in the last attention layer, whose own output only the position-wise layers read. An LSH
 * layer below another attention layer is different: its output for an earlier position depends
 * on which chunk that position falls in, which later positions' buckets shift, so the cached
 * value (the output when that position was the newest) and a fresh forward can differ.
 *
 * <pre>{@code
 * model.train(false);
 * try (Decoder d = model.decoder(new Generator(seed))) {
 *     float[] logits = null;
 *     for (long token : prompt) logits = d.next(token);
 * }
 * }</pre>
 */
public final class Decoder implements AutoCloseable {
    private final ReformerLM model;
    private final List<ReversibleBlock> blocks;
    private final long[] seeds;
    private final IncrementalAttention[] states;
    private final Tensor positionTable;     // (maxLength', d): one row per position
    private int length;

    Decoder(ReformerLM model, Generator rng) {
        if (model.isTraining()) {
            throw new IllegalStateException("Decoder: call model.train(false) first; generation runs without dropout");
        }
        this.model = model;
        this.blocks = model.stack().blocks();
        // the draws ReformerLM.forward makes from rng in evaluation mode: one seed per block
        this.seeds = BlockStack.drawSeeds(rng, blocks.size());
        this.states = new IncrementalAttention[blocks.size()];
        for (int i = 0; i < blocks.size(); i++) {
            states[i] = blocks.get(i).attentionLayer().incremental(ReversibleBlock.attentionGenerator(seeds[i]));
        }
        long positions = model.config().paddedMaxLength();
        try (GradMode.Scope off = GradMode.disabled()) {
            Tensor table = model.positionalEmbedding().forward(positions).data();
            this.positionTable = table.reshape(positions, table.size(table.rank() - 1)).retain();
        }
    }

    /**
     * Whether a decoder of {@code model} gives the logits of a whole-sequence forward: true unless
     * an LSH layer sits below another attention layer (see the class comment).
     */
    public static boolean isExact(ReformerLM model) {
        List<ReversibleBlock> blocks = model.stack().blocks();
        for (int i = 0; i < blocks.size() - 1; i++) {
            if (blocks.get(i).attentionLayer().attentionOf() instanceof LshAttention) {
                return false;
            }
        }
        return true;
    }

    /** Gives back the position table's memory. */
    @Override
    public void close() {
        positionTable.release();
    }

    /** Positions fed so far. */
    public int length() {
        return length;
    }

    /** Feeds {@code token} at the next position and returns the logits (vocab) for the token after it. */
    public float[] next(long token) {
        long vocab = model.config().vocabSize();
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary of " + vocab);
        }
        int padded = (int) model.paddedLength(length + 1);        // refuses a position past the model's maximum
        try (GradMode.Scope off = GradMode.disabled(); MemoryScope scope = MemoryScope.open()) {
            Tensor row = positionTable.slice(0, length, length + 1).reshape(1, 1, positionTable.size(1));
            Variable x = model.tokenEmbedding().forward(Tensor.of(new long[] {token}, 1, 1)).add(Variable.constant(row));
            Variable x1 = x;
            Variable x2 = x;
            for (int i = 0; i < blocks.size(); i++) {
                if (model.config().ordinaryResidual()) {
                    x1 = blocks.get(i).residualStep(x1, states[i], padded, seeds[i]);
                    x2 = x1;
                } else {
                    ReversibleBlock.Streams s = blocks.get(i).step(x1, x2, states[i], padded, seeds[i]);
                    x1 = s.first();
                    x2 = s.second();
                }
            }
            float[] logits = model.logitsOf(Variable.concat(2, x1, x2)).data().toFloatArray();
            length++;
            return logits;
        }
    }
}
