package dev.reformer.attention;

import dev.reformer.tensor.kernels.Kernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The masks of {@link ChunkedAttentionSpec}, applied by vector to one row of float logits from
 * positions (what {@link ChunkedAttentionProblem#maskedLogit} says one logit at a time): the
 * self-mask value where the key is the query's own position (shared QK), else FORBIDDEN where it
 * comes later (causal) or is blocked (padding, or past an end of a non-cyclic sequence); the rest
 * stay dot products, the only logits that carry gradients to q and k; {@code masked} records the
 * others (1 where a logit was replaced, 0 where it is a dot product), as ints, which vector code
 * stores and loads directly.
 * Shared by the chunked and the flash kernels; a plain loop beside a vector form.
 */
final class PositionMasks {
    private final boolean shared;
    private final boolean causal;
    private final boolean mayBlock;
    private final float self;
    private final float forbidden = (float) ChunkedAttentionProblem.FORBIDDEN;

    PositionMasks(ChunkedAttentionProblem pb) {
        ChunkedAttentionSpec spec = pb.spec();
        this.shared = spec.sharedQk();
        this.causal = spec.causal();
        // keys are blocked only by padding, or by windows that run past an end of a non-cyclic sequence
        this.mayBlock = pb.hasPadding() || (!spec.cyclic() && spec.chunksBefore() + spec.chunksAfter() > 0);
        this.self = (float) spec.selfMaskValue();
    }

    /**
     * Masks {@code logits[at .. at + n)} for query position t against the keys at
     * {@code keyPosition[keys .. keys + n)} whose {@code blocked} flags are 1 where barred, and
     * writes {@code masked[at .. at + n)}.
     */
    void apply(float[] logits, int[] masked, int at, int n, int t, int[] keyPosition, int[] blocked, int keys) {
        if (!shared && !causal && !mayBlock) {
            java.util.Arrays.fill(masked, at, at + n, 0); // nothing to mask: every logit is a dot product
            return;
        }
        int j = 0;
        if (Kernels.vector()) {
            j = Vector.apply(shared, causal, self, forbidden, logits, masked, at, n, t, keyPosition, blocked, keys);
        }
        for (; j < n; j++) {
            int p = keyPosition[keys + j];
            if (shared && p == t) {
                logits[at + j] = self;
                masked[at + j] = 1;
            } else if (blocked[keys + j] != 0 || (causal && p > t)) {
                logits[at + j] = forbidden;
                masked[at + j] = 1;
            } else {
                masked[at + j] = 0;
            }
        }
    }

    /**
     * {@link #apply} for keys at consecutive positions {@code first, first + 1, ...} (full
     * attention's rows), where each mask is a range: the query's own key, the keys after it, and
     * the blocked ones (flags indexed by position), so the row is filled rather than compared
     * key by key.
     */
    void applyInOrder(float[] logits, int[] masked, int at, int n, int t, int first, int[] blocked) {
        java.util.Arrays.fill(masked, at, at + n, 0);
        if (mayBlock) {
            for (int j = 0; j < n; j++) {
                if (blocked[first + j] != 0) {
                    logits[at + j] = forbidden;
                    masked[at + j] = 1;
                }
            }
        }
        if (causal) {
            int later = Math.max(0, Math.min(n, t + 1 - first));        // the first key after the query
            java.util.Arrays.fill(logits, at + later, at + n, forbidden);
            java.util.Arrays.fill(masked, at + later, at + n, 1);
        }
        int own = t - first;
        if (shared && own >= 0 && own < n) {                            // the self value wins over the rest
            logits[at + own] = self;
            masked[at + own] = 1;
        }
    }

    /** Whether some keys may be blocked (padding, or windows past a sequence's ends): else {@code blocked} is never read. */
    boolean mayBlock() {
        return mayBlock;
    }

    /** The vector form: whole vectors of keys; returns how many it did (the rest go through the plain loop). */
    private static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // as many lanes as F

        private Vector() {
        }

        static int apply(boolean shared, boolean causal, float self, float forbidden, float[] logits, int[] maskedOut,
                int at, int n, int t, int[] keyPosition, int[] blocked, int keys) {
            // Masked in the integer domain, on the logits' bits, with blends only: casting the
            // comparisons' masks to float lanes (4% of a training step) and combining masks with
            // or/not (6%), or storing them into booleans (4%), ran as slow library calls on JDK 17;
            // blends, compares and int stores do not.
            IntVector query = IntVector.broadcast(I, t);
            IntVector zero = IntVector.zero(I);
            int selfBits = Float.floatToRawIntBits(self);
            int forbiddenBits = Float.floatToRawIntBits(forbidden);
            int j = 0;
            for (; j < I.loopBound(n); j += I.length()) {
                IntVector key = IntVector.fromArray(I, keyPosition, keys + j);
                VectorMask<Integer> barred = IntVector.fromArray(I, blocked, keys + j).compare(VectorOperators.NE, 0);
                IntVector bits = FloatVector.fromArray(F, logits, at + j).viewAsIntegralLanes().blend(forbiddenBits, barred);
                IntVector masked = zero.blend(1, barred);                 // 1 where the logit is not a dot product
                if (causal) {
                    VectorMask<Integer> later = key.compare(VectorOperators.GT, query);
                    bits = bits.blend(forbiddenBits, later);
                    masked = masked.blend(1, later);
                }
                if (shared) {
                    VectorMask<Integer> isSelf = key.eq(query);              // the self value wins over the rest
                    bits = bits.blend(selfBits, isSelf);
                    masked = masked.blend(1, isSelf);
                }
                bits.viewAsFloatingLanes().intoArray(logits, at + j);
                masked.intoArray(maskedOut, at + j);
            }
            return j;
        }
    }
}
