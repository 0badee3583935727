package dev.reformer.autograd;

import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;

/**
 * Reductions over axes. Each input element fed one output element, so the backward reshapes
 * the output gradient to the keepdims shape and spreads it back over the reduced axes.
 */
public final class ReduceOps {
    private ReduceOps() {
    }

    /** The output gradient with the reduced axes restored as size 1, then expanded to the input's shape. */
    static Tensor spread(Tensor g, long[] inputShape, int[] axes) {
        int[] normalized = Shapes.axes("reduce", axes, inputShape);
        return g.reshape(Shapes.reduced(inputShape, normalized, true)).expand(inputShape);
    }

    /** {@code y = sum over axes of x}. */
    public static final class Sum extends Function {
        private final boolean keepDims;
        private final int[] axes;

        public Sum(boolean keepDims, int... axes) {
            this.keepDims = keepDims;
            this.axes = axes.clone();
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].sum(keepDims, axes);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx_i sum_j x_j = 1
            return new Tensor[] {spread(g, inputShape(0), axes)};
        }
    }

    /** {@code y = mean over axes of x}. */
    public static final class Mean extends Function {
        private final boolean keepDims;
        private final int[] axes;

        public Mean(boolean keepDims, int... axes) {
            this.keepDims = keepDims;
            this.axes = axes.clone();
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].mean(keepDims, axes);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx_i (1/n) sum_j x_j = 1/n
            long[] shape = inputShape(0);
            long n = Shapes.numel(shape) / Shapes.numel(Shapes.reduced(shape, Shapes.axes("mean", axes, shape), true));
            return new Tensor[] {spread(g, shape, axes).mul(1.0 / n)};
        }
    }

    /** {@code y = max over axes of x}; tied maxima share the gradient equally. */
    public static final class Max extends Function {
        private final boolean keepDims;
        private final int[] axes;

        public Max(boolean keepDims, int... axes) {
            this.keepDims = keepDims;
            this.axes = axes.clone();
        }

        @Override
        protected Tensor forward(Tensor... x) {
            Tensor maxKept = x[0].max(true, axes);
            saveForBackward(x[0].eq(maxKept.expand(x[0].shape())));
            return keepDims ? maxKept : maxKept.reshape(Shapes.reduced(x[0].shape(),
                    Shapes.axes("max", axes, x[0].shape()), false));
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx_i max_j x_j = [x_i is the max] / (number of maxima)
            Tensor isMax = saved(0).cast(g.dtype());
            Tensor ties = isMax.sum(true, axes);
            long[] shape = inputShape(0);
            return new Tensor[] {spread(g, shape, axes).mul(isMax).div(ties)};
        }
    }
}
