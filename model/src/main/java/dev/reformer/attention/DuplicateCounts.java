package dev.reformer.attention;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/**
 * The duplicate correction of paper eq. 16: with several hash rounds a key can sit in a query's
 * window in more than one round, and would be counted that many times. Following the reference
 * code, the count for query position i and key position j is the number of rounds r whose chunk
 * of j's round-r item lies in the window of i's round-r item:
 * {@code count = sum_r sum_{o=-before..after} [chunk_r(i) == chunk_r(j) - o (mod n)]}, and the
 * logit loses {@code log(count + 1e-9)}.
 */
final class DuplicateCounts {
    private DuplicateCounts() {
    }

    /** (N, n, C, W*C) log counts for the window of every sorted query. */
    static Tensor logCounts(LshAttention.SortOrder order, Tensor queryPositions, Tensor keyPositions, int hashes,
            int length, int chunkLength, int before, int after, DType dtype) {
        long[] qs = queryPositions.shape();
        int rows = (int) qs[0];
        int chunks = (int) qs[1];
        int window = (int) keyPositions.size(2);
        int items = hashes * length;
        long[] undo = order.undoSortIndex().toLongArray();                   // (N, K*L): item -> sorted slot
        long[] q = queryPositions.toLongArray();
        long[] k = keyPositions.toLongArray();
        double[] out = new double[rows * chunks * chunkLength * window];
        for (int row = 0; row < rows; row++) {
            for (int c = 0; c < chunks; c++) {
                for (int i = 0; i < chunkLength; i++) {
                    int queryPosition = (int) q[(row * chunks + c) * chunkLength + i];
                    for (int j = 0; j < window; j++) {
                        int keyPosition = (int) k[(row * chunks + c) * window + j];
                        int count = 0;
                        for (int r = 0; r < hashes; r++) {
                            long queryChunk = undo[row * items + r * length + queryPosition] / chunkLength;
                            long keyChunk = undo[row * items + r * length + keyPosition] / chunkLength;
                            for (int o = -before; o <= after; o++) {
                                count += queryChunk == Math.floorMod(keyChunk - o, chunks) ? 1 : 0;
                            }
                        }
                        out[((row * chunks + c) * chunkLength + i) * window + j] = Math.log(count + 1e-9);
                    }
                }
            }
        }
        return Tensor.of(out, rows, chunks, chunkLength, window).cast(dtype);
    }
}
