package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

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
     * (N, n, C, ...) -> (N, n, W*C, ...), W = before + 1 + after: the window of chunk j is the
     * chunks j-before, ..., j, ..., j+after in that order, cyclically over all n chunks (Trax's
     * look_adjacent). With one chunk and one chunk back, the chunk sees itself twice, as in the
     * reference code.
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

    /**
     * The original positions a chunked attention works with, and the keys no query may see.
     *
     * @param queryPositions  (N or 1, n, C) original position of each query
     * @param keyPositions    (N or 1, n, W*C) original position of each key in each chunk's window
     * @param keyPadding      (N, n, W*C) bool, true at padded keys, or null
     * @param outsideSequence (n, W*C) bool, true where a window runs past the sequence's ends, or null
     */
    record Window(Tensor queryPositions, Tensor keyPositions, Tensor keyPadding, Tensor outsideSequence) {
    }

    /**
     * How logits are formed and masked: {@code scale * q . k}; later keys forbidden when causal;
     * the query's own position at the self-mask value when queries and keys are shared (empty
     * otherwise).
     */
    record Scoring(boolean causal, double logitScale, OptionalDouble selfMaskValue) {
    }

    /** What attending in chunks produced: outputs, each query's logsumexp, and the weights. */
    record Attended(Variable out, Variable logsumexp, Tensor weights) {
    }

    /**
     * Attention inside each window: logits {@code scale * q k^T} (N, n, C, W*C), the masks (in
     * the reference code's order: forbidden keys, then the query's own position, then the
     * duplicate correction), then {@code lse = logsumexp(logits)} and {@code out = softmax(logits) v}.
     *
     * @param q         (N, n, C, D) queries, chunked
     * @param k         (N, n, W*C, D) each chunk's window of keys
     * @param v         (N, n, W*C, D) each chunk's window of values
     * @param logCounts (N, n, C, W*C) log of each key's duplicate count (paper eq. 16), or null
     */
    static Attended attend(Variable q, Variable k, Variable v, Window window, Scoring scoring, Tensor logCounts) {
        long[] qs = window.queryPositions().shape();
        long[] ks = window.keyPositions().shape();
        Tensor queryPositions = window.queryPositions().reshape(qs[0], qs[1], qs[2], 1);   // (N, n, C, 1)
        Tensor keyPositions = window.keyPositions().reshape(ks[0], ks[1], 1, ks[2]);       // (N, n, 1, W*C)
        Variable logits = q.matmul(k.transpose());                                       // (N, n, C, W*C)
        if (scoring.logitScale() != 1.0) {
            logits = logits.mul(scoring.logitScale());
        }
        if (scoring.causal()) {
            logits = Masks.fill(logits, Masks.causal(queryPositions, keyPositions), Masks.FORBIDDEN);
        }
        if (window.keyPadding() != null) {
            Tensor padded = window.keyPadding();
            logits = Masks.fill(logits, padded.reshape(padded.size(0), ks[1], 1, ks[2]), Masks.FORBIDDEN);
        }
        if (window.outsideSequence() != null) {
            logits = Masks.fill(logits, window.outsideSequence().reshape(1, ks[1], 1, ks[2]), Masks.FORBIDDEN);
        }
        if (scoring.selfMaskValue().isPresent()) {
            logits = Masks.fill(logits, Masks.self(queryPositions, keyPositions), scoring.selfMaskValue().getAsDouble());
        }
        if (logCounts != null) {
            logits = logits.sub(Variable.constant(logCounts));                              // paper eq. 16
        }
        Variable lse = Functional.logsumexp(logits, -1, true);                             // (N, n, C, 1)
        // Each softmax normalised by its own sum, not as exp(logits - lse): near the -1e5 self-mask
        // value a float32 lse is rounded to 0.008, and the weights would then not sum to 1.
        Variable weights = Functional.softmax(logits, -1);                                 // (N, n, C, W*C)
        return new Attended(weights.matmul(v), lse, weights.data());                       // (N, n, C, D)
    }
}
