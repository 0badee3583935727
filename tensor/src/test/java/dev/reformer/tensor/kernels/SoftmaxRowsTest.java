package dev.reformer.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Softmax#rowsInPlace}, the attention kernels' softmax over a block of short rows, gives
 * the same bits as {@link Softmax#inPlace} row by row, with the vector kernels and with the plain
 * loops, including rows with a tail shorter than a vector.
 */
class SoftmaxRowsTest {
    @Test
    void aBlockOfRowsGivesTheBitsOfOneRowAtATime() {
        Random random = new Random(3);
        for (boolean plain : new boolean[] {false, true}) {
            for (int n : new int[] {64, 37, 5}) {
                int rows = 7;
                float[] x = new float[2 + rows * n];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (4 * random.nextGaussian());
                }
                float[] block = x.clone();
                float[] oneByOne = x.clone();
                double[] lse = new double[rows + 1];
                double[] lseOneByOne = new double[rows + 1];
                Runnable both = () -> {
                    Softmax.rowsInPlace(block, 2, rows, n, lse, 1);
                    for (int r = 0; r < rows; r++) {
                        lseOneByOne[1 + r] = Softmax.inPlace(oneByOne, 2 + r * n, n);
                    }
                };
                if (plain) {
                    Kernels.plainLoops(() -> {
                        both.run();
                        return null;
                    });
                } else {
                    both.run();
                }
                assertThat(block).as("rows of %d, plain loops %s", n, plain).containsExactly(oneByOne);
                assertThat(lse).as("logsumexps, rows of %d, plain loops %s", n, plain).containsExactly(lseOneByOne);
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += block[2 + j];
                }
                assertThat(sum).as("a row's weights sum to 1").isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
            }
        }
    }
}
