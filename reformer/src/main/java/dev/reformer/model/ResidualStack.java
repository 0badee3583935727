package dev.reformer.model;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * Ordinary residual blocks, the standard Transformer the paper compares reversible layers with
 * (Figure 3): one stream of width d, {@code h = h + Attention(h); h = h + FeedForward(h)} per
 * block, every activation kept for the backward. The same blocks (and so the same parameters) as
 * the reversible stack; the stream enters as the first half of the model's (B, L, 2d) input, the
 * embedding, and leaves duplicated, {@code concat(h, h)}, for the output layer's norm over 2d.
 */
public record ResidualStack(List<ReversibleBlock> blocks) implements BlockStack {
    public ResidualStack {
        blocks = List.copyOf(blocks);
    }

    @Override
    public Variable forward(Variable x, Tensor padding, Generator rng) {
        long[] seeds = BlockStack.drawSeeds(rng, blocks.size());
        Variable h = x.slice(2, 0, x.shape()[2] / 2);
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).residual(h, padding, seeds[i]);
        }
        return Variable.concat(2, h, h);
    }
}
