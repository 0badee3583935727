package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;

/** The ReLU activation, {@code max(x, 0)}. */
public final class Relu extends Module implements Layer {
    @Override
    public Variable forward(Variable x) {
        return x.relu();
    }
}
