package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.DTypeException;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;

/** The input checks every attention variant makes, with messages that name the shapes. */
final class AttentionShapes {
    private AttentionShapes() {
    }

    static void check(String variant, Variable q, Variable k, Variable v, Tensor padding, boolean sharedQk) {
        long[] qs = q.shape();
        if (qs.length != 4) {
            throw new ShapeException(variant + ": q" + Shapes.str(qs) + " must have shape (B, H, L, D)");
        }
        if (sharedQk && k != q) {
            throw new IllegalArgumentException(variant + ": queries and keys are shared here, so pass the same variable"
                    + " as q and k (got q" + Shapes.str(qs) + " and a different k" + Shapes.str(k.shape()) + ")");
        }
        if (!Arrays.equals(k.shape(), qs) || !Arrays.equals(v.shape(), qs)) {
            throw new ShapeException(variant + ": q" + Shapes.str(qs) + ", k" + Shapes.str(k.shape()) + " and v"
                    + Shapes.str(v.shape()) + " must have the same shape (B, H, L, D)");
        }
        if (padding != null) {
            if (padding.dtype() != DType.BOOL) {
                throw new DTypeException(variant + ": padding" + padding.shapeString() + " is " + padding.dtype().label()
                        + " but must be bool (true at padded positions)");
            }
            if (padding.rank() != 2 || padding.size(0) != qs[0] || padding.size(1) != qs[2]) {
                throw new ShapeException(variant + ": padding" + padding.shapeString() + " must have shape (B, L) = ("
                        + qs[0] + "," + qs[2] + ") for q" + Shapes.str(qs));
            }
        }
    }

    /**
     * A (B, L) bool padding mask as one flag per (example, head) row and position, (N, L) with
     * N = B * H, for the fused ops; null stays null.
     */
    static boolean[] paddingPerRow(Tensor padding, long heads) {
        if (padding == null) {
            return null;
        }
        long batch = padding.size(0);
        long length = padding.size(1);
        long[] values = padding.reshape(batch, 1, length).expand(batch, heads, length).cast(DType.INT64).toLongArray();
        boolean[] padded = new boolean[values.length];
        for (int i = 0; i < values.length; i++) {
            padded[i] = values[i] != 0;
        }
        return padded;
    }
}
