package dev.reformer.attention;

/**
 * The index side of one fused chunked attention call: sizes, the sorted order and the padding,
 * with the position arithmetic every implementation shares (which item sits in a slot, which
 * chunks a window covers, which keys are forbidden, how often a key is counted).
 *
 * <p>Letters: N rows (B*H), L length, D head dimension, K rounds, C chunk length, n = K*L/C chunks.
 *
 * @param rows        N
 * @param length      L
 * @param dim         D
 * @param sortedIndex (N, K*L) item r*L + t at each sorted slot, or null for the identity (local attention)
 * @param padding     (N, L) true at padded positions, or null
 */
public record ChunkedAttentionProblem(ChunkedAttentionSpec spec, int rows, int length, int dim, int[] sortedIndex,
        boolean[] padding) {

    /** -1e9: exp(-1e9 - lse) is exactly 0 in float32 and float64, yet finite (see {@link Masks#FORBIDDEN}). */
    static final double FORBIDDEN = Masks.FORBIDDEN;

    public ChunkedAttentionProblem {
        int items = spec.rounds() * length;
        if (items % spec.chunkLength() != 0) {
            throw new IllegalArgumentException("chunked attention: K*L = " + items + " items do not split into chunks of "
                    + spec.chunkLength());
        }
        if (sortedIndex != null && sortedIndex.length != rows * items) {
            throw new IllegalArgumentException("chunked attention: sorted index of " + sortedIndex.length
                    + " entries for " + rows + " rows of " + items + " items");
        }
    }

    public int items() {
        return spec.rounds() * length;
    }

    public int chunks() {
        return items() / spec.chunkLength();
    }

    /** The item (r*L + t) at sorted slot {@code slot} of row {@code row}. */
    public int item(int row, int slot) {
        return sortedIndex == null ? slot : sortedIndex[row * items() + slot];
    }

    /** The chunk window slot {@code j} of chunk {@code chunk} reads, wrapping around; see {@link #outside}. */
    int windowChunk(int chunk, int j) {
        return Math.floorMod(chunk + j / spec.chunkLength() - spec.chunksBefore(), chunks());
    }

    /** The sorted slot window slot {@code j} of chunk {@code chunk} reads. */
    int windowSlot(int chunk, int j) {
        return windowChunk(chunk, j) * spec.chunkLength() + j % spec.chunkLength();
    }

    /** Whether window slot {@code j} of chunk {@code chunk} runs past an end of a non-cyclic sequence. */
    boolean outside(int chunk, int j) {
        int neighbour = chunk + j / spec.chunkLength() - spec.chunksBefore();
        return !spec.cyclic() && (neighbour < 0 || neighbour >= chunks());
    }

    boolean padded(int row, int position) {
        return padding != null && padding[row * length + position];
    }

    /** Whether any position is padding (null padding: none). */
    boolean hasPadding() {
        return padding != null;
    }

    /**
     * What replaces the logit of query position t and key position p, or NaN when the logit is
     * the scaled dot product (the only case that carries a gradient to q and k).
     */
    double maskedLogit(int row, int t, int p, boolean outside) {
        if (spec.sharedQk() && p == t) {
            return spec.selfMaskValue();
        }
        if ((spec.causal() && p > t) || padded(row, p) || outside) {
            return FORBIDDEN;
        }
        return Double.NaN;
    }

    /**
     * The slot of every item, (N, K*L): {@code slotOf[row*K*L + item]}, the inverse of the sorted
     * index, for the duplicate counts.
     */
    public int[] slotOfItems() {
        int items = items();
        int[] slotOf = new int[rows * items];
        for (int row = 0; row < rows; row++) {
            for (int s = 0; s < items; s++) {
                slotOf[row * items + item(row, s)] = s;
            }
        }
        return slotOf;
    }

    /**
     * Paper eq. 16's count for query position t and key position p: in how many rounds' windows
     * (the window of t's round-r item) p appears through any of its K copies. At least 1 for a
     * key in the window of one of t's items.
     */
    int duplicateCount(int[] slotOf, int row, int t, int p) {
        int k = spec.rounds();
        int items = items();
        int c = spec.chunkLength();
        int n = chunks();
        int span = spec.chunksBefore() + spec.chunksAfter();
        int count = 0;
        for (int r = 0; r < k; r++) {
            int queryChunk = slotOf[row * items + r * length + t] / c;
            for (int copy = 0; copy < k; copy++) {
                int keyChunk = slotOf[row * items + copy * length + p] / c;
                if (Math.floorMod(keyChunk - queryChunk + spec.chunksBefore(), n) <= span) {
                    count++;
                    break;
                }
            }
        }
        return count;
    }
}
