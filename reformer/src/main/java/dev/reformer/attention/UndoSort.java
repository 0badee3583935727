package dev.reformer.attention;

import dev.reformer.autograd.CustomFunction;
import dev.reformer.tensor.Tensor;

/**
 * Puts sorted items back in their original order: {@code out[i] = x[undoSortIndex[i]]} along
 * axis 1. Because {@code undoSortIndex} is a permutation, its adjoint is a gather by the inverse
 * permutation, {@code sortedIndex}, not the general gather's scatter-add: every item is read
 * exactly once, so nothing needs adding up.
 */
final class UndoSort extends CustomFunction {
    private final Tensor sortedIndex;
    private final Tensor undoSortIndex;

    UndoSort(Tensor sortedIndex, Tensor undoSortIndex) {
        this.sortedIndex = sortedIndex;
        this.undoSortIndex = undoSortIndex;
    }

    @Override
    protected Tensor forward(Tensor... x) {
        saveForBackward(sortedIndex);
        return x[0].gather(1, undoSortIndex);                                           // (N, K*L, F)
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        // d out[i] / d x[j] = [undoSortIndex[i] == j], so dx[j] = g[sortedIndex[j]]
        return new Tensor[] {g.gather(1, saved(0))};
    }
}
