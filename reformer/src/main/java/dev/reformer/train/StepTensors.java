package dev.reformer.train;

import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerConfig.AttentionType;
import java.math.BigInteger;
import java.util.Locale;

/**
 * The largest tensor one training step of a configuration builds, checked before anything is built
 * or written. A tensor's bytes are addressed with a Java {@code int} (its ND4J buffer is read as
 * one {@code ByteBuffer}), so a tensor past 2^31 - 1 bytes, 536,870,911 float32 elements, cannot
 * be made; without this check a large {@code --batch} reached the user as an
 * {@code ArithmeticException} or {@code NegativeArraySizeException} stack trace after the run
 * folder had been written.
 *
 * <p>Every term is the batch times the size of one sequence's tensor, so the largest batch that
 * fits is the limit divided by the largest tensor per sequence. The terms, for {@code B} sequences
 * of the padded length {@code L}:
 * <ul>
 *   <li>the embeddings and, in a reversible stack, its two streams side by side: {@code B x L x 2 d_model};
 *   <li>the feed-forward's hidden layer, per chunk: {@code B x L x d_ff / ff_chunks};
 *   <li>the output logits, whose chunks are joined into one tensor: {@code B x L x vocab};
 *   <li>per attention layer, the queries, keys and values (of every round for LSH):
 *       {@code B x heads x rounds x L x head_dim}, and LSH's random rotations when each sequence
 *       draws its own: {@code B x heads x head_dim x rounds x (sum of the bucket factors) / 2}.
 * </ul>
 * The attention scores are not among them: LSH and local attention keep one chunk's scores per
 * thread (ChunkedAttentionKernel), and full attention runs as flash attention, a block at a time.
 */
final class StepTensors {
    /** The engine's limit on a tensor's bytes. */
    static final long LIMIT_BYTES = Integer.MAX_VALUE;

    /** The largest tensor of one sequence: its elements and what it is. */
    record Largest(long perSequence, String what) {
    }

    private StepTensors() {
    }

    /** The largest tensor a training step over one sequence of {@code m.paddedMaxLength()} tokens builds. */
    static Largest largestPerSequence(ReformerConfig m) {
        long l = m.paddedMaxLength();
        long streams = m.reversible() ? 2 : 1;
        Largest largest = new Largest(l * streams * m.dModel(), "the residual stream" + (streams == 2 ? "s" : "")
                + ", batch x length " + l + " x " + (streams == 2 ? "2 x " : "") + "d_model " + m.dModel());
        largest = max(largest, l * ceilDiv(m.dFf(), m.ffChunks()),
                "the feed-forward's hidden layer, batch x length " + l + " x d_ff " + m.dFf()
                        + (m.ffChunks() > 1 ? " / " + m.ffChunks() + " chunks" : ""));
        largest = max(largest, l * m.vocabSize(), "the output logits, batch x length " + l + " x vocab " + m.vocabSize());
        for (int layer = 0; layer < m.layers(); layer++) {
            long heads = m.heads();
            long rounds = m.attentionOf(layer) == AttentionType.LSH ? m.lshHashes() : 1;
            largest = max(largest, heads * rounds * l * m.headDim(), "the attention's queries, batch x heads " + heads
                    + (rounds > 1 ? " x rounds " + rounds : "") + " x length " + l + " x head_dim " + m.headDim());
            if (m.attentionOf(layer) == AttentionType.LSH && !m.lshRotationsSharedByBatch()) {
                long halfBuckets = java.util.Arrays.stream(m.lshBucketFactors()).asLongStream().sum() / 2;
                largest = max(largest, heads * m.headDim() * rounds * halfBuckets, "the LSH rotations, batch x heads "
                        + heads + " x head_dim " + m.headDim() + " x rounds " + rounds + " x " + halfBuckets);
            }
        }
        return largest;
    }

    /** The most elements a tensor of {@code m}'s dtype may hold. */
    static long limit(ReformerConfig m) {
        return LIMIT_BYTES / m.dtype().bytes();
    }

    /** The largest batch whose step tensors all stay within {@link #limit}. */
    static long largestBatch(ReformerConfig m) {
        return limit(m) / largestPerSequence(m).perSequence();
    }

    /**
     * Refuses, with one line naming the tensor and the largest batch that fits, a step past
     * {@link #limit}; {@code batch} is at least 1 (TrainConfig.validate), {@code lengthOption} the
     * option that sets the sequence length.
     */
    static void requireIndexable(ReformerConfig m, int batch, String lengthOption) {
        Largest largest = largestPerSequence(m);
        long limit = limit(m);
        if (largest.perSequence() > limit / batch) {
            long fits = limit / largest.perSequence();
            BigInteger elements = BigInteger.valueOf(largest.perSequence()).multiply(BigInteger.valueOf(batch));
            throw new TrainException(String.format(Locale.ROOT, "--batch %d: one step would hold %,d elements in %s,"
                    + " past the engine's limit of 2^31 - 1 bytes (%,d %s elements) per tensor: %s", batch, elements,
                    largest.what(), limit, m.dtype().name().toLowerCase(Locale.ROOT),
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
