package dev.reformer.attention;

import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The buckets LSH attention chose during a forward, kept so that a recomputation of the same
 * forward (a reversible block's backward) sorts and chunks exactly as the original did. The
 * rotations are replayed from the seed anyway, but the input of a recomputation is rebuilt from
 * outputs ({@code x2 = y2 - G(y1)}), equal to the original only up to rounding, and a projection
 * that sat near a tie could pick another bucket.
 *
 * <pre>{@code
 * HashReplay replay = HashReplay.recording();
 * lsh.attend(qk, qk, v, null, new Generator(seed), replay);           // records the buckets
 * lsh.attend(qk2, qk2, v2, null, new Generator(seed), replay.rewind()); // reuses them
 * }</pre>
 */
public final class HashReplay {
    private final List<Tensor> buckets = new ArrayList<>();
    private int next = -1; // -1 while recording, else the next recorded call to hand out

    private HashReplay() {
    }

    /** A replay that records the buckets of the LSH calls made with it. */
    public static HashReplay recording() {
        return new HashReplay();
    }

    /** Switches to replaying: the next LSH calls get the recorded buckets, in recorded order. */
    public HashReplay rewind() {
        next = 0;
        return this;
    }

    /** The recorded bucket tensors (N, K, L), for memory accounting. */
    public List<Tensor> recorded() {
        return List.copyOf(buckets);
    }

    /** Recording: computes the buckets and keeps them. Replaying: returns the next recorded ones. */
    Tensor buckets(Supplier<Tensor> hash) {
        if (next < 0) {
            Tensor b = hash.get();
            buckets.add(b);
            return b;
        }
        if (next >= buckets.size()) {
            throw new IllegalStateException("LSH replay: " + (next + 1) + " calls asked for buckets but only "
                    + buckets.size() + " were recorded; replay the same forward that recorded them");
        }
        return buckets.get(next++);
    }
}
