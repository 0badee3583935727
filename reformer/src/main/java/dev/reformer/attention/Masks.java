package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/**
 * The masks every attention variant applies to its logits, by original sequence position.
 *
 * <p>Order, as in the reference code: forbidden keys (later positions when causal, padded
 * positions) are set to {@link #FORBIDDEN}; then a query's own position is set to the self-mask
 * value (shared-QK only: a query's dot product with its own normalised key would otherwise
 * dominate); then, when asked, duplicated keys lose {@code log(count)}.
 */
public final class Masks {
    /**
     * Logit of a key a query must not see. exp(-1e9 - lse) is exactly 0 in float32 and float64,
     * and the value is finite, so a row can never turn into NaN: the query's own position, at the
     * finite self-mask value, is always in its window.
     */
    public static final double FORBIDDEN = -1e9;

    /** The default logit of a query's own position (Trax and Hugging Face use -1e5). */
    public static final double SELF_MASK_VALUE = -1e5;

    private Masks() {
    }

    /** {@code logits} with {@code value} wherever {@code where} is true (broadcast). */
    static Variable fill(Variable logits, Tensor where, double value) {
        return Variable.where(where, Variable.constant(Tensor.scalar(logits.dtype(), value)), logits);
    }

    /** True where the key comes after the query: {@code keyPos > queryPos}. */
    static Tensor causal(Tensor queryPositions, Tensor keyPositions) {
        return keyPositions.gt(queryPositions);
    }

    /** True where the key is the query's own position. */
    static Tensor self(Tensor queryPositions, Tensor keyPositions) {
        return keyPositions.eq(queryPositions);
    }

    /**
     * {@code k / max(||k||, 1e-12)} over the last axis: shared-QK attention's keys. The floor is
     * applied to the squared norm ({@code sqrt(max(k.k, 1e-24))}, the same value) so that a zero
     * row has a finite gradient: the derivative of sqrt at 0 would be infinite.
     */
    static Variable normalize(Variable k) {
        Variable squared = k.mul(k).sum(true, -1);                                       // (..., 1)
        Variable norm = squared.maximum(Variable.constant(Tensor.scalar(k.dtype(), 1e-24))).sqrt();
        return k.div(norm);
    }

    /** Positions 0..L-1 as int64 of shape (L). */
    static Tensor positions(long length) {
        return Tensor.arange(DType.INT64, length);
    }
}
