package dev.reformer.train;

import dev.reformer.tensor.Tensor;

/**
 * One batch of a task: {@code inputs} (B, L) token ids and {@code targets} (B, L), the token each
 * position must predict, or {@link #IGNORE} where a position is not scored.
 */
public record Batch(Tensor inputs, Tensor targets) {
    /** The target of a position that is not scored. */
    public static final long IGNORE = -100;

    /** The number of scored positions. */
    public long scored() {
        long n = 0;
        for (long t : targets.toLongArray()) {
            if (t != IGNORE) {
                n++;
            }
        }
        return n;
    }
}
