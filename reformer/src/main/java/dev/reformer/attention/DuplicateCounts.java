package dev.reformer.attention;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/**
 * The duplicate correction of paper eq. 16. With K hash rounds a query sees K windows, one per
 * round, and a key that sits in several of them would be counted several times; so every logit
 * of key j for query i loses {@code log N(i, j)}, where N(i, j) is the number of rounds r in
 * whose window (the window of i's round-r item) position j appears, through any of its copies.
 * N is at least 1 for every key in a window, so the correction never raises a logit.
 *
 * <p>The reference code counts only the key's same-round copy ([chunk of j's round-r item is in
 * the window of i's round-r item]); a key that reaches a window through another round's copy, at
 * a round boundary of the cyclic look-around, then gets N = 0 and its logit raised by
 * {@code -log(1e-9) = 20.7}. The count here follows the paper's definition instead; the two agree
 * everywhere else.
 */
final class DuplicateCounts {
    private DuplicateCounts() {
    }

    /**
     * (N, n, C, W*C) log counts for the window of every sorted query.
     *
     * @param undoSortIndex (N, K*L): the sorted slot of item k*L + t
     * @param queryPositions (N, n, C) and keyPositions (N, n, W*C): original positions, as attended
     */
    static Tensor logCounts(Tensor undoSortIndex, Tensor queryPositions, Tensor keyPositions, int hashes, int length,
            DType dtype) {
        long[] qs = queryPositions.shape();
        int rows = (int) qs[0];
        int chunks = (int) qs[1];
        int chunkLength = (int) qs[2];
        int window = (int) keyPositions.size(2);
        int items = hashes * length;
        long[] slotOf = undoSortIndex.toLongArray();
        long[] keys = keyPositions.toLongArray();
        double[] out = new double[rows * chunks * chunkLength * window];
        int[] rounds = new int[length];          // rounds whose window holds each position, for one query
        int[] seenInRound = new int[length];     // stamp: query * K + round + 1 when last counted
        for (int row = 0; row < rows; row++) {
            java.util.Arrays.fill(seenInRound, 0);
            for (int query = 0; query < length; query++) {
                // Count, for this query position, in how many rounds' windows each key position appears.
                for (int r = 0; r < hashes; r++) {
                    int chunk = (int) (slotOf[row * items + r * length + query] / chunkLength);
                    int stamp = query * hashes + r + 1;
                    for (int j = 0; j < window; j++) {
                        int key = (int) keys[(row * chunks + chunk) * window + j];
                        if (seenInRound[key] != stamp) {
                            seenInRound[key] = stamp;
                            rounds[key]++;
                        }
                    }
                }
                // Write log N for each of the query's K items, then clear the counts it set.
                for (int r = 0; r < hashes; r++) {
                    int slot = (int) slotOf[row * items + r * length + query];
                    int chunk = slot / chunkLength;
                    int base = ((row * chunks + chunk) * chunkLength + slot % chunkLength) * window;
                    for (int j = 0; j < window; j++) {
                        out[base + j] = Math.log(rounds[(int) keys[(row * chunks + chunk) * window + j]]);
                    }
                }
                for (int r = 0; r < hashes; r++) {
                    int chunk = (int) (slotOf[row * items + r * length + query] / chunkLength);
                    for (int j = 0; j < window; j++) {
                        rounds[(int) keys[(row * chunks + chunk) * window + j]] = 0;
                    }
                }
            }
        }
        return Tensor.of(out, rows, chunks, chunkLength, window).cast(dtype);
    }
}
