package dev.reformer.tensor;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The element types a {@link Tensor} can hold.
 *
 * <p>Floating types carry values and gradients; the integer types carry indices (token ids,
 * bucket ids, permutations); {@code BOOL} is what comparisons return and {@code where} consumes.
 */
public enum DType {
    FLOAT32(DataType.FLOAT, 4),
    FLOAT64(DataType.DOUBLE, 8),
    INT32(DataType.INT, 4),
    INT64(DataType.LONG, 8),
    BOOL(DataType.BOOL, 1);

    private final DataType nd4j;
    private final int bytes;

    DType(DataType nd4j, int bytes) {
        this.nd4j = nd4j;
        this.bytes = bytes;
    }

    /** The ND4J data type that stores this dtype. */
    public DataType nd4j() {
        return nd4j;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return this == FLOAT32 || this == FLOAT64;
    }

    public boolean isInteger() {
        return this == INT32 || this == INT64;
    }

    /** The lower-case name used in messages and files: {@code float32}, {@code int64}, ... */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses {@code float32}, {@code float64}, {@code int32}, {@code int64} or {@code bool}. */
    public static DType parse(String label) {
        for (DType d : values()) {
            if (d.label().equals(label)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown dtype '" + label
                + "': expected one of float32, float64, int32, int64, bool");
    }

    static DType of(DataType nd4j) {
        for (DType d : values()) {
            if (d.nd4j == nd4j) {
                return d;
            }
        }
        throw new IllegalArgumentException("ND4J data type " + nd4j
                + " has no Tensor dtype: use float32, float64, int32, int64 or bool");
    }
}
