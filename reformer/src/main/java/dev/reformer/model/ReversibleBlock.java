package dev.reformer.model;

import dev.reformer.attention.HashReplay;
import dev.reformer.attention.IncrementalAttention;
import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Module;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;

/**
 * One reversible residual block (RevNet; paper section 3):
 * <pre>
 *   y1 = x1 + F(x2)      F = attention layer
 *   y2 = x2 + G(y1)      G = feed-forward layer
 * </pre>
 * Its inputs follow from its outputs, {@code x2 = y2 - G(y1)} and {@code x1 = y1 - F(x2)}, so a
 * stack of these blocks need not store any layer's activations: {@link #backwardStep}
 * reconstructs them on the way back. The reconstruction is exact only if F and G make the same
 * random and discrete choices as in the forward: every draw (LSH rotations, dropout masks) comes
 * from the block's seed, F's from the first seed it yields and G's from the second, and F's LSH
 * buckets are recorded in the forward and reused ({@link HashReplay}).
 */
public final class ReversibleBlock extends Module {
    private final AttentionLayer f;
    private final FeedForward g;

    public ReversibleBlock(AttentionLayer f, FeedForward g) {
        this.f = child("attention", f);
        this.g = child("feedForward", g);
    }

    /** The two streams, each (B, L, d). */
    public record Streams(Variable first, Variable second) {
    }

    /** The streams' gradients after a backward step, and the reconstructed inputs. */
    record Step(Tensor x1, Tensor x2, Tensor dx1, Tensor dx2) {
    }

    /** {@code y1 = x1 + F(x2)}, {@code y2 = x2 + G(y1)}, randomness from {@code seed}. */
    public Streams forward(Variable x1, Variable x2, Tensor padding, long seed) {
        return forward(x1, x2, padding, seed, null);
    }

    /** The same, recording F's LSH buckets into {@code replay} for {@link #backwardStep}. */
    Streams forward(Variable x1, Variable x2, Tensor padding, long seed, HashReplay replay) {
        Seeds seeds = Seeds.of(seed);
        Variable y1 = x1.add(f.forward(x2, padding, new Generator(seeds.attention), replay));
        Variable y2 = x2.add(g.forward(y1, new Generator(seeds.feedForward)));
        return new Streams(y1, y2);
    }

    /**
     * From the outputs and their gradients, the inputs and theirs; F's and G's parameters receive
     * their gradients on the way:
     * <pre>
     *   x2 = y2 - G(y1)                dy1' = dy1 + (dG/dy1)^T dy2      (G piece by piece along L)
     *   x1 = y1 - F(x2)                dx2  = dy2 + (dF/dx2)^T dy1'     dx1 = dy1'
     * </pre>
     */
    Step backwardStep(Tensor y1, Tensor y2, Tensor dy1, Tensor dy2, Tensor padding, long seed, HashReplay replay) {
        Seeds seeds = Seeds.of(seed);
        long length = y1.shape()[1];
        int pieces = g.pieces(length);
        Generator feedForwardRng = new Generator(seeds.feedForward);
        Tensor[] gOut = new Tensor[pieces];
        Tensor[] dG = new Tensor[pieces];
        Variable[] leaves = new Variable[pieces];
        for (int i = 0; i < pieces; i++) {                    // the feed-forward's pieces one at a time (paper 3.1):
            long start = g.pieceStart(length, i);             // only one piece's d_ff-wide activations exist at once
            long end = g.pieceStart(length, i + 1);
            Variable leaf = Variable.parameter(pieces == 1 ? y1 : y1.slice(1, start, end));
            leaves[i] = leaf;
            try (MemoryScope scope = MemoryScope.open()) {   // the piece's activations end with it
                Variable out;
                try (GradMode.Scope on = GradMode.enabled()) {
                    out = g.apply(leaf, feedForwardRng);
                }
                out.backward(pieces == 1 ? dy2 : dy2.slice(1, start, end)); // G's parameters, and dG/dy1^T dy2 into leaf
                gOut[i] = scope.keep(out.data());
            }
            dG[i] = leaf.grad();
        }
        Tensor x2 = y2.sub(pieces == 1 ? gOut[0] : Tensor.concat(1, gOut));
        Tensor dy1Total = dy1.add(pieces == 1 ? dG[0] : Tensor.concat(1, dG));
        for (Variable leaf : leaves) {
            leaf.release();
        }

        Variable x2Leaf = Variable.parameter(x2);
        Variable fOut;
        try (GradMode.Scope on = GradMode.enabled()) {
            fOut = f.forward(x2Leaf, padding, new Generator(seeds.attention), replay.rewind());
        }
        fOut.backward(dy1Total);                              // F's parameters, and dF/dx2^T dy1' into x2Leaf
        Tensor x1 = y1.sub(fOut.data());
        Tensor dx2 = dy2.add(x2Leaf.grad());
        x2Leaf.release();
        return new Step(x1, x2, dy1Total, dx2);
    }

    /**
     * The same attention and feed-forward as an ordinary residual block on one stream:
     * {@code h = x + F(x)}, {@code y = h + G(h)}, randomness from {@code seed} as in {@link #forward}.
     */
    public Variable residual(Variable x, Tensor padding, long seed) {
        Seeds seeds = Seeds.of(seed);
        Variable h = x.add(f.forward(x, padding, new Generator(seeds.attention), null));
        return h.add(g.forward(h, new Generator(seeds.feedForward)));
    }

    /** One new position through the block as an ordinary residual block (see {@link #residual}), in evaluation mode. */
    Variable residualStep(Variable x, IncrementalAttention state, int paddedLength, long seed) {
        Variable h = x.add(f.step(x, state, paddedLength));
        return h.add(g.forward(h, new Generator(Seeds.of(seed).feedForward)));
    }

    /** The generator {@link #forward} hands the attention layer for block seed {@code seed}. */
    static Generator attentionGenerator(long seed) {
        return new Generator(Seeds.of(seed).attention);
    }

    AttentionLayer attentionLayer() {
        return f;
    }

    FeedForward feedForwardLayer() {
        return g;
    }

    /** One new position through the block, in evaluation mode (see {@link AttentionLayer#step}). */
    Streams step(Variable x1, Variable x2, IncrementalAttention state, int paddedLength, long seed) {
        Variable y1 = x1.add(f.step(x2, state, paddedLength));
        Variable y2 = x2.add(g.forward(y1, new Generator(Seeds.of(seed).feedForward)));
        return new Streams(y1, y2);
    }

    /** The two seeds a block seed yields: F's draws come from the first, G's from the second. */
    private record Seeds(long attention, long feedForward) {
        static Seeds of(long seed) {
            Generator g = new Generator(seed);
            return new Seeds(g.nextSeed(), g.nextSeed());
        }
    }
}
