package dev.reformer.attention;

import dev.reformer.tensor.Tensor;

/**
 * What one LSH attention call did, stage by stage, for the probe and its picture: the bucket of
 * every item, the sorted order, each chunk's window and weights, and the round weights. Rows are
 * the N = B*H (example, head) pairs.
 */
public final class Trace {
    private long[] bucketIds;       // (N, K, L)
    private long[] sortedItems;     // (N, K*L)
    private long[] keyPositions;    // (N, n, W*C)
    private double[] weights;       // (N, n, C, W*C)
    private double[] roundWeights;  // (N, K, L)
    private int rows;
    private int hashes;
    private int length;
    private int chunks;
    private int chunkLength;
    private int window;

    void record(Tensor bucketIds, LshAttention.SortOrder order, Tensor keyPositions, Tensor weights,
            Tensor roundWeights, long length) {
        long[] w = weights.shape();
        this.rows = (int) w[0];
        this.chunks = (int) w[1];
        this.chunkLength = (int) w[2];
        this.window = (int) w[3];
        this.length = (int) length;
        this.hashes = (int) bucketIds.size(1);
        this.bucketIds = bucketIds.toLongArray();
        this.sortedItems = order.sortedIndex().toLongArray();
        this.keyPositions = keyPositions.toLongArray();
        this.weights = weights.toDoubleArray();
        this.roundWeights = roundWeights.toDoubleArray();
    }

    public int hashes() {
        return hashes;
    }

    public int length() {
        return length;
    }

    public int chunks() {
        return chunks;
    }

    public int chunkLength() {
        return chunkLength;
    }

    /** Bucket of item {@code k*L + t} of row {@code row}, round offset included. */
    public long bucket(int row, int item) {
        return bucketIds[row * hashes * length + item];
    }

    /** The item (k*L + t) at sorted slot {@code slot}. */
    public long sortedItem(int row, int slot) {
        return sortedItems[row * hashes * length + slot];
    }

    /** Original positions of the keys chunk {@code chunk} sees, in window order. */
    public long[] windowPositions(int row, int chunk) {
        long[] out = new long[window];
        System.arraycopy(keyPositions, (row * chunks + chunk) * window, out, 0, window);
        return out;
    }

    /** Within-round weight of query {@code i} of chunk {@code chunk} on window slot {@code j}. */
    public double weight(int row, int chunk, int i, int j) {
        return weights[((row * chunks + chunk) * chunkLength + i) * window + j];
    }

    /** Number of key slots a chunk sees: (chunks before + 1 + chunks after) * C. */
    public int window() {
        return window;
    }

    /** Round k's combination weight for position t: softmax over rounds of the logsumexps. */
    public double roundWeight(int row, int round, int position) {
        return roundWeights[(row * hashes + round) * length + position];
    }

    /**
     * The attention each position finally pays to each position, (L, L): the sum over rounds of
     * the round weight times the within-round weight, adding up a key seen twice in a window.
     */
    public double[][] attentionMatrix(int row) {
        double[][] a = new double[length][length];
        int items = hashes * length;
        for (int slot = 0; slot < items; slot++) {
            long item = sortedItem(row, slot);
            int round = (int) (item / length);
            int query = (int) (item % length);
            int chunk = slot / chunkLength;
            int i = slot % chunkLength;
            long[] keys = windowPositions(row, chunk);
            double roundWeight = roundWeight(row, round, query);
            for (int j = 0; j < window; j++) {
                a[query][(int) keys[j]] += roundWeight * weight(row, chunk, i, j);
            }
        }
        return a;
    }
}
