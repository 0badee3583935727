package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;

/**
 * Layer normalisation over the last axis, a composition of primitives:
 * {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}, mean and (biased) variance over the last axis.
 *
 * <pre>{@code
 * LayerNorm norm = new LayerNorm(512, 1e-5, DType.FLOAT32);
 * Variable y = norm.forward(x);   // (..., 512) -> (..., 512)
 * }</pre>
 */
public final class LayerNorm extends Module implements Layer {
    private final long dim;
    private final double eps;
    private final Variable gamma;
    private final Variable beta;

    public LayerNorm(long dim, double eps, DType dtype) {
        this.dim = dim;
        this.eps = eps;
        this.gamma = parameter("gamma", Tensor.ones(dtype, dim));
        this.beta = parameter("beta", Tensor.zeros(dtype, dim));
    }

    @Override
    public Variable forward(Variable x) {
        if (x.data().rank() < 1 || x.data().size(-1) != dim) {
            throw new ShapeException("LayerNorm: input x" + x.data().shapeString() + " must have shape (..., " + dim + ")");
        }
        Variable centered = x.sub(x.mean(true, -1));
        Variable variance = centered.mul(centered).mean(true, -1);
        Variable normalized = centered.div(variance.add(eps).sqrt());
        return normalized.mul(gamma).add(beta);
    }
}
