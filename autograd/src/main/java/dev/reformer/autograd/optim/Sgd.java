package dev.reformer.autograd.optim;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent with (heavy-ball) momentum:
 * {@code v <- mu v + g;  p <- p - lr v}. With {@code mu = 0} this is plain SGD.
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final Tensor[] velocity;

    public Sgd(List<Variable> parameters, double learningRate, double momentum) {
        super(parameters, learningRate);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("Sgd: momentum " + momentum + " must be in [0, 1)");
        }
        this.momentum = momentum;
        this.velocity = new Tensor[this.parameters.size()];
    }

    @Override
    protected Tensor update(int index, Tensor value, Tensor grad) {
        Tensor v = velocity[index] == null ? grad : velocity[index].mul(momentum).add(grad);
        velocity[index] = keepState(velocity[index], v);
        return value.sub(v.mul(learningRate));
    }
}
