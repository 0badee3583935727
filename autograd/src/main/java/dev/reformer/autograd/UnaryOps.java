package dev.reformer.autograd;

import dev.reformer.tensor.Tensor;

/** Elementwise ops of one input. Each backward states its derivative in its first comment. */
public final class UnaryOps {
    private UnaryOps() {
    }

    /** {@code y = -x}. */
    public static final class Neg extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].neg();
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx (-x) = -1
            return new Tensor[] {g.neg()};
        }
    }

    /** {@code y = e^x}. */
    public static final class Exp extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].exp();
            saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx e^x = e^x = y
            return new Tensor[] {g.mul(saved(0))};
        }
    }

    /** {@code y = ln x}. */
    public static final class Log extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(x[0]);
            return x[0].log();
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx ln x = 1/x
            return new Tensor[] {g.div(saved(0))};
        }
    }

    /** {@code y = sqrt(x)}. */
    public static final class Sqrt extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].sqrt();
            saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx sqrt(x) = 1 / (2 sqrt(x)) = 1 / (2y)
            return new Tensor[] {g.div(saved(0).mul(2.0))};
        }
    }

    /** {@code y = tanh x}. */
    public static final class Tanh extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].tanh();
            saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx tanh x = 1 - tanh^2 x = 1 - y^2
            Tensor y = saved(0);
            return new Tensor[] {g.mul(y.mul(y).neg().add(1.0))};
        }
    }

    /** {@code y = max(x, 0)}. */
    public static final class Relu extends Function {
        @Override
        protected Tensor forward(Tensor... x) {
            Tensor y = x[0].relu();
            saveForBackward(y);
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx max(x, 0) = 1 where x > 0, else 0 (y > 0 exactly where x > 0)
            Tensor y = saved(0);
            Tensor positive = y.gt(Tensor.scalar(y.dtype(), 0));
            return new Tensor[] {Tensor.where(positive, g, Tensor.scalar(g.dtype(), 0))};
        }
    }
}
