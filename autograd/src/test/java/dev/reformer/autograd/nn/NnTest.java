package dev.reformer.autograd.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.IndexRangeException;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Values (not gradients) of the nn blocks. */
class NnTest {
    private static Variable c(double[] v, long... shape) {
        return Variable.constant(Tensor.of(v, shape));
    }

    @Test
    void softmaxIsStableForLargeLogitsAndSumsToOne() {
        Variable x = c(new double[] {1000, 1001, 1002, -1000, 0, 1000}, 2, 3);
        double[] p = Functional.softmax(x, -1).data().toDoubleArray();
        double e1 = Math.exp(-1);
        double e2 = Math.exp(-2);
        double z = 1 + e1 + e2;
        assertThat(p).containsExactly(new double[] {e2 / z, e1 / z, 1 / z, 0, Math.exp(-1000) / (1 + Math.exp(-1000)),
            1 / (1 + Math.exp(-1000))}, within(1e-12));
        double[] lse = Functional.logsumexp(x, -1, false).data().toDoubleArray();
        assertThat(lse[0]).isCloseTo(1002 + Math.log(z), within(1e-9));
        assertThat(lse[1]).isCloseTo(1000, within(1e-9));
    }

    @Test
    void crossEntropyMatchesTheFormulaAndSkipsIgnoredTargets() {
        Variable logits = c(new double[] {0, 0, Math.log(2), 5, 5, 5}, 2, 3);
        Tensor targets = Tensor.of(new long[] {2, -1}, 2);
        double loss = Functional.crossEntropy(logits, targets, -1).data().item();
        assertThat(loss).isCloseTo(-Math.log(0.5), within(1e-12)); // p(2) = 2 / (1 + 1 + 2)
        Tensor allIgnored = Tensor.of(new long[] {-1, -1}, 2);
        assertThat(Functional.crossEntropy(logits, allIgnored, -1).data().item()).isZero();
        assertThatThrownBy(() -> Functional.crossEntropy(logits, Tensor.of(new long[] {3, 0}, 2), -1))
                .isInstanceOf(IndexRangeException.class).hasMessageContaining("target 3 at flat position 0");
    }

    @Test
    void layerNormNormalizesTheLastAxis() {
        LayerNorm norm = new LayerNorm(4, 0, DType.FLOAT64);
        double[] y = norm.forward(c(new double[] {1, 2, 3, 4, 10, 10, 10, 14}, 2, 4)).data().toDoubleArray();
        for (int row = 0; row < 2; row++) {
            double mean = 0;
            double sq = 0;
            for (int i = 0; i < 4; i++) {
                mean += y[row * 4 + i] / 4;
                sq += y[row * 4 + i] * y[row * 4 + i] / 4;
            }
            assertThat(mean).isCloseTo(0, within(1e-12));
            assertThat(sq).isCloseTo(1, within(1e-12));
        }
        assertThatThrownBy(() -> norm.forward(c(new double[6], 2, 3))).isInstanceOf(ShapeException.class)
                .hasMessageContaining("LayerNorm: input x(2,3) must have shape (..., 4)");
    }

    @Test
    void dropoutReplaysItsMaskFromTheSeedAndIsIdentityInEval() {
        Dropout dropout = new Dropout(0.5, new Generator(1));
        Variable x = Variable.constant(Tensor.ones(DType.FLOAT32, 1000));
        float[] first = dropout.forward(x).data().toFloatArray();
        float[] replay = dropout.forward(x, dropout.lastSeed()).data().toFloatArray();
        float[] next = dropout.forward(x).data().toFloatArray();
        assertThat(replay).containsExactly(first);
        assertThat(next).isNotEqualTo(first);
        long kept = 0;
        for (float v : first) {
            assertThat(v).isIn(0f, 2f);
            kept += v > 0 ? 1 : 0;
        }
        assertThat(kept).isBetween(430L, 570L);
        dropout.train(false);
        assertThat(dropout.forward(x)).isSameAs(x);
    }

    @Test
    void modulesNameTheirParametersByPath() {
        final class Mlp extends Module {
            final Linear hidden = child("hidden", new Linear(2, 3, true, DType.FLOAT32, new Generator(0)));
            final LayerNorm norm = child("norm", new LayerNorm(3, 1e-5, DType.FLOAT32));
        }
        Mlp mlp = new Mlp();
        assertThat(mlp.namedParameters().keySet())
                .containsExactly("hidden.weight", "hidden.bias", "norm.gamma", "norm.beta");
        assertThat(mlp.parameterCount()).isEqualTo(6 + 3 + 3 + 3);
        mlp.train(false);
        assertThat(mlp.hidden.isTraining()).isFalse();
    }

    @Test
    void embeddingRejectsIdsOutsideTheVocabulary() {
        Embedding e = new Embedding(4, 2, DType.FLOAT32, new Generator(0));
        assertThatThrownBy(() -> e.forward(Tensor.of(new long[] {1, 4}, 2)))
                .isInstanceOf(IndexRangeException.class)
                .hasMessageContaining("id 4 at flat position 1")
                .hasMessageContaining("vocabulary of 4");
    }

    @Test
    void sameSeedSameInitialisation() {
        Linear a = new Linear(8, 8, true, DType.FLOAT32, new Generator(5));
        Linear b = new Linear(8, 8, true, DType.FLOAT32, new Generator(5));
        assertThat(a.weight().data().toFloatArray()).containsExactly(b.weight().data().toFloatArray());
    }
}
