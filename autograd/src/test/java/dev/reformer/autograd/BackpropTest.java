package dev.reformer.autograd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BackpropTest {
    private static Variable param(double... values) {
        return Variable.parameter(Tensor.of(values, values.length));
    }

    @Test
    void aValueUsedTwiceAccumulatesBothGradients() {
        Variable x = param(3.0);
        Variable y = x.mul(x).add(x); // y = x^2 + x, dy/dx = 2x + 1 = 7
        y.sum().backward();
        assertThat(x.grad().item()).isEqualTo(7.0);
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        Variable x = param(2.0);
        x.mul(x).sum().backward();
        x.mul(x).sum().backward();
        assertThat(x.grad().item()).isEqualTo(8.0);
        x.zeroGrad();
        assertThat(x.grad()).isNull();
    }

    @Test
    void diamondGraphRunsEachBackwardOnceAfterAllConsumers() {
        Variable x = param(0.5);
        Variable a = x.exp();
        Variable b = a.mul(a).add(a.tanh()); // d/dx = (2a + (1 - tanh^2 a)) * a
        b.sum().backward();
        double av = Math.exp(0.5);
        double expected = (2 * av + 1 - Math.pow(Math.tanh(av), 2)) * av;
        assertThat(x.grad().item()).isCloseTo(expected, within(1e-12));
    }

    @Test
    void noGradScopeRecordsNothing() {
        Variable x = param(1.0, 2.0);
        Variable y;
        try (GradMode.Scope s = GradMode.disabled()) {
            y = x.mul(x);
        }
        assertThat(y.requiresGrad()).isFalse();
        assertThat(y.isLeaf()).isTrue();
        assertThat(GradMode.isEnabled()).isTrue();
        assertThatThrownBy(() -> y.sum().backward()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not depend on any variable that requires a gradient");
    }

    @Test
    void detachStopsTheGradient() {
        Variable x = param(3.0);
        Variable y = x.mul(x.detach()); // d/dx = x.detach() = 3, not 2x
        y.sum().backward();
        assertThat(x.grad().item()).isEqualTo(3.0);
    }

    @Test
    void constantsGetNoGradientAndOpsSkipTheirWork() {
        Variable x = param(1.0, 2.0);
        Variable c = Variable.constant(Tensor.of(new double[] {5, 7}, 2));
        x.mul(c).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(5, 7);
        assertThat(c.grad()).isNull();
    }

    @Test
    void secondBackwardThroughAFreedGraphSaysWhy() {
        Variable x = param(1.0);
        Variable y = x.exp().sum();
        y.backward();
        assertThatThrownBy(y::backward).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already used by a backward pass");
    }

    @Test
    void backwardOfANonScalarNeedsASeed() {
        Variable x = param(1.0, 2.0);
        assertThatThrownBy(() -> x.exp().backward()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backward: output has shape (2)");
        Variable y = x.exp();
        y.backward(Tensor.of(new double[] {1, 0}, 2));
        assertThat(x.grad().toDoubleArray()).containsExactly(Math.exp(1), 0);
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Variable x = param(1.0);
        Variable y = x;
        for (int i = 0; i < 20_000; i++) {
            y = y.add(0.0);
        }
        y.sum().backward();
        assertThat(x.grad().item()).isEqualTo(1.0);
    }

    @Test
    void retainedBytesCountsWhatOpsSaved() {
        Variable x = Variable.parameter(Tensor.zeros(DType.FLOAT64, 10));
        Variable y = x.exp();               // saves its output: 80 bytes
        assertThat(Graphs.retainedBytes(y)).isEqualTo(80);
        Variable z = y.add(1.0).neg();      // add and neg save nothing
        assertThat(Graphs.retainedBytes(z)).isEqualTo(80);
        Variable w = z.mul(z);              // saves z twice: one buffer
        assertThat(Graphs.retainedBytes(w)).isEqualTo(160);
        w.sum().backward();
        assertThat(Graphs.retainedBytes(w)).isZero();
    }
}
