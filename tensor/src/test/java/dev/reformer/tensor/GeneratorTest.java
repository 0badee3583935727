package dev.reformer.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class GeneratorTest {
    @Test
    void sameSeedSameNumbers() {
        double[] a = new Generator(7).normal(DType.FLOAT64, 0, 1, 1000).toDoubleArray();
        double[] b = new Generator(7).normal(DType.FLOAT64, 0, 1, 1000).toDoubleArray();
        double[] c = new Generator(8).normal(DType.FLOAT64, 0, 1, 1000).toDoubleArray();
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void splitStreamsAreDeterminedByTheParent() {
        Generator p1 = new Generator(3);
        Generator p2 = new Generator(3);
        assertThat(p1.split().nextSeed()).isEqualTo(p2.split().nextSeed());
        assertThat(p1.nextSeed()).isEqualTo(p2.nextSeed());
    }

    @Test
    void normalAndUniformHaveTheRequestedMoments() {
        double[] n = new Generator(1).normal(DType.FLOAT64, 2.0, 3.0, 200_000).toDoubleArray();
        double mean = java.util.Arrays.stream(n).average().orElseThrow();
        double var = java.util.Arrays.stream(n).map(v -> (v - mean) * (v - mean)).sum() / n.length;
        assertThat(mean).isCloseTo(2.0, within(0.03));
        assertThat(Math.sqrt(var)).isCloseTo(3.0, within(0.03));
        double[] u = new Generator(1).uniform(DType.FLOAT64, -1, 3, 100_000).toDoubleArray();
        assertThat(java.util.Arrays.stream(u).min().orElseThrow()).isGreaterThanOrEqualTo(-1);
        assertThat(java.util.Arrays.stream(u).max().orElseThrow()).isLessThan(3);
        assertThat(java.util.Arrays.stream(u).average().orElseThrow()).isCloseTo(1.0, within(0.02));
    }

    @Test
    void float32DrawsAreTheFloat64DrawsRounded() {
        float[] f = new Generator(5).normal(DType.FLOAT32, 0, 1, 10).toFloatArray();
        double[] d = new Generator(5).normal(DType.FLOAT64, 0, 1, 10).toDoubleArray();
        for (int i = 0; i < f.length; i++) {
            assertThat(f[i]).isEqualTo((float) d[i]);
        }
    }
}
