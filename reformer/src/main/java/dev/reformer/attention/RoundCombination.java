package dev.reformer.attention;

import dev.reformer.tensor.kernels.Parallel;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The last stage of LSH attention for the fused op: rounds combine as
 * {@code out_t = sum_r w_r,t out_r,t} with {@code w_r,t = softmax_r(lse_r,t)} (paper section 2.3;
 * the weights also normalise the rounds' separate softmaxes into one over their union).
 * Computed in double whatever the tensors' dtype, so the weights sum to 1 to double rounding.
 *
 * <p>Its backward gives each round's output and logsumexp a gradient:
 * {@code dOut_r = w_r g} and {@code dLse_r = w_r (g . out_r - g . out)} (the softmax Jacobian).
 * Arrays: per-item outputs (N, K*L, D) and logsumexps (N, K*L) in item order (r*L + t), combined
 * output and its gradient (N, L, D).
 */
public final class RoundCombination {
    private RoundCombination() {
    }

    /** Gradients of the per-item outputs and of the logsumexps. */
    public record Gradients(double[] dOut, double[] dLse) {
    }

    public static double[] combine(double[] out, double[] lse, ChunkedAttentionProblem pb) {
        int rounds = pb.spec().rounds();
        int length = pb.length();
        int d = pb.dim();
        double[] combined = new double[pb.rows() * length * d];
        double[] w = new double[rounds];
        for (int row = 0; row < pb.rows(); row++) {
            for (int t = 0; t < length; t++) {
                weights(lse, row, t, rounds, length, w);
                int o = (row * length + t) * d;
                for (int r = 0; r < rounds; r++) {
                    int io = ((row * rounds + r) * length + t) * d;
                    for (int e = 0; e < d; e++) {
                        combined[o + e] += w[r] * out[io + e];
                    }
                }
            }
        }
        return combined;
    }

    /** The float flavour, over tensor memory: per-item outputs {@code out} in, {@code combined} (N, L, D) written. */
    static void combine(FloatBuffer out, double[] lse, ChunkedAttentionProblem pb, FloatBuffer combined) {
        int rounds = pb.spec().rounds();
        int length = pb.length();
        int d = pb.dim();
        Parallel.forRange(pb.rows() * length, 256, (from, to) -> {
            double[] w = new double[rounds];
            double[] acc = new double[d];
            float[] row = new float[d];
            for (int rt = from; rt < to; rt++) {
                int r0 = rt / length;
                int t = rt % length;
                weights(lse, r0, t, rounds, length, w);
                Arrays.fill(acc, 0);
                for (int r = 0; r < rounds; r++) {
                    out.get(((r0 * rounds + r) * length + t) * d, row, 0, d);
                    for (int e = 0; e < d; e++) {
                        acc[e] += w[r] * row[e];
                    }
                }
                for (int e = 0; e < d; e++) {
                    row[e] = (float) acc[e];
                }
                combined.put(rt * d, row, 0, d);
            }
        });
    }

    public static Gradients backward(double[] g, double[] out, double[] lse, ChunkedAttentionProblem pb) {
        int rounds = pb.spec().rounds();
        int length = pb.length();
        int d = pb.dim();
        double[] dOut = new double[out.length];
        double[] dLse = new double[lse.length];
        double[] w = new double[rounds];
        double[] gOut = new double[rounds];
        for (int row = 0; row < pb.rows(); row++) {
            for (int t = 0; t < length; t++) {
                weights(lse, row, t, rounds, length, w);
                int go = (row * length + t) * d;
                double gCombined = 0; // g . out, out = sum_r w_r out_r
                for (int r = 0; r < rounds; r++) {
                    int io = ((row * rounds + r) * length + t) * d;
                    gOut[r] = 0;
                    for (int e = 0; e < d; e++) {
                        gOut[r] += g[go + e] * out[io + e];
                        dOut[io + e] = w[r] * g[go + e];
                    }
                    gCombined += w[r] * gOut[r];
                }
                for (int r = 0; r < rounds; r++) {
                    dLse[(row * rounds + r) * length + t] = w[r] * (gOut[r] - gCombined);
                }
            }
        }
        return new Gradients(dOut, dLse);
    }

    /**
     * The float flavour, over tensor memory: writes the per-item outputs' gradients into
     * {@code dOut} (N, K*L, D) and returns the logsumexps' gradients (N, K*L).
     */
    static double[] backward(FloatBuffer g, FloatBuffer out, double[] lse, ChunkedAttentionProblem pb, FloatBuffer dOut) {
        int rounds = pb.spec().rounds();
        int length = pb.length();
        int d = pb.dim();
        double[] dLse = new double[lse.length];
        Parallel.forRange(pb.rows() * length, 256, (from, to) -> {
            double[] w = new double[rounds];
            double[] gOut = new double[rounds];
            float[] gRow = new float[d];
            float[] row = new float[d];
            for (int rt = from; rt < to; rt++) {
                int r0 = rt / length;
                int t = rt % length;
                weights(lse, r0, t, rounds, length, w);
                g.get(rt * d, gRow, 0, d);
                double gCombined = 0;
                for (int r = 0; r < rounds; r++) {
                    int io = ((r0 * rounds + r) * length + t) * d;
                    out.get(io, row, 0, d);
                    double dot = 0;
                    for (int e = 0; e < d; e++) {
                        dot += (double) gRow[e] * row[e];
                        row[e] = (float) (w[r] * gRow[e]);
                    }
                    dOut.put(io, row, 0, d);
                    gOut[r] = dot;
                    gCombined += w[r] * dot;
                }
                for (int r = 0; r < rounds; r++) {
                    dLse[(r0 * rounds + r) * length + t] = w[r] * (gOut[r] - gCombined);
                }
            }
        });
        return dLse;
    }

    /** {@code w[r] = softmax_r(lse[row, r, t])}. */
    private static void weights(double[] lse, int row, int t, int rounds, int length, double[] w) {
        double max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < rounds; r++) {
            max = Math.max(max, lse[(row * rounds + r) * length + t]);
        }
        double sum = 0;
        for (int r = 0; r < rounds; r++) {
            w[r] = Math.exp(lse[(row * rounds + r) * length + t] - max);
            sum += w[r];
        }
        for (int r = 0; r < rounds; r++) {
            w[r] /= sum;
        }
    }
}
