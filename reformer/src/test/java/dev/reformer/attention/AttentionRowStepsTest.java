package dev.reformer.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.tensor.kernels.Kernels;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The attention kernels' own row steps against what they stand for: {@link PositionMasks#applyInOrder}
 * (the flash kernel's ranges) against {@link PositionMasks#apply} over the same positions, and
 * {@link KeyNormalization#addBackward}'s vector form against its plain loop and a double formula.
 */
class AttentionRowStepsTest {
    private final Random random = new Random(11);

    @Test
    void masksOverConsecutiveKeysEqualTheMasksKeyByKey() {
        int length = 53;
        for (boolean shared : new boolean[] {false, true}) {
            for (boolean causal : new boolean[] {false, true}) {
                for (boolean padded : new boolean[] {false, true}) {
                    boolean[] padding = null;
                    if (padded) {
                        padding = new boolean[2 * length];
                        for (int p = 0; p < padding.length; p++) {
                            padding[p] = random.nextInt(5) == 0;
                        }
                    }
                    ChunkedAttentionSpec spec = new ChunkedAttentionSpec(1, length, 0, 0, false, causal, 0.125,
                            shared ? -5e4 : Double.NaN, false);
                    ChunkedAttentionProblem pb = new ChunkedAttentionProblem(spec, 2, length, 8, null, padding);
                    PositionMasks masks = new PositionMasks(pb);
                    int[] positions = new int[length];
                    int[] blocked = new int[length];
                    for (int j = 0; j < length; j++) {
                        positions[j] = j;
                        blocked[j] = pb.padded(1, j) ? 1 : 0;
                    }
                    for (int first : new int[] {0, 7}) {
                        int n = length - first;
                        for (int t : new int[] {0, 5, 7, 20, length - 1}) {
                            float[] logits = values(n + 3);
                            float[] inOrder = logits.clone();
                            int[] flags = new int[n + 3];
                            int[] flagsInOrder = new int[n + 3];
                            Arrays.fill(flagsInOrder, 9);
                            masks.apply(logits, flags, 3, n, t, positions, blocked, first);
                            masks.applyInOrder(inOrder, flagsInOrder, 3, n, t, first, blocked);
                            String what = String.format("shared %s, causal %s, padded %s, query %d, keys from %d", shared,
                                    causal, padded, t, first);
                            assertThat(inOrder).as(what).containsExactly(logits);
                            assertThat(Arrays.copyOfRange(flagsInOrder, 3, n + 3)).as(what)
                                    .containsExactly(Arrays.copyOfRange(flags, 3, n + 3));
                            assertThat(flagsInOrder[0]).as("flags before the row are untouched").isEqualTo(9);
                        }
                    }
                }
            }
        }
    }

    @Test
    void keyNormalizationBackwardVectorFormAgreesWithThePlainLoopAndTheFormula() {
        for (int d : new int[] {64, 32, 37, 5}) {
            for (double size : new double[] {1, 1e-3, 0}) {
                float[] x = values(d + 2);
                for (int e = 0; e < x.length; e++) {
                    x[e] *= (float) size;
                }
                float[] dk = values(d);
                float[] start = values(d);
                float[] vector = start.clone();
                float[] plain = start.clone();
                KeyNormalization.addBackward(x, 2, dk, vector, d);
                Kernels.plainLoops(() -> {
                    KeyNormalization.addBackward(x, 2, dk, plain, d);
                    return null;
                });
                double squared = 0;
                double along = 0;
                for (int e = 0; e < d; e++) {
                    squared += (double) x[2 + e] * x[2 + e];
                    along += (double) x[2 + e] * dk[e];
                }
                double norm = Math.max(Math.sqrt(squared), 1e-12);
                for (int e = 0; e < d; e++) {
                    double want = start[e] + (dk[e] - x[2 + e] * (squared >= 1e-24 ? along / (norm * norm) : 0)) / norm;
                    double tolerance = 1e-6 * (Math.abs(want) + Math.abs(start[e]) + Math.abs(dk[e] / norm));
                    assertThat((double) plain[e]).as("plain, d %d, |x| ~ %s, element %d", d, size, e).isCloseTo(want, within(tolerance));
                    assertThat((double) vector[e]).as("vector, d %d, |x| ~ %s, element %d", d, size, e).isCloseTo(want, within(tolerance));
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
