package dev.reformer.autograd;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/**
 * A tensor with a place in the computation graph: its value, the op that produced it (none for a
 * leaf) and, for a leaf that requires a gradient, the gradient accumulated by {@link #backward}.
 *
 * <p>An intermediate keeps a reference to the op that made it; the op keeps references to the ops
 * that made its inputs and to the tensors it saved for its backward, never to its inputs'
 * values. So a graph holds only what its backward needs (what {@link Graphs#retainedBytes} counts).
 *
 * <pre>{@code
 * Variable w = Variable.parameter(gen.normal(DType.FLOAT64, 0, 1, 3, 2));
 * Variable x = Variable.constant(Tensor.of(new double[] {1, 2, 3}, 1, 3));
 * Variable loss = x.matmul(w).tanh().sum();
 * loss.backward();
 * Tensor dLdw = w.grad();      // (3,2)
 * }</pre>
 */
public final class Variable {
    private Tensor data;
    private final Function creator;
    private final boolean requiresGrad;
    private Tensor grad;

    private Variable(Tensor data, Function creator, boolean requiresGrad) {
        this.data = data;
        this.creator = creator;
        this.requiresGrad = requiresGrad;
    }

    /** A leaf that needs no gradient: inputs, masks, targets. */
    public static Variable constant(Tensor value) {
        return new Variable(value, null, false);
    }

    /**
     * A leaf whose gradient {@link #backward} accumulates: a model parameter or an input under
     * study. It takes a share of its value's memory (and later of each gradient), so both outlive
     * the {@link dev.reformer.tensor.MemoryScope} they were made in.
     */
    public static Variable parameter(Tensor value) {
        if (!value.dtype().isFloating()) {
            throw new dev.reformer.tensor.DTypeException("parameter: value" + value.shapeString() + " is "
                    + value.dtype().label() + "; only float32 and float64 tensors can have gradients");
        }
        return new Variable(value.retain(), null, true);
    }

    static Variable result(Tensor value, Function creator) {
        return new Variable(value, creator, true);
    }

    public Tensor data() {
        return data;
    }

