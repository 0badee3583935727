package dev.reformer.autograd;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/** {@code y = x} converted to another floating dtype (float32 <-> float64). */
public final class Cast extends Function {
    private final DType to;
    private DType from;

    public Cast(DType to) {
        if (!to.isFloating()) {
            throw new dev.reformer.tensor.DTypeException("cast: a differentiable cast must target float32 or float64, not "
                    + to.label() + "; cast the tensor (Variable.data().cast) to make an index");
        }
        this.to = to;
    }

    @Override
    protected Tensor forward(Tensor... x) {
        from = x[0].dtype();
        return x[0].cast(to);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        // d/dx x = 1, carried back in the input's dtype
        return new Tensor[] {g.cast(from)};
    }
}
