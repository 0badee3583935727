package dev.reformer.attention;

/**
 * Fused chunked attention written as plain loops in double precision: the reference the vector
 * kernel ({@link ChunkedAttentionKernel}) and the CUDA kernels are held to, and the path float64
 * tensors take. One query item at a time, in the order of {@link ChunkedAttentionSpec}'s formula;
 * nothing here is fast, everything is easy to check.
 *
 * <p>Arrays are row-major: q, k, v and their gradients (N, L, D); per-item outputs (N, K*L, D) and
 * logsumexps (N, K*L) in item order (item = r*L + t), not sorted order.
 */
public final class ChunkedAttentionReference {
    private ChunkedAttentionReference() {
    }

    /** Per-item outputs (N, K*L, D) and logsumexps (N, K*L), both in item order. */
    public record Forward(double[] out, double[] lse) {
    }

    /** Gradients of q, k and v, each (N, L, D); for shared QK the key gradient is already in dq and dk is null. */
    public record Grads(double[] dq, double[] dk, double[] dv) {
    }

    public static Forward forward(ChunkedAttentionProblem pb, double[] q, double[] k, double[] v) {
        int d = pb.dim();
        int items = pb.items();
        double[] keys = pb.spec().sharedQk() ? normalizedRows(q, d) : k;
        int[] slotOf = pb.spec().dedupe() ? pb.slotOfItems() : null;
        double[] out = new double[pb.rows() * items * d];
        double[] lse = new double[pb.rows() * items];
        Row scratch = new Row(pb.spec().window());
        for (int row = 0; row < pb.rows(); row++) {
            for (int slot = 0; slot < items; slot++) {
                int item = pb.item(row, slot);
                double[] p = scratch.attend(pb, row, slot, q, keys, slotOf);
                lse[row * items + item] = scratch.lse;
                int o = (row * items + item) * d;
                for (int j = 0; j < p.length; j++) {
                    int vo = (row * pb.length() + scratch.positions[j]) * d;
                    for (int e = 0; e < d; e++) {
                        out[o + e] += p[j] * v[vo + e];
                    }
                }
            }
        }
        return new Forward(out, lse);
    }

    /**
     * Gradients of q, k, v given those of every item's output ({@code dOut}, (N, K*L, D)) and
     * logsumexp ({@code dLse}, (N, K*L)). With {@code dlogit_j = p_j (dOut . v_j - dOut . out + dLse)}
     * (the softmax Jacobian, plus the logsumexp's own gradient, whose derivative is p_j):
     * {@code dv_j += p_j dOut}, and where the logit is a dot product,
     * {@code dq += scale dlogit_j k_j} and {@code dk_j += scale dlogit_j q}.
     */
    public static Grads backward(ChunkedAttentionProblem pb, double[] q, double[] k, double[] v, Forward fwd, double[] dOut,
            double[] dLse) {
        int d = pb.dim();
        int items = pb.items();
        int length = pb.length();
        boolean shared = pb.spec().sharedQk();
        double[] keys = shared ? normalizedRows(q, d) : k;
        int[] slotOf = pb.spec().dedupe() ? pb.slotOfItems() : null;
        double[] dq = new double[q.length];
        double[] dKeys = new double[q.length];
        double[] dv = new double[v.length];
        double scale = pb.spec().scale();
        Row scratch = new Row(pb.spec().window());
        for (int row = 0; row < pb.rows(); row++) {
            for (int slot = 0; slot < items; slot++) {
                int item = pb.item(row, slot);
                int t = item % length;
                double[] p = scratch.attend(pb, row, slot, q, keys, slotOf);
                int io = (row * items + item) * d;
                double delta = 0; // dOut . out: the softmax Jacobian's shared term
                for (int e = 0; e < d; e++) {
                    delta += dOut[io + e] * fwd.out()[io + e];
                }
                int qo = (row * length + t) * d;
                for (int j = 0; j < p.length; j++) {
                    int ko = (row * length + scratch.positions[j]) * d;
                    double dp = 0;
                    for (int e = 0; e < d; e++) {
                        dp += dOut[io + e] * v[ko + e];
                        dv[ko + e] += p[j] * dOut[io + e];
                    }
                    if (!scratch.isDot[j]) {
                        continue; // a masked logit is a constant: no gradient to q or k
                    }
                    double dLogit = p[j] * (dp - delta + dLse[row * items + item]);
                    for (int e = 0; e < d; e++) {
                        dq[qo + e] += scale * dLogit * keys[ko + e];
                        dKeys[ko + e] += scale * dLogit * q[qo + e];
                    }
                }
            }
        }
        if (!shared) {
            return new Grads(dq, dKeys, dv);
        }
        addNormalizationBackward(q, dKeys, dq, d);
        return new Grads(dq, null, dv);
    }

