package dev.reformer.autograd.optim;

/**
 * Linear warm-up to a peak learning rate, then cosine decay to a floor:
 * <pre>
 *   lr(t) = peak * (t + 1) / warmup                                  for t < warmup
 *   lr(t) = floor + (peak - floor) * (1 + cos(pi * s)) / 2,  s = (t - warmup) / (total - warmup)
 * </pre>
 * and {@code floor} after {@code total} steps. Warm-up keeps Adam's first, poorly estimated
 * steps small; the decay lets training settle.
 *
 * <pre>{@code
 * WarmupThenDecay schedule = new WarmupThenDecay(1e-3, 1000, 100_000, 1e-5);
 * optimizer.setLearningRate(schedule.at(step));
 * }</pre>
 */
public record WarmupThenDecay(double peak, long warmupSteps, long totalSteps, double floor) {
    public WarmupThenDecay {
        if (!(peak > 0 && floor >= 0 && floor <= peak && warmupSteps >= 0 && totalSteps > warmupSteps)) {
            throw new IllegalArgumentException("WarmupThenDecay: need peak > 0, 0 <= floor <= peak and 0 <= warmup < total;"
                    + " got peak=" + peak + " floor=" + floor + " warmup=" + warmupSteps + " total=" + totalSteps);
        }
    }

    /** The learning rate at step {@code t} (counting from 0). */
    public double at(long t) {
        if (t < warmupSteps) {
            return peak * (t + 1) / warmupSteps;
        }
        if (t >= totalSteps) {
            return floor;
        }
        double progress = (double) (t - warmupSteps) / (totalSteps - warmupSteps);
        return floor + (peak - floor) * (1 + Math.cos(Math.PI * progress)) / 2;
    }
}
