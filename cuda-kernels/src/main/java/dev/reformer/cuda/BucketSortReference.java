package dev.reformer.cuda;

/**
 * The bucket sort's contract in plain Java: the reference {@code bucket_sort.cu} is tested against.
 * Each of N rows holds K*L items, item r*L + t being position t hashed in round r into
 * {@code buckets[row][r][t]} (0 <= bucket < NB). A stable counting sort by the key r*NB + bucket
 * over the items in item order puts them in the order of {@code L*(r*NB + bucket) + t}: rounds one
 * after another, buckets ascending, positions ascending within a bucket.
 */
public final class BucketSortReference {
    private BucketSortReference() {
    }

    /** {@code sorted}: the item at each slot; {@code undo}: the slot of each item; both (N, K*L). */
    public record Order(int[] sorted, int[] undo) {
    }

    public static Order sort(int[] buckets, int rows, int rounds, int length, int nb) {
        int items = rounds * length;
        if (buckets.length != rows * items) {
            throw new IllegalArgumentException("bucket sort: " + buckets.length + " buckets for (N, K, L) = (" + rows + ", "
                    + rounds + ", " + length + ")");
        }
        int keys = rounds * nb;
        int[] sorted = new int[rows * items];
        int[] undo = new int[rows * items];
        int[] next = new int[keys + 1];
        for (int row = 0; row < rows; row++) {
            java.util.Arrays.fill(next, 0);
            int base = row * items;
            for (int item = 0; item < items; item++) {
                next[key(buckets, base, item, length, nb) + 1]++;              // histogram
            }
            for (int k = 0; k < keys; k++) {
                next[k + 1] += next[k];                                          // exclusive scan
            }
            for (int item = 0; item < items; item++) {
                int slot = next[key(buckets, base, item, length, nb)]++;         // stable scatter
                sorted[base + slot] = item;
                undo[base + item] = slot;
            }
        }
        return new Order(sorted, undo);
    }

    private static int key(int[] buckets, int base, int item, int length, int nb) {
        int bucket = buckets[base + item];
        if (bucket < 0 || bucket >= nb) {
            throw new IllegalArgumentException("bucket sort: bucket " + bucket + " of item " + item + " is outside 0.." + (nb - 1));
        }
        return (item / length) * nb + bucket;
    }
}
