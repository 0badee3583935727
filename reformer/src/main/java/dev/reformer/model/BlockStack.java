package dev.reformer.model;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * N reversible blocks applied to the two streams, held side by side as one (B, L, 2d) tensor.
 * Two ways to run them, with the same values and gradients: {@link ReversibleStack} keeps no
 * activations and recomputes them backwards; {@link StoredStack} keeps them, as a plain
 * residual network does (the baseline the reversible one is tested against).
 */
public interface BlockStack {
    /** x (B, L, 2d) -> (B, L, 2d); one seed per block is drawn from {@code rng}, in order. */
    Variable forward(Variable x, Tensor padding, Generator rng);

    List<ReversibleBlock> blocks();

    static long[] drawSeeds(Generator rng, int count) {
        long[] seeds = new long[count];
        for (int i = 0; i < count; i++) {
            seeds[i] = rng.nextSeed();
        }
        return seeds;
    }
}
