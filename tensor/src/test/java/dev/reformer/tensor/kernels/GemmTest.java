package dev.reformer.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm}: the vector kernel and the plain loop against a product in double written here, and
 * against each other bit for bit (each element's sum runs along p in order with fused
 * multiply-adds in both), over shapes that
 * leave row and column tails, with strided and transposed A and with accumulation.
 */
class GemmTest {
    private final Random random = new Random(5);

    @Test
    void bothLoopsComputeTheProductAndAgreeBitForBit() {
        // A read in place (few column panels), copied p-major (wide: 300 and 520 columns), short blocks and tails
        int[][] shapes = {{64, 64, 64}, {13, 37, 5}, {1, 1, 1}, {9, 130, 64}, {64, 17, 128}, {3, 64, 3}, {16, 300, 20}, {21, 520, 7}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (boolean transposed : new boolean[] {false, true}) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[] a = values(m * k + 3);
                    float[] b = values(k * (n + 5) + 2);
                    float[] start = values(m * (n + 1) + 4);
                    int aRow = transposed ? 1 : k;
                    int aCol = transposed ? m : 1;
                    float alpha = 0.75f;
                    float[] vector = start.clone();
                    float[] scalar = start.clone();
                    Gemm.gemm(m, n, k, alpha, a, 3, aRow, aCol, b, 2, n + 5, vector, 4, n + 1, accumulate);
                    Kernels.plainLoops(() -> {
                        Gemm.gemm(m, n, k, alpha, a, 3, aRow, aCol, b, 2, n + 5, scalar, 4, n + 1, accumulate);
                        return null;
                    });
                    assertThat(vector).as("vector kernel and plain loop, %dx%dx%d", m, n, k).containsExactly(scalar);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            for (int p = 0; p < k; p++) {
                                sum += (double) a[3 + i * aRow + p * aCol] * b[2 + p * (n + 5) + j];
                            }
                            double want = alpha * sum + (accumulate ? start[4 + i * (n + 1) + j] : 0);
                            assertThat((double) scalar[4 + i * (n + 1) + j]).as("C[%d][%d] of %dx%dx%d", i, j, m, n, k)
                                    .isCloseTo(want, org.assertj.core.api.Assertions.within(1e-5 * (1 + Math.abs(want)) * Math.sqrt(k)));
                        }
                    }
                    assertThat(scalar[3]).as("memory outside C is untouched").isEqualTo(start[3]);
                }
            }
        }
    }

    private float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
