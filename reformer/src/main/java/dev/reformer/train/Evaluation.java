package dev.reformer.train;

import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.model.ConfigException;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loss and metric of a model on a task's fixed evaluation set: dropout off, no gradients, and the
 * same LSH rotations for batch i at every evaluation (drawn from the seed and i), so that
 * evaluations at different steps differ only by the weights.
 */
public final class Evaluation {
    private Evaluation() {
    }

    /** Mean loss (nats per scored token), accuracy, and bits per token, over the scored positions. */
    public record Score(double loss, double accuracy, long scored) {
        public double bitsPerToken() {
            return loss / Math.log(2);
        }

        /** The value of {@code metric}: accuracy, or bits per character. */
        public double metric(Task.Metric metric) {
            return metric == Task.Metric.ACCURACY ? accuracy : bitsPerToken();
        }
    }

    /** A checkpoint evaluated: the config it was trained with, the one it was evaluated with, its step, the task's metric and the score. */
    public record OfCheckpoint(TrainConfig trained, TrainConfig evaluated, long step, Task.Metric metric, Score score) {
    }

    /**
     * Loads the weights of {@code checkpoint} into a model of its config with {@code changes} (keys
     * of {@link TrainConfig#fields()}: another attention, other rounds, more evaluation batches) and
     * evaluates it on its task's evaluation set.
     */
    public static OfCheckpoint ofCheckpoint(Path checkpoint, Map<String, Object> changes) throws IOException {
        TrainConfig trained = Checkpoint.configOf(checkpoint);
        TrainConfig c = trained.with(changes).validate();
        Task task = c.newTask();
        ReformerLM model;
        try {
            model = new ReformerLM(c.modelConfig(task));
        } catch (ConfigException e) {
            throw new TrainException(e.getMessage());
        }
        long step = Checkpoint.loadWeights(checkpoint, model);
        return new OfCheckpoint(trained, c, step, task.metric(), run(model, task, c.evalBatches(), c.batch(), c.seed()));
    }

    public static Score run(ReformerLM model, Task task, int batches, int batchSize, long seed) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        double lossSum = 0;
        long correct = 0;
        long scored = 0;
        try (GradMode.Scope noGrad = GradMode.disabled()) {
            for (int i = 0; i < task.evalBatches(batches, batchSize); i++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    Batch b = task.evalBatch(i, batchSize);
                    Variable logits = model.forward(b.inputs(), null, Seeds.generator(seed, "eval/model", i));
                    long n = b.scored();
                    lossSum += Functional.crossEntropy(logits, b.targets(), Batch.IGNORE).data().item() * n;
                    correct += correct(logits.data(), b.targets());
                    scored += n;
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Score(lossSum / scored, (double) correct / scored, scored);
    }

    /** The number of scored positions whose most likely token is the target. */
    static long correct(Tensor logits, Tensor targets) {
        long[] predicted = logits.argmax(logits.rank() - 1, false).toLongArray();
        long[] t = targets.toLongArray();
        long n = 0;
        for (int i = 0; i < t.length; i++) {
            if (t[i] != Batch.IGNORE && predicted[i] == t[i]) {
                n++;
            }
        }
        return n;
    }
}
