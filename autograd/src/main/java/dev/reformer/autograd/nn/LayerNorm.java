package dev.reformer.autograd.nn;

import dev.reformer.autograd.FusedOps;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;

/**
 * Layer normalisation over the last axis:
 * {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}, mean and (biased) variance over the
 * last axis. It runs as one fused op ({@link dev.reformer.autograd.FusedOps.LayerNormalize});
 * {@link Functional#layerNormComposed} is the same formula in primitives, the reference it is tested against.
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
        return new FusedOps.LayerNormalize(eps).apply(x, gamma, beta);
    }
}
