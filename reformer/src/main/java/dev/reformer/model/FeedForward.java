package dev.reformer.model;

import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Dropout;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.autograd.nn.LayerNorm;
import dev.reformer.autograd.nn.Linear;
import dev.reformer.autograd.nn.Module;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import java.util.ArrayList;
import java.util.List;

/**
 * The feed-forward half of a Reformer block,
 * {@code G(x) = Dropout(W_2 Dropout(act(W_1 LayerNorm(x) + b_1)) + b_2)}, applied to the sequence
 * in {@code chunks} consecutive pieces (paper section 3.1): positions do not interact here, so
 * the result and its gradients are the same, but only one piece's d_ff-wide hidden activations
 * exist at a time: without a graph (the reversible forward) each piece runs in its own memory
 * scope, and the reversible backward recomputes and differentiates the pieces one by one
 * ({@link ReversibleBlock}). Under dropout each piece draws its own mask, in order from the same generator.
 */
public final class FeedForward extends Module {
    /** The hidden activation. */
    public enum Activation { GELU, RELU }

    private final LayerNorm norm;
    private final Linear hidden;
    private final Linear output;
    private final Dropout dropout;
    private final Activation activation;
    private final int chunks;

    public FeedForward(long dModel, long dFf, Activation activation, double dropoutRate, int chunks, DType dtype,
            Generator init) {
        if (chunks < 1) {
            throw new IllegalArgumentException("feed-forward: chunks " + chunks + " must be >= 1");
        }
        this.norm = child("norm", new LayerNorm(dModel, 1e-5, dtype));
        this.hidden = child("hidden", new Linear(dModel, dFf, true, dtype, init));
        this.output = child("output", new Linear(dFf, dModel, true, dtype, init));
        this.dropout = child("dropout", new Dropout(dropoutRate, init.split()));
        this.activation = activation;
        this.chunks = chunks;
    }

    /** x (B, L, d) -> (B, L, d), in {@code chunks} pieces along L. */
    public Variable forward(Variable x, Generator rng) {
        long length = x.shape()[1];
        int pieces = pieces(length);
        if (pieces == 1) {
            return apply(x, rng);
        }
        List<Variable> outputs = new ArrayList<>();
        for (int i = 0; i < pieces; i++) {
            Variable piece = x.slice(1, pieceStart(length, i), pieceStart(length, i + 1));
            if (GradMode.isEnabled()) {
                outputs.add(apply(piece, rng)); // the graph keeps each piece's activations for the backward
                continue;
            }
            try (MemoryScope scope = MemoryScope.open()) { // no graph: a piece's hidden activations go with it
                outputs.add(Variable.constant(scope.keep(apply(piece, rng).data())));
            }
        }
        return Variable.concat(1, outputs.toArray(new Variable[0]));
    }

    /** How many pieces {@link #forward} cuts a sequence of {@code length} into. */
    int pieces(long length) {
        return (int) Math.min(chunks, length);
    }

    /** Where piece {@code i} of a sequence of {@code length} starts (piece i ends where i + 1 starts). */
    long pieceStart(long length, int i) {
        return length * i / pieces(length);
    }

    /**
     * One piece as {@link #forward} applies it; called for pieces 0, 1, ... in order with one
     * generator, it draws the dropout masks {@link #forward} drew.
     */
    Variable apply(Variable x, Generator rng) {
        Variable h = hidden.forward(norm.forward(x));
        h = activation == Activation.GELU ? Functional.gelu(h) : h.relu();
        return dropout.forward(output.forward(dropout.forward(h, rng)), rng);
    }
}
