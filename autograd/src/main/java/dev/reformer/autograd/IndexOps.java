package dev.reformer.autograd;

import dev.reformer.tensor.Tensor;

/**
 * Gather and scatter-add along an axis. They are each other's adjoint: the backward of a gather
 * is a scatter-add of the gradient to the gathered positions, and the backward of a scatter-add
 * is a gather of the gradient from the scattered positions. The integer index is part of the op.
 */
public final class IndexOps {
    private IndexOps() {
    }

    /** {@code out[a, j, r] = x[a, index[a, j], r]}. */
    public static final class Gather extends Function {
        private final int axis;
        private final Tensor index;

        public Gather(int axis, Tensor index) {
            this.axis = axis;
            this.index = index;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(index);
            return x[0].gather(axis, index);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d out[a,j,r] / d x[a,k,r] = [index[a,j] == k]: add each gradient row back where it came from
            Tensor zeros = Tensor.zeros(g.dtype(), inputShape(0));
            return new Tensor[] {zeros.scatterAdd(axis, saved(0), g)};
        }
    }

    /** {@code out = base}, then {@code out[a, index[a, j], r] += src[a, j, r]}. */
    public static final class ScatterAdd extends Function {
        private final int axis;
        private final Tensor index;

        public ScatterAdd(int axis, Tensor index) {
            this.axis = axis;
            this.index = index;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(index);
            return x[0].scatterAdd(axis, index, x[1]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d out / d base = identity; d out[a,k,r] / d src[a,j,r] = [index[a,j] == k]: gather g back
            return new Tensor[] {needsGrad(0) ? g : null, needsGrad(1) ? g.gather(axis, saved(0)) : null};
        }
    }
}
