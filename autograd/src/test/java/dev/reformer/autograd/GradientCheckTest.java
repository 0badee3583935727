package dev.reformer.autograd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.DTypeException;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The checker itself: it must catch a wrong gradient and say where. */
class GradientCheckTest {
    /** {@code y = x^2} with the backward off by a factor of two at one element. */
    static final class SquareWithBug extends CustomFunction {
        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(x[0]);
            return x[0].mul(x[0]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx x^2 = 2x, but element 5 gets 4x
            double[] wrongAtFive = new double[12];
            java.util.Arrays.fill(wrongAtFive, 2.0);
            wrongAtFive[5] = 4.0;
            return new Tensor[] {g.mul(saved(0)).mul(Tensor.of(wrongAtFive, 3, 4))};
        }
    }

    /** The same op with the right derivative. */
    static final class Square extends CustomFunction {
        @Override
        protected Tensor forward(Tensor... x) {
            saveForBackward(x[0]);
            return x[0].mul(x[0]);
        }

        @Override
        protected Tensor[] backward(Tensor g) {
            // d/dx x^2 = 2x
            return new Tensor[] {g.mul(saved(0)).mul(2.0)};
        }
    }

    private final Tensor x = new Generator(3).normal(DType.FLOAT64, 0, 1, 3, 4);

    @Test
    void aWrongGradientFailsWithOpInputIndexAndBothValues() {
        assertThatThrownBy(() -> GradientCheck.check("square-with-bug", v -> new SquareWithBug().apply(v[0]), x))
                .isInstanceOf(GradientCheck.GradientCheckFailure.class)
                .hasMessageContaining("'square-with-bug'")
                .hasMessageContaining("input 0(3,4) at index (1,1)")
                .hasMessageContaining("analytic=")
                .hasMessageContaining("numeric=");
    }

    @Test
    void aRightCustomGradientPassesAndIsReportedAsTheOpUsed() {
        GradientCheck.Result r = GradientCheck.check("square", v -> new Square().apply(v[0]), x);
        assertThat(r.elementsChecked()).isEqualTo(12);
        assertThat(r.ops()).containsExactly(Square.class);
        assertThat(r.maxAbsError()).isLessThan(1e-7);
    }

    @Test
    void refusesFloat32Inputs() {
        assertThatThrownBy(() -> GradientCheck.check("exp", v -> v[0].exp(), x.cast(DType.FLOAT32)))
                .isInstanceOf(DTypeException.class)
                .hasMessageContaining("gradient checks run in float64");
    }
}
