package dev.reformer.attention;

/**
 * Everything a fused chunked attention call needs besides its tensors: the contract shared by the
 * plain reference ({@link ChunkedAttentionReference}), the vector kernel
 * ({@link ChunkedAttentionKernel}) and the CUDA kernels.
 *
 * <p>The call sees each of N rows (example x head) as K*L items (round r, position t) in sorted
 * order, {@code sortedIndex[n][s] = r*L + t} (the identity for local attention, K = 1). The items
 * are cut into n = K*L/C chunks; chunk c attends to the chunks c - before .. c + after, wrapping
 * around (cyclic, LSH) or with the chunks past either end masked (local attention). For query
 * item i (position t) and key slot j (position p) the logit is
 * <pre>
 *   self mask value          if shared QK and p == t
 *   FORBIDDEN                else if causal and p &gt; t, or p is padding, or the chunk is past an end
 *   scale * q_t . k_p        otherwise        (k_p = q_p / |q_p| for shared QK)
 * </pre>
 * minus {@code log(count(t, p))} with dedupe (paper eq. 16: the rounds in whose window p appears).
 * Per item: {@code lse = logsumexp(logits)}, {@code out = sum_j softmax_j v_p}, each softmax
 * normalised by its own sum. Rounds combine as {@code sum_r softmax_r(lse_r) out_r}.
 *
 * @param rounds        K, hash rounds (1 for local attention)
 * @param chunkLength   C
 * @param chunksBefore  chunks each chunk looks back
 * @param chunksAfter   chunks each chunk looks ahead
 * @param cyclic        windows wrap around the K*L items (LSH); else chunks past the ends are masked
 * @param causal        keys after the query are forbidden
 * @param scale         logit scale
 * @param selfMaskValue logit of a query's own position for shared QK; NaN for separate queries and keys
 * @param dedupe        subtract log(count) for keys seen through several rounds (paper eq. 16)
 */
public record ChunkedAttentionSpec(int rounds, int chunkLength, int chunksBefore, int chunksAfter, boolean cyclic,
        boolean causal, double scale, double selfMaskValue, boolean dedupe) {

    /** Whether queries double as keys (keys normalised, own position at the self-mask value). */
    public boolean sharedQk() {
        return !Double.isNaN(selfMaskValue);
    }

    /** Key slots a chunk sees: (before + 1 + after) * C. */
    public int window() {
        return (chunksBefore + 1 + chunksAfter) * chunkLength;
    }
}
