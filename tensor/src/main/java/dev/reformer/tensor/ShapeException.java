package dev.reformer.tensor;

/**
 * A tensor's shape does not fit the op: the message names the op, the operands' shapes and what
 * must hold, e.g. {@code matmul: a(2,3) x b(4,5): a.shape[1]=3 must equal b.shape[0]=4}.
 */
public class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) {
        super(message);
    }
}
