package dev.reformer.cuda;

/**
 * The contract of {@code lsh_hash.cu} in plain Java, in double precision: for round r of position
 * t of row n, {@code bucket = argmax(concat(x R_r, -x R_r))}, the first maximum winning (index
 * j < S stands for +(x R_r)[j], S + j for -(x R_r)[j]), as the engine's {@code LshAttention.hash}
 * computes it for one factor, no padding and finite inputs. Shapes: x (N, L, D), rotations (N, D, K*S) with round
 * r in columns r*S .. r*S + S - 1, buckets (N, K, L) without the round offset.
 */
public final class LshHashReference {
    private LshHashReference() {
    }

    public static int[] hash(float[] x, float[] rotations, int rows, int length, int dim, int rounds, int half) {
        int[] buckets = new int[rows * rounds * length];
        for (int row = 0; row < rows; row++) {
            for (int r = 0; r < rounds; r++) {
                for (int t = 0; t < length; t++) {
                    int best = 0;
                    int worst = 0;
                    double bestValue = 0;
                    double worstValue = 0;
                    for (int j = 0; j < half; j++) {
                        double s = projection(x, rotations, length, dim, rounds, half, row, r, t, j);
                        if (j == 0 || s > bestValue) {
                            best = j;
                            bestValue = s;
                        }
                        if (j == 0 || s < worstValue) {
                            worst = j;
                            worstValue = s;
                        }
                    }
                    buckets[(row * rounds + r) * length + t] = bestValue >= -worstValue ? best : half + worst;
                }
            }
        }
        return buckets;
    }

    /** The value bucket {@code b} stands for: {@code +(x R_r)[b]} for b < S, else {@code -(x R_r)[b - S]}. */
    public static double valueOf(float[] x, float[] rotations, int length, int dim, int rounds, int half, int row, int r, int t,
            int b) {
        return b < half ? projection(x, rotations, length, dim, rounds, half, row, r, t, b)
                : -projection(x, rotations, length, dim, rounds, half, row, r, t, b - half);
    }

    private static double projection(float[] x, float[] rotations, int length, int dim, int rounds, int half, int row, int r,
            int t, int j) {
        int columns = rounds * half;
        double s = 0;
        for (int e = 0; e < dim; e++) {
            s += (double) x[(row * length + t) * dim + e] * rotations[(row * dim + e) * columns + r * half + j];
        }
        return s;
    }
}
