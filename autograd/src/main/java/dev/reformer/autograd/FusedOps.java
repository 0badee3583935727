package dev.reformer.autograd;

import dev.reformer.tensor.Tensor;

/**
 * Ops whose forward and backward each make one pass (per element, or per row over the last
 * axis), where their compositions of primitives (kept in
 * {@link dev.reformer.autograd.nn.Functional} as the reference) write a whole tensor per step.
 * On 16M floats PyTorch's fused softmax took 12-14 ms and its composed one 37-40 ms on this
 * project's machine; these are the same trade. The composed GELU kept ten tensors of the feed-forward's
 * hidden size alive for its backward, 80 MB of the duplication step's 175 MB peak.
 */
public final class FusedOps {
    private FusedOps() {
    }

    /** {@code y = gelu(x)}, tanh form (see {@link Tensor#gelu}). */
    public static final class Gelu extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(x[0]);
            return x[0].gelu();
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx gelu = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
            return new Tensor[] {Tensor.geluBackward(saved(0), g)};
        }
    }

    /** {@code y = softmax(x)} over the last axis. */
    public static final class Softmax extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].softmax();
            saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // dy_i/dx_j = y_i ([i = j] - y_j), so dx = y (g - sum(g y)) per row
            return new Tensor[] {Tensor.softmaxBackward(saved(0), g, false)};
        }
    }

    /** {@code y = log softmax(x) = x - logsumexp(x)} over the last axis. */
    public static final class LogSoftmax extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].logSoftmax();
            saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // dy_i/dx_j = [i = j] - softmax_j, so dx = g - e^y sum(g) per row
            return new Tensor[] {Tensor.softmaxBackward(saved(0), g, true)};
        }
    }

    /** {@code y = log sum_i e^(x_i)} over the last axis, shape (..., 1). */
    public static final class LogSumExp extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor lse = x[0].logsumexp();
            saveForBackward(x[0], lse);
            return lse;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx_i logsumexp(x) = e^(x_i - lse) = softmax(x)_i
            return new Tensor[] {Tensor.logsumexpBackward(saved(0), saved(1), g)};
        }
    }

    /**
     * Layer normalisation over the last axis: {@code y = xhat * gamma + beta} with
     * {@code xhat = (x - mean) / sqrt(var + eps)}. Inputs x (..., d), gamma (d), beta (d). Saves
     * its input x, gamma, and the per-row mean and rstd (its own, freed after the backward), and
     * recomputes xhat in the backward.
     */
    public static final class LayerNormalize extends Function {
        private final double eps;

        public LayerNormalize(double eps) {
            this.eps = eps;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            Tensor.Normalized n = x[0].layerNorm(x[1], x[2], eps);
            saveForBackward(x[0], x[1]);
            saveOwnedForBackward(n.mean(), n.rstd());
            return n.y();
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // with gh = g gamma: dx = rstd (gh - mean(gh) - xhat mean(gh xhat));
            // dgamma = sum over rows of g xhat; dbeta = sum over rows of g
            Tensor.NormGradients grads = Tensor.layerNormBackward(saved(0), saved(2), saved(3), saved(1), g);
            long[] paramShape = inputShape(1);
            return new Tensor[] {
                needsGrad(0) ? grads.dx() : null,
                needsGrad(1) ? grads.dgamma().reshape(paramShape) : null,
                needsGrad(2) ? grads.dbeta().reshape(paramShape) : null};
        }
    }
}
