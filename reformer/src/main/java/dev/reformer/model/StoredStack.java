package dev.reformer.model;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.List;

/** The blocks run as ordinary autograd ops: every activation is kept for the backward. */
public record StoredStack(List<ReversibleBlock> blocks) implements BlockStack {
    public StoredStack {
        blocks = List.copyOf(blocks);
    }

    @Override
    public Variable forward(Variable x, Tensor padding, Generator rng) {
        long[] seeds = BlockStack.drawSeeds(rng, blocks.size());
        long d = x.shape()[2] / 2;
        ReversibleBlock.Streams s = new ReversibleBlock.Streams(x.slice(2, 0, d), x.slice(2, d, 2 * d));
        for (int i = 0; i < blocks.size(); i++) {
            s = blocks.get(i).forward(s.first(), s.second(), padding, seeds[i]);
        }
        return Variable.concat(2, s.first(), s.second());
    }
}
