package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;

/**
 * The attention core shared by every variant: per-head queries, keys and values in, per-head
 * outputs out. Projections to and from the model width live in the layer that calls this.
 *
 * <p>Letters used in every attention class: B batch, H heads, L length, D head dimension,
 * K hash rounds, NB buckets per round, C chunk length, N = B*H, n chunks.
 *
 * <pre>{@code
 * Attention lsh = LshAttention.builder().hashes(4).buckets(16).chunkLength(32).causal(true).build();
 * Variable out = lsh.attend(qk, qk, v, null, new Generator(seed));   // (B, H, L, D)
 * }</pre>
 */
public interface Attention {
    /**
     * Attends each query to the keys the variant allows.
     *
     * @param q       queries (B, H, L, D)
     * @param k       keys (B, H, L, D); variants that share queries and keys require {@code k == q}
     * @param v       values (B, H, L, D)
     * @param padding (B, L) bool, true at padded positions, or {@code null} when nothing is padded
     * @param rng     this call's randomness (the LSH rotations); replaying a seed replays the call
     * @return the attention output (B, H, L, D)
     */
    Variable attend(Variable q, Variable k, Variable v, Tensor padding, Generator rng);

    /**
     * The same, recording the call's discrete choices into {@code replay} or taking them from it
     * (see {@link HashReplay}); variants that make none ignore it.
     */
    default Variable attend(Variable q, Variable k, Variable v, Tensor padding, Generator rng, HashReplay replay) {
        return attend(q, k, v, padding, rng);
    }

    /** Whether queries double as keys (Reformer's shared-QK attention): callers then pass {@code k == q}. */
    boolean sharesQueryKey();

    /**
     * A state for generating one position at a time with {@code heads} heads of {@code dim}
     * ({@link IncrementalAttention}); {@code rng} is what {@link #attend} would be given, so LSH
     * draws the same rotations as a call on a batch of one.
     */
    IncrementalAttention incremental(int heads, int dim, dev.reformer.tensor.DType dtype, Generator rng);
}