    /** The accumulated gradient of a leaf, or {@code null} before any backward reached it. */
    public Tensor grad() {
        return grad;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public boolean isLeaf() {
        return creator == null;
    }

    /** The op that produced this value, or {@code null} for a leaf. */
    public Function creator() {
        return creator;
    }

    public long[] shape() {
        return data.shape();
    }

    public DType dtype() {
        return data.dtype();
    }

    /**
     * Replaces a leaf's value (what an optimizer step does); the shape and dtype must stay. A
     * parameter takes a share of the new value and gives back its share of the old one.
     */
    public void setData(Tensor value) {
        if (!isLeaf()) {
            throw new IllegalStateException("setData: only a leaf's value can be replaced; this one was made by '"
                    + creator.name() + "'");
        }
        if (!java.util.Arrays.equals(value.shape(), data.shape()) || value.dtype() != data.dtype()) {
            throw new dev.reformer.tensor.ShapeException("setData: new value " + value.dtype().label() + value.shapeString()
                    + " must match the old " + data.dtype().label() + data.shapeString());
        }
        if (requiresGrad) {
            value.retain();
            data.releaseAtScopeEnd();
        }
        data = value;
    }

    /** Replaces a leaf's accumulated gradient (gradient clipping does); the shape must match. */
    public void setGrad(Tensor g) {
        if (!java.util.Arrays.equals(g.shape(), data.shape()) || g.dtype() != data.dtype()) {
            throw new dev.reformer.tensor.ShapeException("setGrad: gradient " + g.dtype().label() + g.shapeString()
                    + " must match the value " + data.dtype().label() + data.shapeString());
        }
        g.retain();
        zeroGrad();
        grad = g;
    }

    /**
     * Clears the accumulated gradient. Its memory goes back to the pool when the innermost open
     * {@link dev.reformer.tensor.MemoryScope} closes, so a gradient read earlier stays valid until then.
     */
    public void zeroGrad() {
        if (grad != null) {
            grad.releaseAtScopeEnd();
            grad = null;
        }
    }

    /**
     * Gives back the shares a parameter holds in its value and its gradient, for a leaf made for
     * one computation (a reversible block's rebuilt input, a gradient check's input): both stay
     * readable until the innermost open {@link dev.reformer.tensor.MemoryScope} closes, then go
     * back to the pool. A parameter that lives on (a model's weight) is never released.
     */
    public void release() {
        if (!isLeaf() || !requiresGrad) {
            throw new IllegalStateException("release: only a parameter (a leaf that wants a gradient) holds shares to release;"
                    + " this is " + this);
        }
        zeroGrad();
        data.releaseAtScopeEnd();
    }

    /** Adds a gradient; the leaf keeps a share of the sum's memory. */
    void accumulateGrad(Tensor g) {
        Tensor sum = grad == null ? g : grad.add(g);
        sum.retain();
        zeroGrad();
        grad = sum;
    }

    /** Back-propagates from this single-element value (a loss): {@code dL/dL = 1}. */
    public void backward() {
        if (data.numel() != 1) {
            throw new dev.reformer.tensor.ShapeException("backward: output has shape " + data.shapeString()
                    + "; backward() without a seed needs a single-element output (a loss), or pass backward(seed)");
        }
        backward(Tensor.ones(data.dtype(), data.shape()));
    }

    /** Back-propagates {@code seed = dL/dthis} through the graph into every leaf's gradient. */
    public void backward(Tensor seed) {
        if (!java.util.Arrays.equals(seed.shape(), data.shape()) || seed.dtype() != data.dtype()) {
            throw new dev.reformer.tensor.ShapeException("backward: seed " + seed.dtype().label() + seed.shapeString()
                    + " must match the output " + data.dtype().label() + data.shapeString());
        }
        Backprop.run(this, seed);
    }

    /** The same value cut from the graph: no gradient flows through the result. */
    public Variable detach() {
        return constant(data);
    }

    @Override
    public String toString() {
        return "Variable(" + (creator == null ? (requiresGrad ? "parameter" : "constant") : creator.name()) + ", "
                + data.dtype().label() + ", " + data.shapeString() + ")";
    }

    // ------------------------------------------------------------------ ops

    public Variable neg() {
        return new UnaryOps.Neg().apply(this);
    }

    public Variable exp() {
        return new UnaryOps.Exp().apply(this);
    }

    public Variable log() {
        return new UnaryOps.Log().apply(this);
    }

    public Variable sqrt() {
        return new UnaryOps.Sqrt().apply(this);
    }

    public Variable tanh() {
        return new UnaryOps.Tanh().apply(this);
    }

    public Variable relu() {
        return new UnaryOps.Relu().apply(this);
    }

    public Variable add(Variable b) {
        return new BinaryOps.Add().apply(this, b);
    }

    public Variable sub(Variable b) {
        return new BinaryOps.Sub().apply(this, b);
    }

    public Variable mul(Variable b) {
        return new BinaryOps.Mul().apply(this, b);
    }

    public Variable div(Variable b) {
        return new BinaryOps.Div().apply(this, b);
    }

    public Variable maximum(Variable b) {
        return new BinaryOps.Maximum().apply(this, b);
    }

    /** {@code this + s} for a constant scalar {@code s}. */
    public Variable add(double s) {
        return add(scalar(s));
    }

    /** {@code this - s} for a constant scalar {@code s}. */
    public Variable sub(double s) {
        return sub(scalar(s));
    }

    /** {@code this * s} for a constant scalar {@code s}. */
    public Variable mul(double s) {
        return mul(scalar(s));
    }

    /** {@code this / s} for a constant scalar {@code s}. */
    public Variable div(double s) {
        return div(scalar(s));
    }

    private Variable scalar(double s) {
        return constant(Tensor.scalar(data.dtype(), s));
    }

    /** {@code cond ? a : b} elementwise; {@code cond} is a bool tensor and carries no gradient. */
    public static Variable where(Tensor cond, Variable a, Variable b) {
        return new BinaryOps.Where(cond).apply(a, b);
    }

    /** Sum over all axes: a rank-0 value. */
    public Variable sum() {
        return sum(false);
    }

    public Variable sum(boolean keepDims, int... axes) {
        return new ReduceOps.Sum(keepDims, axes).apply(this);
    }

    public Variable max(boolean keepDims, int... axes) {
        return new ReduceOps.Max(keepDims, axes).apply(this);
    }

    public Variable mean(boolean keepDims, int... axes) {
        return new ReduceOps.Mean(keepDims, axes).apply(this);
    }

    public Variable matmul(Variable b) {
        return new MatMul().apply(this, b);
    }

    public Variable reshape(long... shape) {
        return new LayoutOps.Reshape(shape).apply(this);
    }

    public Variable permute(int... order) {
        return new LayoutOps.Permute(order).apply(this);
    }

    /** Swaps the last two axes. */
    public Variable transpose() {
        int r = data.rank();
        int[] order = new int[r];
        for (int i = 0; i < r; i++) {
            order[i] = i;
        }
        if (r >= 2) {
            order[r - 2] = r - 1;
            order[r - 1] = r - 2;
        }
        return permute(order);
    }

    public Variable slice(int axis, long start, long end) {
        return new LayoutOps.Slice(axis, start, end).apply(this);
    }

    public static Variable concat(int axis, Variable... parts) {
        return new LayoutOps.Concat(axis).apply(parts);
    }

    public Variable expand(long... shape) {
        return new LayoutOps.Expand(shape).apply(this);
    }

    /** See {@link Tensor#gather}; the index carries no gradient. */
    public Variable gather(int axis, Tensor index) {
        return new IndexOps.Gather(axis, index).apply(this);
    }

    /** See {@link Tensor#scatterAdd}; the index carries no gradient. */
    public Variable scatterAdd(int axis, Tensor index, Variable src) {
        return new IndexOps.ScatterAdd(axis, index).apply(this, src);
    }

    public Variable cast(DType to) {
        return new Cast(to).apply(this);
    }
}
