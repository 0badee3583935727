package dev.reformer.autograd.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.autograd.GradientCheck;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** A float64 central-difference check per nn block and per composite function, parameters included. */
class NnGradientTest {
    private final Generator gen = new Generator(11);

    private Tensor normal(long... shape) {
        return gen.normal(DType.FLOAT64, 0, 1, shape);
    }

    @Test
    void linear() {
        Linear linear = new Linear(4, 3, true, DType.FLOAT64, gen);
        GradientCheck.Result r = GradientCheck.checkWithParameters("Linear",
                x -> linear.forward(x[0]), linear.parameters(), normal(2, 5, 4));
        assertThat(r.elementsChecked()).isEqualTo(40 + 12 + 3);
    }

    @Test
    void embedding() {
        Embedding embedding = new Embedding(6, 3, DType.FLOAT64, gen);
        Tensor ids = Tensor.of(new long[] {5, 0, 5, 2, 1, 0}, 2, 3);
        GradientCheck.Result r = GradientCheck.checkWithParameters("Embedding",
                x -> embedding.forward(ids), embedding.parameters());
        assertThat(r.elementsChecked()).isEqualTo(18);
    }

    @Test
    void layerNorm() {
        LayerNorm norm = new LayerNorm(5, 1e-5, DType.FLOAT64);
        // Perturb gamma and beta away from 1 and 0 so their gradients are not special cases.
        norm.parameters().get(0).setData(normal(5));
        norm.parameters().get(1).setData(normal(5));
        GradientCheck.checkWithParameters("LayerNorm", x -> norm.forward(x[0]), norm.parameters(), normal(3, 5));
    }

    @Test
    void dropoutWithAFixedSeed() {
        Dropout dropout = new Dropout(0.3, gen);
        GradientCheck.check("Dropout", x -> dropout.forward(x[0], 99L), normal(4, 6));
    }

    @Test
    void geluAndRelu() {
        GradientCheck.check("GELU", x -> new Gelu().forward(x[0]), normal(3, 4));
        GradientCheck.check("ReLU", x -> new Relu().forward(x[0]), normal(3, 4).mul(3.0));
    }

    @Test
    void softmaxLogSoftmaxLogsumexp() {
        GradientCheck.check("softmax", x -> Functional.softmax(x[0], -1), normal(3, 5));
        GradientCheck.check("softmax axis 0", x -> Functional.softmax(x[0], 0), normal(3, 5));
        GradientCheck.check("logSoftmax", x -> Functional.logSoftmax(x[0], 1), normal(3, 5));
        GradientCheck.check("logsumexp", x -> Functional.logsumexp(x[0], -1, false), normal(2, 3, 5));
    }

    @Test
    void crossEntropyWithIgnoredTargets() {
        Tensor targets = Tensor.of(new long[] {2, -100, 0, 4, 4, -100}, 2, 3);
        GradientCheck.check("crossEntropy", x -> Functional.crossEntropy(x[0], targets, -100), normal(2, 3, 5));
    }

    @Test
    void aSmallMlpEndToEnd() {
        Linear hidden = new Linear(3, 8, true, DType.FLOAT64, gen);
        Linear out = new Linear(8, 4, true, DType.FLOAT64, gen);
        java.util.List<Variable> params = new java.util.ArrayList<>(hidden.parameters());
        params.addAll(out.parameters());
        Tensor targets = Tensor.of(new long[] {1, 3, 0}, 3);
        GradientCheck.checkWithParameters("MLP + crossEntropy",
                x -> Functional.crossEntropy(out.forward(Functional.gelu(hidden.forward(x[0]))), targets, -1),
                params, normal(3, 3));
    }
}
