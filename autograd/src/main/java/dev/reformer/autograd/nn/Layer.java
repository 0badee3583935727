package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;

/** A block with one input and one output, so blocks can be stacked. */
public interface Layer {
    Variable forward(Variable x);
}
