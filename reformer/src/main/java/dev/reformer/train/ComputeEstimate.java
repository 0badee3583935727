package dev.reformer.train;

import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.Locale;

/**
 * The compute of a run, printed before its first step: floating-point operations per step and in
 * all, and the minutes they should take here. Counted as multiply-adds x 2 over the matrix
 * products per token: per layer the attention projections (query-key, value, output: 3 d h d_h),
 * the feed-forward (2 d d_ff) and the attention itself (2 d_h per key in each query's window:
 * K (1 + chunks before + after) C keys for LSH, L for full attention); then the output layer
 * (2d V). Training costs 3 forwards (the backward is two), plus one more for the blocks, which the
 * reversible backward recomputes.
 *
 * <p>The minutes: this machine's matrix-product speed is measured on the spot (a few float32
 * products of 1024 x 256 by 256 x 256, about 0.1 s), and a step of a model this small runs at a
 * fraction of it: {@link #EFFICIENCY}, measured for the duplication job on the project's 2-core
 * machine (7.8 GFLOP per step in 0.197 s, 40 GFLOP/s, where the products measured 51). An
 * estimate; the progress line's ETA measures.
 */
public final class ComputeEstimate {
    static final double EFFICIENCY = 0.75;

    private final double flopsPerStep;
    private final long steps;
    private final long parameters;
    private final double machineFlops;

    private ComputeEstimate(double flopsPerStep, long steps, long parameters, double machineFlops) {
        this.flopsPerStep = flopsPerStep;
        this.steps = steps;
        this.parameters = parameters;
        this.machineFlops = machineFlops;
    }

    static ComputeEstimate of(TrainConfig config, Task task, ReformerLM model, long firstStep) {
        double tokens = (double) config.batch() * task.length();
        return new ComputeEstimate(trainingFlopsPerToken(model.config(), task.length()) * tokens, config.steps() - firstStep,
                model.parameterCount(), measureMachine());
    }

    /**
     * FLOPs per token of one training step (forward and backward, and the reversible blocks'
     * recomputation) of a model of {@code m} on sequences of {@code length}; see the class comment.
     */
    public static double trainingFlopsPerToken(ReformerConfig m, double length) {
        double perToken = 0;
        for (int layer = 0; layer < m.layers(); layer++) {
            double window = switch (m.attentionOf(layer)) {
                case LSH -> (double) m.lshHashes() * (1 + m.lshChunksBefore() + m.lshChunksAfter()) * m.lshChunkLength();
                case LOCAL -> (double) (1 + m.localChunksBefore() + m.localChunksAfter()) * m.localChunkLength();
                case FULL -> length;
            };
            double blockMacs = 3.0 * m.dModel() * m.heads() * m.headDim() + 2.0 * m.dModel() * m.dFf()
                    + 2.0 * m.heads() * m.headDim() * window;
            perToken += 2 * blockMacs * (m.reversible() ? 4 : 3);
        }
        return perToken + 2 * (2.0 * m.dModel() * m.vocabSize()) * 3;
    }

    /** Seconds for {@code steps} training steps of {@code config} here: its FLOPs at {@link #EFFICIENCY} of the measured speed. */
    public static double secondsFor(TrainConfig config, long steps, double machineFlops) {
        Task task = config.newTask();
        ReformerConfig m = config.modelConfig(task);
        return trainingFlopsPerToken(m, task.length()) * config.batch() * task.length() * steps / (machineFlops * EFFICIENCY);
    }

    /** Float32 FLOP/s of matrix products on this machine, measured now (best of a few). */
    public static double measureMachine() {
        try (MemoryScope scope = MemoryScope.open()) {
            Generator g = new Generator(0);
            Tensor a = g.normal(DType.FLOAT32, 0, 1, 1024, 256);
            Tensor b = g.normal(DType.FLOAT32, 0, 1, 256, 256);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 8; i++) {
                long t0 = System.nanoTime();
                a.matmul(b);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * 1024 * 256 * 256 / best;
        }
    }

    double expectedSeconds() {
        return flopsPerStep * steps / (machineFlops * EFFICIENCY);
    }

    String describe() {
        return String.format(Locale.ROOT, "%,d parameters; %.2f GFLOP per step, %.2f TFLOP for %,d steps; matrix products"
                + " here at %.0f GFLOP/s, so about %.1f minutes (an estimate: the ETA below measures)", parameters,
                flopsPerStep / 1e9, flopsPerStep * steps / 1e12, steps, machineFlops / 1e9, expectedSeconds() / 60);
    }
}
