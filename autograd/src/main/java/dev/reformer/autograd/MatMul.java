package dev.reformer.autograd;

import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;

/**
 * {@code Y = A B} over the last two axes (see {@link Tensor#matmul} for the accepted shapes).
 * For {@code Y = A B}: {@code dL/dA = dL/dY B^T} and {@code dL/dB = A^T dL/dY}.
 */
public final class MatMul extends Function {
    @Override
    protected Tensor forward(Tensor... x) {
        saveForBackward(x[0], x[1]);
        return x[0].matmul(x[1]);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        // dA = g B^T, dB = A^T g
        Tensor a = saved(0);
        Tensor b = saved(1);
        Tensor gradA = needsGrad(0) ? g.matmul(b.transpose()) : null;
        Tensor gradB = null;
        if (needsGrad(1)) {
            if (b.rank() == 2 && a.rank() > 2) {
                // B was shared by every row of the batch: flatten the rows so A^T g sums over them.
                long k = a.size(-1);
                long rows = Shapes.numel(a.shape()) / k;
                gradB = a.reshape(rows, k).transpose().matmul(g.reshape(rows, g.size(-1)));
            } else {
                gradB = a.transpose().matmul(g);
            }
        }
        return new Tensor[] {gradA, gradB};
    }
}
