package dev.reformer.autograd;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Ops that move elements without changing them; each backward moves the gradient back. */
public final class LayoutOps {
    private LayoutOps() {
    }

    /** Same elements, new shape. */
    public static final class Reshape extends Function {
        private final long[] shape;

        public Reshape(long... shape) {
            this.shape = shape.clone();
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].reshape(shape);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // reshape is a bijection on positions: the gradient takes the input's shape back
            return new Tensor[] {g.reshape(inputShape(0))};
        }
    }

    /** Axes reordered: output axis i is input axis {@code order[i]}. */
    public static final class Permute extends Function {
        private final int[] order;

        public Permute(int... order) {
            this.order = order.clone();
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].permute(order);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // the inverse permutation sends each gradient element back to its input axis
            int[] inverse = new int[order.length];
            for (int i = 0; i < order.length; i++) {
                inverse[order[i]] = i;
            }
            return new Tensor[] {g.permute(inverse)};
        }
    }

    /** Elements {@code [start, end)} along an axis. */
    public static final class Slice extends Function {
        private final int axis;
        private final long start;
        private final long end;

        public Slice(int axis, long start, long end) {
            this.axis = axis;
            this.start = start;
            this.end = end;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].slice(axis, start, end);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx slice(x) is 1 on the sliced positions and 0 elsewhere: pad g with zeros
            long[] shape = inputShape(0);
            int a = Shapes.axis("slice", axis, shape);
            List<Tensor> parts = new ArrayList<>();
            if (start > 0) {
                parts.add(zeros(g.dtype(), shape, a, start));
            }
            parts.add(g);
            if (end < shape[a]) {
                parts.add(zeros(g.dtype(), shape, a, shape[a] - end));
            }
            return new Tensor[] {Tensor.concat(a, parts.toArray(new Tensor[0]))};
        }

        private static Tensor zeros(DType dtype, long[] shape, int axis, long size) {
            long[] s = shape.clone();
            s[axis] = size;
            return Tensor.zeros(dtype, s);
        }
    }

    /** Inputs joined along an axis. */
    public static final class Concat extends Function {
        private final int axis;

        public Concat(int axis) {
            this.axis = axis;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return Tensor.concat(axis, x);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // each input receives the slice of the gradient where its elements landed
            int a = Shapes.axis("concat", axis, g.shape());
            Tensor[] grads = new Tensor[arity()];
            long offset = 0;
            for (int i = 0; i < grads.length; i++) {
                long size = inputShape(i)[a];
                grads[i] = needsGrad(i) ? g.slice(a, offset, offset + size) : null;
                offset += size;
            }
            return grads;
        }
    }

    /** Broadcast to a larger shape. */
    public static final class Expand extends Function {
        private final long[] shape;

        public Expand(long... shape) {
            this.shape = shape.clone();
        }

        @Override
        protected Tensor forward(Tensor... x) {
            return x[0].expand(shape);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // each input element was copied to many outputs: sum their gradients
            return new Tensor[] {BinaryOps.sumToShape(g, inputShape(0))};
        }
    }
}
