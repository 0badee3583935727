package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;

/** The GELU activation (tanh form), see {@link Functional#gelu}. */
public final class Gelu extends Module implements Layer {
    @Override
    public Variable forward(Variable x) {
        return Functional.gelu(x);
    }
}
