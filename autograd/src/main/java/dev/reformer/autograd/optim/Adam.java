package dev.reformer.autograd.optim;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * Adam (Kingma and Ba 2015) with optional decoupled weight decay (AdamW, Loshchilov and Hutter
 * 2019). At step t, with gradient g:
 * <pre>
 *   m <- b1 m + (1 - b1) g,        v <- b2 v + (1 - b2) g^2
 *   m^ = m / (1 - b1^t),           v^ = v / (1 - b2^t)
 *   p <- p - lr (m^ / (sqrt(v^) + eps) + wd p)
 * </pre>
 * Plain Adam is {@code wd = 0}; {@link AdamW} sets it.
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Tensor[] m;
    private final Tensor[] v;
    private final long[] steps; // per parameter: one that first gets a gradient late starts its bias correction then

    public Adam(List<Variable> parameters, double learningRate, double beta1, double beta2, double eps) {
        this(parameters, learningRate, beta1, beta2, eps, 0.0);
    }

    protected Adam(List<Variable> parameters, double learningRate, double beta1, double beta2, double eps,
            double weightDecay) {
        super(parameters, learningRate);
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0 && weightDecay >= 0)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": need 0 <= beta1, beta2 < 1, eps > 0 and"
                    + " weight decay >= 0; got beta1=" + beta1 + " beta2=" + beta2 + " eps=" + eps + " wd=" + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = new Tensor[this.parameters.size()];
        this.v = new Tensor[this.parameters.size()];
        this.steps = new long[this.parameters.size()];
    }

    @Override
    protected Tensor update(int i, Tensor value, Tensor grad) {
        long step = ++steps[i];
        m[i] = keepState(m[i], m[i] == null ? grad.mul(1 - beta1) : m[i].mul(beta1).add(grad.mul(1 - beta1)));
        v[i] = keepState(v[i], v[i] == null ? grad.mul(grad).mul(1 - beta2)
                : v[i].mul(beta2).add(grad.mul(grad).mul(1 - beta2)));
        Tensor mHat = m[i].mul(1 / (1 - Math.pow(beta1, step)));
        Tensor vHat = v[i].mul(1 / (1 - Math.pow(beta2, step)));
        Tensor direction = mHat.div(vHat.sqrt().add(eps));
        if (weightDecay > 0) {
            direction = direction.add(value.mul(weightDecay));
        }
        return value.sub(direction.mul(learningRate));
    }
}
