package dev.reformer.tensor;

/**
 * An index tensor holds a value outside the axis it indexes, e.g.
 * {@code gather: index 7 at position (0,3) is out of range for axis 1 of x(2,5): expected 0 <= index < 5}.
 */
public class IndexRangeException extends IllegalArgumentException {
    public IndexRangeException(String message) {
        super(message);
    }
}
