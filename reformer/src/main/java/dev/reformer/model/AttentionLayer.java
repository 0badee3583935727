package dev.reformer.model;

import dev.reformer.attention.Attention;
import dev.reformer.attention.HashReplay;
import dev.reformer.attention.IncrementalAttention;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Dropout;
import dev.reformer.autograd.nn.LayerNorm;
import dev.reformer.autograd.nn.Linear;
import dev.reformer.autograd.nn.Module;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;

/**
 * The attention half of a Reformer block, {@code F(x) = Dropout(W_o Attention(LayerNorm(x)))}:
 * layer norm, projections to H heads of D (one shared query/key projection for shared-QK
 * variants, separate ones otherwise), the attention core, the output projection and dropout.
 * Legend: B batch, L length, d model width, H heads, D head dimension.
 */
public final class AttentionLayer extends Module {
    private final int heads;
    private final int headDim;
    private final Attention attention;
    private final LayerNorm norm;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear output;
    private final Dropout dropout;

    public AttentionLayer(long dModel, int heads, int headDim, Attention attention, double dropoutRate, DType dtype,
            Generator init) {
        this.heads = heads;
        this.headDim = headDim;
        this.attention = attention;
        long inner = (long) heads * headDim;
        this.norm = child("norm", new LayerNorm(dModel, 1e-5, dtype));
        this.query = child(attention.sharesQueryKey() ? "queryKey" : "query", new Linear(dModel, inner, false, dtype, init));
        this.key = attention.sharesQueryKey() ? null : child("key", new Linear(dModel, inner, false, dtype, init));
        this.value = child("value", new Linear(dModel, inner, false, dtype, init));
        this.output = child("output", new Linear(inner, dModel, true, dtype, init));
        this.dropout = child("dropout", new Dropout(dropoutRate, init.split()));
    }

    public Attention attention() {
        return attention;
    }

    /** x (B, L, d), padding (B, L) bool or null; {@code rng} drives this call's rotations and dropout. */
    public Variable forward(Variable x, Tensor padding, Generator rng) {
        return forward(x, padding, rng, null);
    }

    /** The same, recording or replaying LSH buckets through {@code replay} (null for neither). */
    public Variable forward(Variable x, Tensor padding, Generator rng, HashReplay replay) {
        Generator attentionRng = rng.split();
        Variable h = norm.forward(x);
        Variable q = splitHeads(query.forward(h));                                       // (B, H, L, D)
        Variable k = key == null ? q : splitHeads(key.forward(h));
        Variable v = splitHeads(value.forward(h));
        Variable attended = attention.attend(q, k, v, padding, attentionRng, replay);    // (B, H, L, D)
        return dropout.forward(output.forward(mergeHeads(attended)), rng);              // (B, L, d)
    }

    /** An incremental state of this layer's attention, drawing what {@link #forward} would draw from {@code rng}. */
    IncrementalAttention incremental(Generator rng) {
        return attention.incremental(heads, headDim, query.weight().dtype(), rng.split());
    }

    /**
     * The layer for one new position x (1, 1, d), in evaluation mode: the same projections as
     * {@link #forward}, the attention of the newest position from {@code state}'s cache.
     */
    Variable step(Variable x, IncrementalAttention state, int paddedLength) {
        Variable h = norm.forward(x);
        float[] q = query.forward(h).data().toFloatArray();                              // (H*D), head-major
        float[] k = key == null ? q : key.forward(h).data().toFloatArray();
        float[] v = value.forward(h).data().toFloatArray();
        float[] attended = state.next(q, k, v, paddedLength);
        Tensor merged = Tensor.of(attended, 1, 1, (long) heads * headDim).cast(query.weight().dtype());
        return output.forward(Variable.constant(merged));
    }

    Attention attentionOf() {
        return attention;
    }

    /** (B, L, H*D) -> (B, H, L, D). */
    private Variable splitHeads(Variable x) {
        long[] s = x.shape();
        return x.reshape(s[0], s[1], heads, headDim).permute(0, 2, 1, 3);
    }

    /** (B, H, L, D) -> (B, L, H*D). */
    private Variable mergeHeads(Variable x) {
        long[] s = x.shape();
        return x.permute(0, 2, 1, 3).reshape(s[0], s[2], (long) heads * headDim);
    }
}
