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

    /**
     * What a checkpoint needs to continue exactly: per parameter (in the order given to the
     * constructor) the first and second moments, null before its first update, and its update count.
     */
    public record State(Tensor[] m, Tensor[] v, long[] steps) {
    }

    /** A copy of the state's arrays; the tensors are this optimizer's (read them, do not release them). */
    public State state() {
        return new State(m.clone(), v.clone(), steps.clone());
    }

    /**
     * Replaces the state with {@code s} (from {@link #state} of an optimizer over parameters of the
     * same shapes), keeping a share of each tensor; throws naming the first parameter that does not fit.
     */
    public void restore(State s) {
        if (s.m().length != parameters.size() || s.v().length != parameters.size() || s.steps().length != parameters.size()) {
            throw new IllegalArgumentException("Adam.restore: state for " + s.m().length + " parameters, but this optimizer has "
                    + parameters.size());
        }
        for (int i = 0; i < parameters.size(); i++) {
            Tensor value = parameters.get(i).data();
            for (Tensor t : new Tensor[] {s.m()[i], s.v()[i]}) {
                if (t != null && (!java.util.Arrays.equals(t.shape(), value.shape()) || t.dtype() != value.dtype())) {
                    throw new IllegalArgumentException("Adam.restore: parameter " + i + " is " + value.dtype().label()
                            + value.shapeString() + " but its saved moment is " + t.dtype().label() + t.shapeString());
                }
            }
            if ((s.m()[i] == null) != (s.v()[i] == null) || (s.m()[i] == null) != (s.steps()[i] == 0)) {
                throw new IllegalArgumentException("Adam.restore: parameter " + i + " has an incomplete state (moments "
                        + (s.m()[i] != null) + "/" + (s.v()[i] != null) + ", " + s.steps()[i] + " updates)");
            }
        }
        for (int i = 0; i < parameters.size(); i++) {
            m[i] = s.m()[i] == null ? release(m[i]) : keepState(m[i], s.m()[i]);
            v[i] = s.v()[i] == null ? release(v[i]) : keepState(v[i], s.v()[i]);
            steps[i] = s.steps()[i];
        }
    }

    private static Tensor release(Tensor t) {
        if (t != null) {
            t.release();
        }
        return null;
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
