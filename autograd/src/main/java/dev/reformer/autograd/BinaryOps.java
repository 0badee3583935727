package dev.reformer.autograd;

import dev.reformer.tensor.Tensor;
import java.util.Arrays;

/**
 * Elementwise ops of two inputs with NumPy broadcasting. A broadcast input received the same
 * value at many output positions, so its gradient is the sum of the output gradient over those
 * positions ({@link #sumToShape}).
 */
public final class BinaryOps {
    private BinaryOps() {
    }

    /** Sums {@code g} over the axes along which an input of {@code shape} was broadcast. */
    static Tensor sumToShape(Tensor g, long[] shape) {
        long[] gs = g.shape();
        if (Arrays.equals(gs, shape)) {
            return g;
        }
        int lead = gs.length - shape.length;
        int[] axes = new int[gs.length];
        int n = 0;
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) {
                axes[n++] = i;
            }
        }
        return g.sum(true, Arrays.copyOf(axes, n)).reshape(shape);
    }

    /** {@code y = a + b}. */
    public static final class Add extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].add(x[1]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/da (a + b) = 1, d/db (a + b) = 1
            return new Tensor[] {sumToShape(g, inputShape(0)), sumToShape(g, inputShape(1))};
        }
    }

    /** {@code y = a - b}. */
    public static final class Sub extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].sub(x[1]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/da (a - b) = 1, d/db (a - b) = -1
            return new Tensor[] {sumToShape(g, inputShape(0)), needsGrad(1) ? sumToShape(g.neg(), inputShape(1)) : null};
        }
    }

    /** {@code y = a * b}. */
    public static final class Mul extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            // dL/da needs b and dL/db needs a: keep only what a wanted gradient needs.
            saveForBackward(needsGrad(1) ? x[0] : null, needsGrad(0) ? x[1] : null);
            return x[0].mul(x[1]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/da (a b) = b, d/db (a b) = a
            Tensor a = saved(0);
            Tensor b = saved(1);
            return new Tensor[] {
                needsGrad(0) ? sumToShape(g.mul(b), inputShape(0)) : null,
                needsGrad(1) ? sumToShape(g.mul(a), inputShape(1)) : null};
        }
    }

    /** {@code y = a / b}. */
    public static final class Div extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].div(x[1]);
            saveForBackward(x[1], needsGrad(1) ? y : null);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/da (a/b) = 1/b, d/db (a/b) = -a/b^2 = -y/b
            Tensor b = saved(0);
            Tensor y = saved(1);
            Tensor gOverB = g.div(b);
            return new Tensor[] {
                needsGrad(0) ? sumToShape(gOverB, inputShape(0)) : null,
                needsGrad(1) ? sumToShape(gOverB.mul(y).neg(), inputShape(1)) : null};
        }
    }

    /** {@code y = max(a, b)}; on a tie the gradient goes to {@code a}. */
    public static final class Maximum extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(x[0].lt(x[1]));
            return x[0].maximum(x[1]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/da max(a, b) = [a >= b], d/db max(a, b) = [a < b]
            Tensor bWins = saved(0);
            Tensor zero = Tensor.scalar(g.dtype(), 0);
            return new Tensor[] {
                needsGrad(0) ? sumToShape(Tensor.where(bWins, zero, g), inputShape(0)) : null,
                needsGrad(1) ? sumToShape(Tensor.where(bWins, g, zero), inputShape(1)) : null};
        }
    }

    /** {@code y = cond ? a : b}; the bool {@code cond} is part of the op, not a differentiable input. */
    public static final class Where extends Function {
        private final Tensor cond;

        public Where(Tensor cond) {
            this.cond = cond;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(cond);
            return Tensor.where(cond, x[0], x[1]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/da (cond ? a : b) = [cond], d/db = [not cond]
            Tensor takesA = saved(0);
            Tensor zero = Tensor.scalar(g.dtype(), 0);
            return new Tensor[] {
                needsGrad(0) ? sumToShape(Tensor.where(takesA, g, zero), inputShape(0)) : null,
                needsGrad(1) ? sumToShape(Tensor.where(takesA, zero, g), inputShape(1)) : null};
        }
    }
}
