package dev.reformer.autograd.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptimizerTest {
    private static Variable param(double... v) {
        return Variable.parameter(Tensor.of(v, v.length));
    }

    /** Loss 0.5 * sum(p^2): its gradient is p. */
    private static void backwardOfHalfSquare(Variable p) {
        p.mul(p).sum().mul(0.5).backward();
    }

    @Test
    void sgdWithMomentumFollowsTheHeavyBallRecursion() {
        Variable p = param(1.0);
        Sgd sgd = new Sgd(List.of(p), 0.1, 0.9);
        double value = 1.0;
        double velocity = 0;
        for (int step = 0; step < 5; step++) {
            backwardOfHalfSquare(p);
            sgd.step();
            sgd.zeroGrad();
            velocity = 0.9 * velocity + value;
            value -= 0.1 * velocity;
            assertThat(p.data().item()).isCloseTo(value, within(1e-12));
        }
    }

    @Test
    void adamsFirstStepHasLengthLearningRateWhateverTheGradientScale() {
        Variable small = param(1e-3);
        Variable large = param(1e3);
        Adam adam = new Adam(List.of(small, large), 0.01, 0.9, 0.999, 1e-12);
        backwardOfHalfSquare(small);
        backwardOfHalfSquare(large);
        adam.step();
        assertThat(small.data().item()).isCloseTo(1e-3 - 0.01, within(1e-9));
        assertThat(large.data().item()).isCloseTo(1e3 - 0.01, within(1e-9));
    }

    @Test
    void adamMatchesAHandComputedSecondStep() {
        Variable p = param(2.0);
        Adam adam = new Adam(List.of(p), 0.1, 0.5, 0.75, 1e-8);
        double x = 2.0;
        double m = 0;
        double v = 0;
        for (int t = 1; t <= 2; t++) {
            backwardOfHalfSquare(p);
            adam.step();
            adam.zeroGrad();
            double g = x;
            m = 0.5 * m + 0.5 * g;
            v = 0.75 * v + 0.25 * g * g;
            double mHat = m / (1 - Math.pow(0.5, t));
            double vHat = v / (1 - Math.pow(0.75, t));
            x -= 0.1 * mHat / (Math.sqrt(vHat) + 1e-8);
            assertThat(p.data().item()).isCloseTo(x, within(1e-12));
        }
    }

    @Test
    void adamWDecaysWeightsEvenWithZeroGradient() {
        Variable p = param(1.0);
        AdamW adamW = new AdamW(List.of(p), 0.1, 0.9, 0.999, 1e-8, 0.5);
        p.mul(0.0).sum().backward(); // gradient 0: only the decay moves p
        adamW.step();
        assertThat(p.data().item()).isCloseTo(1.0 - 0.1 * 0.5 * 1.0, within(1e-12));
    }

    @Test
    void parametersWithoutGradientsAreLeftAlone() {
        Variable used = param(1.0);
        Variable unused = param(5.0);
        Sgd sgd = new Sgd(List.of(used, unused), 0.1, 0.0);
        backwardOfHalfSquare(used);
        sgd.step();
        assertThat(unused.data().item()).isEqualTo(5.0);
    }

    @Test
    void clipGlobalNormScalesAllGradientsTogether() {
        Variable a = param(3.0);
        Variable b = param(4.0);
        backwardOfHalfSquare(a);
        backwardOfHalfSquare(b);
        double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
        assertThat(norm).isCloseTo(5.0, within(1e-12));
        assertThat(a.grad().item()).isCloseTo(0.6, within(1e-12));
        assertThat(b.grad().item()).isCloseTo(0.8, within(1e-12));
        assertThat(GradClip.clipGlobalNorm(List.of(a, b), 10.0)).isCloseTo(1.0, within(1e-12));
        assertThat(a.grad().item()).isCloseTo(0.6, within(1e-12));
    }

    @Test
    void warmupThenCosineDecay() {
        WarmupThenDecay s = new WarmupThenDecay(1.0, 10, 110, 0.1);
        assertThat(s.at(0)).isCloseTo(0.1, within(1e-12));
        assertThat(s.at(9)).isCloseTo(1.0, within(1e-12));
        assertThat(s.at(10)).isCloseTo(1.0, within(1e-12));
        assertThat(s.at(60)).isCloseTo(0.55, within(1e-12));
        assertThat(s.at(110)).isCloseTo(0.1, within(1e-12));
        assertThat(s.at(1000)).isCloseTo(0.1, within(1e-12));
        assertThatThrownBy(() -> new WarmupThenDecay(1.0, 10, 5, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("warmup=10 total=5");
    }
}
