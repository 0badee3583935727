package dev.reformer.attention;

import static dev.reformer.attention.AttentionFixtures.normal;

import dev.reformer.autograd.GradientCheck;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Central-difference gradient checks in float64 for each attention variant. */
class AttentionGradientTest {
    @Test
    void lshAttention() {
        Tensor rotations = normal(3, 1, 2, 3, 2, 2);
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).causal(true).build();
        GradientCheck.check("LSH attention, causal, K=2",
                x -> lsh.attendWithRotations(x[0], x[1], null, rotations, null), normal(1, 1, 2, 8, 3), normal(2, 1, 2, 8, 3));
    }

    @Test
    void lshAttentionWithDedupeNeighboursAndPadding() {
        Tensor rotations = normal(6, 2, 1, 3, 3, 2);
        Tensor padding = Tensor.of(new long[] {0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 2, 8).cast(DType.BOOL);
        LshAttention lsh = LshAttention.builder().hashes(3).buckets(4).chunkLength(4).chunksAfter(1)
                .dedupeRounds(true).logitScale(0.7).build();
        GradientCheck.check("LSH attention, dedupe, chunk after, padding",
                x -> lsh.attendWithRotations(x[0], x[1], padding, rotations, null), normal(4, 2, 1, 8, 3), normal(5, 2, 1, 8, 3));
    }

    @Test
    void undoSortIsAGatherByThePermutationWithTheInversePermutationAsGradient() {
        long[] sorted = {3, 0, 4, 1, 5, 2};                  // a permutation of 6 items, one row
        long[] undo = new long[6];
        for (int slot = 0; slot < 6; slot++) {
            undo[(int) sorted[slot]] = slot;
        }
        Tensor sortedIndex = Tensor.of(sorted, 1, 6);
        Tensor undoSortIndex = Tensor.of(undo, 1, 6);
        GradientCheck.Result r = GradientCheck.check("undo-sort",
                x -> new UndoSort(sortedIndex, undoSortIndex).apply(x[0]), normal(30, 1, 6, 3));
        org.assertj.core.api.Assertions.assertThat(r.ops()).containsExactly(UndoSort.class);
    }

    @Test
    void localAttention() {
        LocalAttention local = LocalAttention.separate(3, 1, 1, true, 0.6);
        GradientCheck.check("local attention", x -> local.attend(x[0], x[1], x[2], null, new Generator(0)),
                normal(7, 1, 2, 9, 3), normal(8, 1, 2, 9, 3), normal(9, 1, 2, 9, 3));
        LocalAttention shared = LocalAttention.sharedQk(3, 1, 0, false, 1.0, -1e5);
        GradientCheck.check("local attention, shared QK", x -> shared.attend(x[0], x[0], x[1], null, new Generator(0)),
                normal(10, 1, 2, 9, 3), normal(11, 1, 2, 9, 3));
    }

    @Test
    void fullAttention() {
        FullAttention separate = FullAttention.separate(false, 0.6);
        GradientCheck.check("full attention", x -> separate.attend(x[0], x[1], x[2], null, new Generator(0)),
                normal(12, 1, 2, 6, 3), normal(13, 1, 2, 6, 3), normal(14, 1, 2, 6, 3));
        FullAttention shared = FullAttention.sharedQk(true, 1.0, -1e5);
        GradientCheck.check("full attention, shared QK, causal",
                x -> shared.attend(x[0], x[0], x[1], null, new Generator(0)), normal(15, 1, 2, 6, 3), normal(16, 1, 2, 6, 3));
    }
}
