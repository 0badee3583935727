package dev.reformer.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reformer.attention.LshAttention;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The bucket sort's plain-Java reference: the order of the paper's key, and the engine's own sort. */
class BucketSortReferenceTest {
    static int[] randomBuckets(Random r, int rows, int rounds, int length, int nb) {
        return GpuBenchmark.randomBuckets(r, rows * rounds * length, nb);
    }

    @Test
    void itSortsByRoundThenBucketThenPositionAndUndoesItself() {
        Random random = new Random(7);
        int[][] shapes = {{1, 1, 64, 2}, {2, 2, 256, 8}, {3, 4, 1024, 16}, {1, 8, 512, 64}};
        for (int[] s : shapes) {
            int rows = s[0];
            int rounds = s[1];
            int length = s[2];
            int nb = s[3];
            int items = rounds * length;
            int[] buckets = randomBuckets(random, rows, rounds, length, nb);
            BucketSortReference.Order o = BucketSortReference.sort(buckets, rows, rounds, length, nb);
            for (int row = 0; row < rows; row++) {
                int base = row * items;
                // the paper's key: L * (round offset + bucket) + position, distinct for every item
                Integer[] expected = IntStream.range(0, items).boxed().toArray(Integer[]::new);
                Arrays.sort(expected, Comparator.comparingLong(
                        item -> (long) length * ((item / length) * nb + buckets[base + item]) + item % length));
                for (int slot = 0; slot < items; slot++) {
                    assertThat(o.sorted()[base + slot]).as("row %d slot %d of %s", row, slot, Arrays.toString(s))
                            .isEqualTo(expected[slot]);
                    assertThat(o.undo()[base + o.sorted()[base + slot]]).isEqualTo(slot);
                }
            }
        }
    }

    @Test
    void itIsTheEnginesSort() {
        Random random = new Random(11);
        int rows = 3;
        int rounds = 4;
        int length = 512;
        int nb = 16;
        int[] buckets = randomBuckets(random, rows, rounds, length, nb);
        long[] ids = new long[buckets.length]; // the engine sorts ids with the round offsets applied
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (long) ((i % (rounds * length)) / length) * nb + buckets[i];
        }
        LshAttention.SortOrder engine = LshAttention.sortByBucket(Tensor.of(ids, rows, rounds, length));
        assertThat(BucketSortReference.sort(buckets, rows, rounds, length, nb).sorted()).isEqualTo(engine.sorted());
    }

    @Test
    void badInputNamesWhatIsWrong() {
        assertThatThrownBy(() -> BucketSortReference.sort(new int[10], 1, 2, 4, 4))
                .hasMessageContaining("10 buckets for (N, K, L) = (1, 2, 4)");
        assertThatThrownBy(() -> BucketSortReference.sort(new int[] {0, 5}, 1, 1, 2, 4))
                .hasMessageContaining("bucket 5 of item 1 is outside 0..3");
    }
}
