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
 * stay dot products, the only logits that carry gradients to q and k, which {@code isDot} records.
 * Shared by the chunked and the flash kernels; a plain loop beside a vector form.
 */
final class PositionMasks {
    private final boolean shared;
    private final boolean causal;
    private final float self;
    private final float forbidden = (float) ChunkedAttentionProblem.FORBIDDEN;

    PositionMasks(ChunkedAttentionSpec spec) {
        this.shared = spec.sharedQk();
        this.causal = spec.causal();
        this.self = (float) spec.selfMaskValue();
    }

    /**
     * Masks {@code logits[at .. at + n)} for query position t against the keys at
     * {@code keyPosition[keys .. keys + n)} whose {@code blocked} flags are 1 where barred, and
     * writes {@code isDot[at .. at + n)}.
     */
    void apply(float[] logits, boolean[] isDot, int at, int n, int t, int[] keyPosition, int[] blocked, int keys) {
        int j = 0;
        if (Kernels.vector()) {
            j = Vector.apply(shared, causal, self, forbidden, logits, isDot, at, n, t, keyPosition, blocked, keys);
        }
        for (; j < n; j++) {
            int p = keyPosition[keys + j];
            if (shared && p == t) {
                logits[at + j] = self;
                isDot[at + j] = false;
            } else if (blocked[keys + j] != 0 || (causal && p > t)) {
                logits[at + j] = forbidden;
                isDot[at + j] = false;
            } else {
                isDot[at + j] = true;
            }
        }
    }

    /** The vector form: whole vectors of keys; returns how many it did (the rest go through the plain loop). */
    private static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // as many lanes as F

        private Vector() {
        }

        static int apply(boolean shared, boolean causal, float self, float forbidden, float[] logits, boolean[] isDot,
                int at, int n, int t, int[] keyPosition, int[] blocked, int keys) {
            IntVector query = IntVector.broadcast(I, t);
            int j = 0;
            for (; j < I.loopBound(n); j += I.length()) {
                IntVector key = IntVector.fromArray(I, keyPosition, keys + j);
                VectorMask<Integer> isSelf = shared ? key.eq(query) : I.maskAll(false);
                VectorMask<Integer> barred = IntVector.fromArray(I, blocked, keys + j).compare(VectorOperators.NE, 0);
                if (causal) {
                    barred = barred.or(key.compare(VectorOperators.GT, query));
                }
                barred = barred.andNot(isSelf);
                FloatVector.fromArray(F, logits, at + j).blend(forbidden, barred.cast(F)).blend(self, isSelf.cast(F))
                        .intoArray(logits, at + j);
                isSelf.or(barred).not().cast(F).intoArray(isDot, at + j);
            }
            return j;
        }
    }
}
