package dev.reformer.autograd.nn;

import dev.reformer.autograd.FusedOps;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.DTypeException;
import dev.reformer.tensor.IndexRangeException;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;

/**
 * Stateless functions: softmax, log-softmax, logsumexp, layer norm, GELU, cross-entropy. Over the
 * last axis the softmax family runs as fused ops ({@link FusedOps}); the {@code ...Composed}
 * methods write the same formulas in primitives, whose gradients come from the primitives'
 * backwards: they are the reference the fused ops are tested against, and serve other axes.
 */
public final class Functional {
    private Functional() {
    }

    /**
     * {@code softmax(x)_i = e^(x_i - c) / sum_j e^(x_j - c)} along {@code axis}, with {@code c = max x}.
     * Subtracting the maximum changes nothing mathematically (it cancels) but keeps every exponent
     * at most 0, so nothing overflows; c is a constant, since the result does not depend on it.
     */
    public static Variable softmax(Variable x, int axis) {
        return isLast(x, axis) ? new FusedOps.Softmax().apply(x) : softmaxComposed(x, axis);
    }

    /** {@link #softmax} composed of primitives: {@code e / sum(e)} with {@code e = e^(x - max x)}. */
    public static Variable softmaxComposed(Variable x, int axis) {
        Variable shifted = x.sub(Variable.constant(x.data().max(true, axis)));
        Variable e = shifted.exp();
        return e.div(e.sum(true, axis));
    }

    /** {@code log softmax(x) = x - logsumexp(x)} along {@code axis}. */
    public static Variable logSoftmax(Variable x, int axis) {
        return isLast(x, axis) ? new FusedOps.LogSoftmax().apply(x) : logSoftmaxComposed(x, axis);
    }

    /** {@link #logSoftmax} composed of primitives. */
    public static Variable logSoftmaxComposed(Variable x, int axis) {
        return x.sub(logsumexpComposed(x, axis, true));
    }

    /**
     * {@code logsumexp(x) = c + log sum_i e^(x_i - c)} along {@code axis}, {@code c = max x} (a
     * constant: the value does not depend on it, and it keeps the exponents at most 0).
     * Its gradient is {@code softmax(x)}. Masked entries should be large negative finite numbers,
     * not {@code -inf}, or a fully masked row gives NaN.
     */
    public static Variable logsumexp(Variable x, int axis, boolean keepDims) {
        if (!isLast(x, axis)) {
            return logsumexpComposed(x, axis, keepDims);
        }
        Variable lse = new FusedOps.LogSumExp().apply(x);
        return keepDims ? lse : lse.reshape(x.data().max(false, axis).shape());
    }

    /** {@link #logsumexp} composed of primitives. */
    public static Variable logsumexpComposed(Variable x, int axis, boolean keepDims) {
        Tensor c = x.data().max(true, axis);
        Variable lse = x.sub(Variable.constant(c)).exp().sum(true, axis).log().add(Variable.constant(c));
        if (keepDims) {
            return lse;
        }
        return lse.reshape(x.data().max(false, axis).shape());
    }

    /** Layer normalisation over the last axis composed of primitives: the reference for {@link LayerNorm}. */
    public static Variable layerNormComposed(Variable x, Variable gamma, Variable beta, double eps) {
        Variable centered = x.sub(x.mean(true, -1));
        Variable variance = centered.mul(centered).mean(true, -1);
        Variable normalized = centered.div(variance.add(eps).sqrt());
        return normalized.mul(gamma).add(beta);
    }

    private static boolean isLast(Variable x, int axis) {
        int rank = x.data().rank();
        return rank > 0 && (axis == -1 || axis == rank - 1);
    }

    /** GELU, tanh form: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, one fused op. */
    public static Variable gelu(Variable x) {
        return new FusedOps.Gelu().apply(x);
    }

    /** {@link #gelu} composed of primitives: the reference the fused op is tested against. */
    public static Variable geluComposed(Variable x) {
        Variable cube = x.mul(x).mul(x);
        Variable inner = x.add(cube.mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(inner.tanh().add(1.0)).mul(0.5);
    }

    /**
     * Mean cross-entropy of {@code logits} (..., V) against integer {@code targets} (...):
     * {@code -(1/n) sum_i log softmax(logits_i)[t_i]} over the n positions whose target is not
     * {@code ignoreIndex}. With no such position the loss is 0 (and so are its gradients).
     */
    public static Variable crossEntropy(Variable logits, Tensor targets, long ignoreIndex) {
        if (!targets.dtype().isInteger()) {
            throw new DTypeException("crossEntropy: targets" + targets.shapeString() + " are " + targets.dtype().label()
                    + " but must be int32 or int64 class ids");
        }
        long[] ls = logits.shape();
        long classes = ls[ls.length - 1];
        long positions = targets.numel();
        if (ls.length != targets.rank() + 1 || logits.data().numel() != positions * classes) {
            throw new ShapeException("crossEntropy: logits" + logits.data().shapeString() + " and targets"
                    + targets.shapeString() + " do not fit: logits must have the targets' shape plus a class axis");
        }
        long[] t = targets.toLongArray();
        double[] weight = new double[t.length];
        long counted = 0;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == ignoreIndex) {
                t[i] = 0; // any valid row; its weight is 0
                continue;
            }
            if (t[i] < 0 || t[i] >= classes) {
                throw new IndexRangeException("crossEntropy: target " + t[i] + " at flat position " + i
                        + " is out of range for " + classes + " classes (and is not the ignore index " + ignoreIndex + ")");
            }
            weight[i] = 1;
            counted++;
        }
        DType dtype = logits.dtype();
        Variable logProbs = logSoftmax(logits.reshape(positions, classes), -1);
        Variable picked = logProbs.gather(1, Tensor.of(t, positions, 1));                 // (n, 1)
        Variable mask = Variable.constant(Tensor.of(weight, positions, 1).cast(dtype));
        return picked.mul(mask).sum().mul(-1.0 / Math.max(counted, 1));
    }
}
