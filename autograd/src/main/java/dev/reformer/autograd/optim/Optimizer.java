package dev.reformer.autograd.optim;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * Updates parameters from their accumulated gradients. Parameters without a gradient (not
 * reached by the last backward) are left unchanged.
 *
 * <pre>{@code
 * Optimizer opt = new AdamW(model.parameters(), 1e-3, 0.9, 0.98, 1e-9, 0.01);
 * loss.backward();
 * GradClip.clipGlobalNorm(model.parameters(), 1.0);
 * opt.setLearningRate(schedule.at(step));
 * opt.step();
 * opt.zeroGrad();
 * }</pre>
 */
public abstract class Optimizer {
    protected final List<Variable> parameters;
    protected double learningRate;

    protected Optimizer(List<Variable> parameters, double learningRate) {
        if (!(learningRate >= 0)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate " + learningRate + " must be >= 0");
        }
        this.parameters = List.copyOf(parameters);
        this.learningRate = learningRate;
    }

    /**
     * One update of every parameter that has a gradient. Each update is computed in its own
     * memory scope, so its temporaries go back to the pool at once; the optimizer keeps its state
     * ({@link #keepState}), and the parameter takes the new value after that scope has closed, so
     * the old value stays readable until the caller's scope closes, as {@link Variable#setData} promises.
     */
    public final void step() {
        for (int i = 0; i < parameters.size(); i++) {
            Variable p = parameters.get(i);
            if (p.grad() != null) {
                Tensor next;
                try (MemoryScope scope = MemoryScope.open()) {
                    next = update(i, p.data(), p.grad()).retain(); // a share to carry it out of the scope
                }
                p.setData(next);
                next.release();
            }
        }
    }

    /** Keeps {@code next} as optimizer state across steps (a share of its memory) and lets go of {@code previous}. */
    protected static Tensor keepState(Tensor previous, Tensor next) {
        next.retain();
        if (previous != null) {
            previous.release();
        }
        return next;
    }

    /** The new value of parameter {@code index} given its value and gradient. */
    protected abstract Tensor update(int index, Tensor value, Tensor grad);

    public final void zeroGrad() {
        parameters.forEach(Variable::zeroGrad);
    }

    public final void setLearningRate(double learningRate) {
        this.learningRate = learningRate;
    }

    public final double learningRate() {
        return learningRate;
    }
}
