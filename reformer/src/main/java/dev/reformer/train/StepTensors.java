package dev.reformer.train;

import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerConfig.AttentionType;
import java.math.BigInteger;
import java.util.Locale;

/**
 * The largest tensor one training step of a configuration holds, checked before anything is built
 * or written. The engine indexes a tensor's elements with Java {@code int}s, so a tensor past
 * 2^31 - 1 elements cannot be made; without this check a large {@code --batch} reached the user
 * as an {@code ArithmeticException} or {@code NegativeArraySizeException} stack trace after the
 * run folder had been written.
 *
 * <p>Every term is a product of the batch with the sizes of one sequence, so the largest batch
 * that fits is the limit divided by the largest tensor per sequence. The terms, for {@code B}
 * sequences of length {@code L}:
 * <ul>
 *   <li>the tokens and their embeddings: {@code B x L x d_model};
 *   <li>the feed-forward's hidden layer, per chunk: {@code B x L x d_ff / ff_chunks};
 *   <li>the output logits, per chunk: {@code B x L x vocab / output_chunks};
 *   <li>per attention layer, the queries, keys and values of every round: {@code B x heads x rounds x L x head_dim},
 *       and the attention scores: LSH {@code B x heads x K x L x C x (1 + before + after)}, local
 *       {@code B x heads x L x C x (1 + before + after)}, full {@code B x heads x L x L}.
 * </ul>
 */
final class StepTensors {
    /** The engine's limit on a tensor's elements. */
    static final long LIMIT = Integer.MAX_VALUE;

    /** The largest tensor of one sequence: its elements and what it is. */
    record Largest(long perSequence, String what) {
    }

    private StepTensors() {
    }

    /** The largest tensor a training step over one sequence of {@code m.maxLength()} tokens holds. */
    static Largest largestPerSequence(ReformerConfig m) {
        long l = m.maxLength();
        Largest largest = new Largest(l * m.dModel(), "the embeddings, batch x length " + l + " x d_model " + m.dModel());
        largest = max(largest, l * ceilDiv(m.dFf(), Math.max(1, m.ffChunks())),
                "the feed-forward's hidden layer, batch x length " + l + " x d_ff " + m.dFf()
                        + (m.ffChunks() > 1 ? " / " + m.ffChunks() + " chunks" : ""));
        largest = max(largest, l * ceilDiv(m.vocabSize(), Math.max(1, m.outputChunks())),
                "the output logits, batch x length " + l + " x vocab " + m.vocabSize()
                        + (m.outputChunks() > 1 ? " / " + m.outputChunks() + " chunks" : ""));
        for (int layer = 0; layer < m.layers(); layer++) {
            AttentionType type = m.attentionOf(layer);
            long heads = m.heads();
            switch (type) {
                case LSH -> {
                    long rounds = m.lshHashes();
                    long c = m.lshChunkLength();
                    long window = 1L + m.lshChunksBefore() + m.lshChunksAfter();
                    largest = max(largest, heads * rounds * l * m.headDim(), "the LSH queries, batch x heads " + heads
                            + " x rounds " + rounds + " x length " + l + " x head_dim " + m.headDim());
                    largest = max(largest, heads * rounds * l * c * window, "the LSH attention scores, batch x heads "
                            + heads + " x rounds " + rounds + " x length " + l + " x chunk " + c + " x " + window + " chunks");
                }
                case LOCAL -> {
                    long c = m.localChunkLength();
                    long window = 1L + m.localChunksBefore() + m.localChunksAfter();
                    largest = max(largest, heads * l * c * window, "the local attention scores, batch x heads " + heads
                            + " x length " + l + " x chunk " + c + " x " + window + " chunks");
                }
                case FULL -> largest = max(largest, heads * l * l,
                        "the full attention scores, batch x heads " + heads + " x length " + l + " x length " + l);
            }
        }
        return largest;
    }

    /** The largest batch whose step tensors all stay within {@link #LIMIT} elements. */
    static long largestBatch(ReformerConfig m) {
        return LIMIT / largestPerSequence(m).perSequence();
    }

    /**
     * Refuses, with one line naming the tensor and the largest batch that fits, a step past
     * {@link #LIMIT}; {@code lengthOption} is the option that sets the sequence length.
     */
    static void requireIndexable(ReformerConfig m, int batch, String lengthOption) {
        Largest largest = largestPerSequence(m);
        if (largest.perSequence() > LIMIT / Math.max(1, batch)) {
            long fits = LIMIT / largest.perSequence();
            BigInteger elements = BigInteger.valueOf(largest.perSequence()).multiply(BigInteger.valueOf(batch));
            throw new TrainException(String.format(Locale.ROOT, "--batch %d: one step would hold %,d elements in %s,"
                    + " past the engine's limit of 2^31 - 1 elements per tensor: %s", batch, elements, largest.what(),
                    fits >= 1 ? "use --batch " + fits + " or less, or a smaller " + lengthOption
                            : "even one sequence is too long: use a smaller " + lengthOption));
        }
    }

    private static Largest max(Largest a, long perSequence, String what) {
        return perSequence > a.perSequence() ? new Largest(perSequence, what) : a;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
