package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The chunked attention LSH and local attention share: cut a sequence into chunks of C, let each
 * chunk see itself and its neighbours, and attend within that window.
 */
final class Chunks {
    private Chunks() {
    }

    /** (N, M, ...) -> (N, M/C, C, ...): consecutive items form a chunk. */
    static Variable chunk(Variable x, int chunkLength) {
        long[] s = x.shape();
        long[] out = new long[s.length + 1];
        out[0] = s[0];
        out[1] = s[1] / chunkLength;
        out[2] = chunkLength;
        System.arraycopy(s, 2, out, 3, s.length - 2);
        return x.reshape(out);
    }

    static Tensor chunk(Tensor x, int chunkLength) {
        return chunk(Variable.constant(x), chunkLength).data();
    }

    /**
     * (N, n, C, ...) -> (N, n, W*C, ...), W = before + 1 + after: chunk j followed by the chunks
     * j-before .. j+after, cyclically over all n chunks (Trax's look_adjacent). With one chunk and
     * one chunk back, the chunk sees itself twice, as in the reference code.
     */
    static Variable lookAround(Variable x, int before, int after) {
        List<Variable> window = new ArrayList<>();
        for (int offset = -before; offset <= after; offset++) {
            window.add(roll(x, offset));
        }
        return window.size() == 1 ? window.get(0) : Variable.concat(2, window.toArray(new Variable[0]));
    }

    static Tensor lookAround(Tensor x, int before, int after) {
        return lookAround(Variable.constant(x), before, after).data();
    }

    /** Chunk j of the result is chunk (j + offset) mod n of {@code x}. */
    private static Variable roll(Variable x, int offset) {
        long n = x.shape()[1];
        long start = Math.floorMod(offset, n);
        if (start == 0) {
            return x;
        }
        return Variable.concat(1, x.slice(1, start, n), x.slice(1, 0, start));
    }

    /** A chunked attention's masks, by original position and padding, before the softmax. */
    record Window(Tensor queryPositions, Tensor keyPositions, Tensor keyPadding, Tensor outsideSequence) {
    }

    /** What attending in chunks produced: outputs, each query's logsumexp, and the weights. */
    record Attended(Variable out, Variable logsumexp, Tensor weights) {
    }

    /**
     * Attention inside each window: logits {@code scale * q k^T} (N, n, C, W*C), masks, then
     * {@code lse = logsumexp(logits)} and {@code out = exp(logits - lse) v}.
     *
     * @param queryPositions (N, n, C) original positions of the queries
     * @param keyPositions   (N, n, W*C) original positions of the window's keys
     * @param keyPadding     (N, n, W*C) bool, true at padded keys, or null
     * @param outside        (n, W*C) bool, true where the window runs past the sequence's ends, or null
     * @param logCounts      (N, n, C, W*C) log of each key's duplicate count, or null
     */
    static Attended attend(Variable q, Variable k, Variable v, Tensor queryPositions, Tensor keyPositions,
            Tensor keyPadding, Tensor outside, Tensor logCounts, boolean causal, double logitScale,
            Double selfMaskValue) {
        long[] qs = queryPositions.shape();
        long[] ks = keyPositions.shape();
        Tensor qPos = queryPositions.reshape(qs[0], qs[1], qs[2], 1);                 // (N, n, C, 1)
        Tensor kPos = keyPositions.reshape(ks[0], ks[1], 1, ks[2]);                   // (N, n, 1, W*C)
        Variable logits = q.matmul(k.transpose());                                    // (N, n, C, W*C)
        if (logitScale != 1.0) {
            logits = logits.mul(logitScale);
        }
        if (causal) {
            logits = Masks.fill(logits, Masks.causal(qPos, kPos), Masks.FORBIDDEN);
        }
        if (keyPadding != null) {
            logits = Masks.fill(logits, keyPadding.reshape(keyPadding.size(0), ks[1], 1, ks[2]), Masks.FORBIDDEN);
        }
        if (outside != null) {
            logits = Masks.fill(logits, outside.reshape(1, ks[1], 1, ks[2]), Masks.FORBIDDEN);
        }
        if (selfMaskValue != null) {
            logits = Masks.fill(logits, Masks.self(qPos, kPos), selfMaskValue);
        }
        if (logCounts != null) {
            logits = logits.sub(Variable.constant(logCounts));                       // paper eq. 16
        }
        Variable lse = Functional.logsumexp(logits, -1, true);                        // (N, n, C, 1)
        Variable weights = logits.sub(lse).exp();                                     // (N, n, C, W*C)
        return new Attended(weights.matmul(v), lse, weights.data());                  // (N, n, C, D)
    }
}
