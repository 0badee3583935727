package dev.reformer.train;

/**
 * What a model is trained on: batches drawn for a step, a fixed evaluation set, and the metric
 * reported beside the loss. Every batch is a function of the run's seed and its index, so that a
 * resumed run sees the same data as an uninterrupted one.
 */
public interface Task {
    /** The metric beside the loss. */
    enum Metric {
        /** Share of scored positions whose most likely token is the target. */
        ACCURACY("accuracy"),
        /** Bits per character: the loss in base 2. */
        BPC("bpc");

        public final String key;

        Metric(String key) {
            this.key = key;
        }
    }

    String name();

    /** Token ids run from 0 to {@code vocabSize() - 1}. */
    int vocabSize();

    /** The length of every sequence. */
    int length();

    Metric metric();

    /** The training batch of step {@code step}. */
    Batch trainBatch(long step, int batchSize);

    /** Batch {@code index} of the fixed evaluation set. */
    Batch evalBatch(int index, int batchSize);

    /** How many evaluation batches to run when {@code requested} are asked for (fewer where the set is smaller). */
    default int evalBatches(int requested, int batchSize) {
        return requested;
    }

    /** One line saying what the task is, for the start of a run. */
    String describe();
}
