package dev.reformer.model;

import dev.reformer.attention.HashReplay;
import dev.reformer.autograd.CustomFunction;
import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The blocks run without keeping activations: the forward runs them under no-grad and keeps
 * only the stack's output (and each LSH layer's bucket ids, K int32 per position and head); the
 * backward walks the blocks from the last to the first, reconstructing each block's inputs from
 * its outputs ({@link ReversibleBlock#backwardStep}). Activation memory is then one layer's worth
 * whatever the depth (paper section 3).
 */
public record ReversibleStack(List<ReversibleBlock> blocks) implements BlockStack {
    public ReversibleStack {
        blocks = List.copyOf(blocks);
    }

    @Override
    public Variable forward(Variable x, Tensor padding, Generator rng) {
        return new Reversible(blocks, padding, BlockStack.drawSeeds(rng, blocks.size())).apply(x);
    }

    /** The whole stack as one op whose backward recomputes instead of remembering. */
    private static final class Reversible extends CustomFunction {
        private final List<ReversibleBlock> blocks;
        private final Tensor padding;
        private final long[] seeds;
        private final HashReplay[] replays;

        Reversible(List<ReversibleBlock> blocks, Tensor padding, long[] seeds) {
            this.blocks = blocks;
            this.padding = padding;
            this.seeds = seeds;
            this.replays = new HashReplay[blocks.size()];
        }

        @Override
        protected boolean updatesParametersInBackward() {
            return true;
        }

        @Override
        protected Tensor forward(Tensor... x) {
            long d = x[0].size(2) / 2;
            ReversibleBlock.Streams s = new ReversibleBlock.Streams(
                    Variable.constant(x[0].slice(2, 0, d)), Variable.constant(x[0].slice(2, d, 2 * d)));
            List<Tensor> buckets = new ArrayList<>();
            try (GradMode.Scope off = GradMode.disabled()) {
                for (int i = 0; i < blocks.size(); i++) {
                    replays[i] = HashReplay.recording();
                    ReversibleBlock.Streams next;
                    // Each block's activations go back to the pool when it is done; only its
                    // outputs (the next block's inputs) and its LSH buckets are kept.
                    try (MemoryScope block = MemoryScope.open()) {
                        next = blocks.get(i).forward(s.first(), s.second(), padding, seeds[i], replays[i]);
                        block.keep(next.first().data());
                        block.keep(next.second().data());
                        replays[i].recorded().forEach(block::keep);
                    }
                    if (i > 0) {
                        s.first().data().free(); // the previous block's outputs, read by this block
                        s.second().data().free();
                    }
                    s = next;
                    buckets.addAll(replays[i].recorded());
                }
            }
            Tensor y = Tensor.concat(2, s.first().data(), s.second().data());           // (B, L, 2d)
            if (!blocks.isEmpty()) {
                s.first().data().free();
                s.second().data().free();
            }
            saveForBackward(y);
            saveForBackward(buckets.toArray(new Tensor[0])); // (N, K, L) per LSH layer, for the memory count
            return y;
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // Walk back through the blocks, rebuilding each one's inputs from its outputs; each
            // step's recomputed activations go back to the pool as soon as the step is done.
            Tensor y = saved(0);
            long d = y.size(2) / 2;
            Tensor y1 = y.slice(2, 0, d);
            Tensor y2 = y.slice(2, d, 2 * d);
            Tensor dy1 = g.slice(2, 0, d);
            Tensor dy2 = g.slice(2, d, 2 * d);
            for (int i = blocks.size() - 1; i >= 0; i--) {
                ReversibleBlock.Step step;
                try (MemoryScope scope = MemoryScope.open()) {
                    step = blocks.get(i).backwardStep(y1, y2, dy1, dy2, padding, seeds[i], replays[i]);
                    for (Tensor t : new Tensor[] {step.x1(), step.x2(), step.dx1(), step.dx2()}) {
                        scope.keep(t);
                    }
                }
                if (i < blocks.size() - 1) {
                    for (Tensor t : new Tensor[] {y1, y2, dy1, dy2}) {
                        t.free(); // the previous step's results, consumed by this step
                    }
                }
                y1 = step.x1();
                y2 = step.x2();
                dy1 = step.dx1();
                dy2 = step.dx2();
            }
            Tensor dx = needsGrad(0) ? Tensor.concat(2, dy1, dy2) : null;
            if (!blocks.isEmpty()) {
                for (Tensor t : new Tensor[] {y1, y2, dy1, dy2}) {
                    t.free();
                }
            }
            return new Tensor[] {dx};
        }
    }
}
