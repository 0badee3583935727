package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;

/**
 * {@code y = x W + b} over the last axis: x (..., in) -> y (..., out).
 * W is initialised Glorot-uniform, {@code U(-a, a)} with {@code a = sqrt(6 / (in + out))}; b with zeros.
 *
 * <pre>{@code
 * Linear proj = new Linear(256, 512, true, DType.FLOAT32, new Generator(0));
 * Variable y = proj.forward(x);   // (B, L, 256) -> (B, L, 512)
 * }</pre>
 */
public final class Linear extends Module implements Layer {
    private final long in;
    private final Variable weight;
    private final Variable bias;

    public Linear(long in, long out, boolean bias, DType dtype, Generator gen) {
        this.in = in;
        double limit = Math.sqrt(6.0 / (in + out));
        this.weight = parameter("weight", gen.uniform(dtype, -limit, limit, in, out));
        this.bias = bias ? parameter("bias", Tensor.zeros(dtype, out)) : null;
    }

    @Override
    public Variable forward(Variable x) {
        if (x.data().rank() < 2 || x.data().size(-1) != in) {
            throw new ShapeException("Linear: input x" + x.data().shapeString() + " must have shape (..., " + in + ")");
        }
        Variable y = x.matmul(weight);
        return bias == null ? y : y.add(bias);
    }

    public Variable weight() {
        return weight;
    }

    public Variable bias() {
        return bias;
    }
}
