package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;

/**
 * Inverted dropout: in training, {@code y = x * m / (1 - rate)} with {@code m_i ~ Bernoulli(1 - rate)};
 * in evaluation, {@code y = x}. Each call draws one seed from the module's generator and builds the
 * mask from that seed alone, so {@link #forward(Variable, long)} with {@link #lastSeed()} replays
 * exactly the same mask (what a reversible layer needs when it recomputes its forward).
 *
 * <pre>{@code
 * Dropout drop = new Dropout(0.1, gen.split());
 * Variable y = drop.forward(x);
 * Variable again = drop.forward(x, drop.lastSeed());   // same mask, same y
 * }</pre>
 */
public final class Dropout extends Module implements Layer {
    private final double rate;
    private final Generator generator;
    private long lastSeed;

    public Dropout(double rate, Generator generator) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("Dropout: rate " + rate + " must be in [0, 1)");
        }
        this.rate = rate;
        this.generator = generator;
    }

    @Override
    public Variable forward(Variable x) {
        if (!isTraining() || rate == 0) {
            return x;
        }
        lastSeed = generator.nextSeed();
        return forward(x, lastSeed);
    }

    /** In training mode, dropout with a seed drawn from {@code rng}; in evaluation mode, {@code x}. */
    public Variable forward(Variable x, Generator rng) {
        if (!isTraining() || rate == 0) {
            return x;
        }
        return forward(x, rng.nextSeed());
    }

    /** Dropout with the mask that {@code seed} determines (active whatever the mode). */
    public Variable forward(Variable x, long seed) {
        if (rate == 0) {
            return x;
        }
        Tensor u = new Generator(seed).uniform(x.dtype(), 0, 1, x.shape());
        Tensor dropped = u.lt(Tensor.scalar(x.dtype(), rate));
        Tensor mask = Tensor.where(dropped, Tensor.scalar(x.dtype(), 0), Tensor.scalar(x.dtype(), 1 / (1 - rate)));
        return x.mul(Variable.constant(mask));
    }

    /** The seed of the last training-mode mask. */
    public long lastSeed() {
        return lastSeed;
    }

    public double rate() {
        return rate;
    }
}