    /** Row-wise {@code x / max(|x|, 1e-12)}: shared-QK attention's keys (see {@link Masks#normalize}). */
    static double[] normalizedRows(double[] x, int d) {
        double[] out = new double[x.length];
        for (int o = 0; o < x.length; o += d) {
            double norm = Math.sqrt(Math.max(dot(x, o, x, o, d), 1e-24));
            for (int e = 0; e < d; e++) {
                out[o + e] = x[o + e] / norm;
            }
        }
        return out;
    }

    /**
     * {@code dx += (dk - k (k . dk)) / |x|} for {@code k = x / |x|}, row by row; where the norm sat at
     * its floor (|x|^2 < 1e-24) it is a constant and {@code dx += dk / 1e-12}.
     */
    static void addNormalizationBackward(double[] x, double[] dk, double[] dx, int d) {
        for (int o = 0; o < x.length; o += d) {
            double squared = dot(x, o, x, o, d);
            double norm = Math.sqrt(Math.max(squared, 1e-24));
            double along = squared >= 1e-24 ? dot(x, o, dk, o, d) / (norm * norm) : 0;
            for (int e = 0; e < d; e++) {
                dx[o + e] += (dk[o + e] - x[o + e] * along) / norm;
            }
        }
    }

    private static double dot(double[] a, int ao, double[] b, int bo, int n) {
        double s = 0;
        for (int e = 0; e < n; e++) {
            s += a[ao + e] * b[bo + e];
        }
        return s;
    }

    /** One query item's window: key positions, which logits are dot products, the weights and the logsumexp. */
    private static final class Row {
        final int[] positions;
        final boolean[] isDot;
        final double[] weights;
        double lse;

        Row(int window) {
            positions = new int[window];
            isDot = new boolean[window];
            weights = new double[window];
        }

        /** Fills this row for the query at {@code slot} and returns its softmax weights, normalised by their sum. */
        double[] attend(ChunkedAttentionProblem pb, int row, int slot, double[] q, double[] keys, int[] slotOf) {
            int d = pb.dim();
            int length = pb.length();
            int chunk = slot / pb.spec().chunkLength();
            int t = pb.item(row, slot) % length;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < weights.length; j++) {
                int p = pb.item(row, pb.windowSlot(chunk, j)) % length;
                double masked = pb.maskedLogit(row, t, p, pb.outside(chunk, j));
                positions[j] = p;
                isDot[j] = Double.isNaN(masked);
                double logit = isDot[j]
                        ? pb.spec().scale() * dot(q, (row * length + t) * d, keys, (row * length + p) * d, d) : masked;
                if (slotOf != null) {
                    logit -= Math.log(pb.duplicateCount(slotOf, row, t, p)); // paper eq. 16
                }
                weights[j] = logit;
                max = Math.max(max, logit);
            }
            double sum = 0;
            for (int j = 0; j < weights.length; j++) {
                weights[j] = Math.exp(weights[j] - max);
                sum += weights[j];
            }
            for (int j = 0; j < weights.length; j++) {
                weights[j] /= sum;
            }
            lse = max + Math.log(sum);
            return weights;
        }
    }
}
