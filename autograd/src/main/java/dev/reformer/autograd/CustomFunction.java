package dev.reformer.autograd;

/**
 * The extension point for a composite with a hand-written backward: subclasses implement
 * {@link #forward} and {@link #backward} on tensors like the primitives do, and may run a nested
 * forward and backward of their own inside {@link #backward} (a reversible layer does: it
 * recomputes its inputs from its outputs and back-propagates through the recomputation).
 *
 * <pre>{@code
 * final class UndoSort extends CustomFunction {
 *     protected Tensor forward(Tensor... x) { ... x[0].gather(axis, undoSortIndex) ... }
 *     protected Tensor[] backward(Tensor g) { // the backward of a gather by a permutation
 *         return new Tensor[] {g.gather(axis, sortedIndex)};   // is a gather by its inverse
 *     }
 * }
 * }</pre>
 */
public abstract non-sealed class CustomFunction extends Function {
}
