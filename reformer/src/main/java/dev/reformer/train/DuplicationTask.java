package dev.reformer.train;

import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;

/**
 * The paper's synthetic duplication task (section 5): each sequence is {@code 0 w 0 w}, with w a
 * word of {@code wordLength} symbols drawn uniformly from 1..symbols-1. A causal model reads the
 * sequence and predicts each next token; only the predictions of the second copy are scored,
 * because the first copy is random and cannot be predicted. Solving it needs attention from each
 * position of the second copy to the matching position of the first, |w| + 1 tokens back, which
 * LSH attention must find by hashing.
 *
 * <p>Positions: {@code 0} at 0, the first w at 1..|w|, {@code 0} at |w| + 1, the second w at
 * |w| + 2..2|w| + 1. Position t predicts token t + 1, so the scored positions are |w| + 1..2|w|.
 * The paper uses 128 symbols and |w| = 511 (L = 1024).
 */
public final class DuplicationTask implements Task {
    private final int symbols;
    private final int wordLength;
    private final long seed;

    public DuplicationTask(int symbols, int wordLength, long seed) {
        if (symbols < 2) {
            throw new TrainException("--symbols " + symbols + " is too small: the words need at least one symbol besides the"
                    + " separator 0; use 2 or more (the paper: 128)");
        }
        if (wordLength < 1) {
            throw new TrainException("--word-length " + wordLength + " must be at least 1 (the paper: 511)");
        }
        this.symbols = symbols;
        this.wordLength = wordLength;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "duplication";
    }

    @Override
    public int vocabSize() {
        return symbols;
    }

    @Override
    public int length() {
        return 2 * (wordLength + 1);
    }

    @Override
    public Metric metric() {
        return Metric.ACCURACY;
    }

    @Override
    public Batch trainBatch(long step, int batchSize) {
        return batch(Seeds.generator(seed, "duplication/train", step), batchSize);
    }

    @Override
    public Batch evalBatch(int index, int batchSize) {
        return batch(Seeds.generator(seed, "duplication/eval", index), batchSize);
    }

    @Override
    public String describe() {
        return "duplication: sequences 0 w 0 w, |w| = " + wordLength + ", symbols 1.." + (symbols - 1) + ", L = " + length()
                + "; loss and accuracy on the second copy";
    }

    private Batch batch(Generator gen, int batchSize) {
        int length = length();
        long[] inputs = new long[batchSize * length];
        long[] targets = new long[batchSize * length];
        java.util.Arrays.fill(targets, Batch.IGNORE);
        for (int b = 0; b < batchSize; b++) {
            int row = b * length;
            for (int i = 0; i < wordLength; i++) {
                long symbol = 1 + gen.nextInt(symbols - 1);
                inputs[row + 1 + i] = symbol;
                inputs[row + wordLength + 2 + i] = symbol;
            }
            for (int t = wordLength + 1; t <= 2 * wordLength; t++) {
                targets[row + t] = inputs[row + t + 1];
            }
        }
        return new Batch(Tensor.of(inputs, batchSize, length), Tensor.of(targets, batchSize, length));
    }
}
