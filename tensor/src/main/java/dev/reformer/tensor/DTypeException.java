package dev.reformer.tensor;

/**
 * A tensor's dtype does not fit the op, e.g. {@code add: a(2,3) is float32 but b(2,3) is float64;
 * cast one of them}.
 */
public class DTypeException extends IllegalArgumentException {
    public DTypeException(String message) {
        super(message);
    }
}
