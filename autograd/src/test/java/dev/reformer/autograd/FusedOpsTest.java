package dev.reformer.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.autograd.nn.Functional;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The fused ops against their compositions of primitives: outputs and input gradients for a
 * random upstream gradient. Float64 runs both in double (to 1e-12); float32 runs the fused op's
 * float kernels against the composition evaluated in float64 on the same values (to 2e-6 + 2e-6 |ref|).
 * Rows of 37 and 200 elements exercise the vector tails and groups of rows.
 */
class FusedOpsTest {
    private interface Op extends Function<Variable[], Variable> {
    }

    private static void compare(String name, Op fused, Op composed, long... shape) {
        Generator gen = new Generator(17);
        Tensor[] values = {gen.normal(DType.FLOAT64, 0, 2, shape), gen.normal(DType.FLOAT64, 1, 0.5, shape[shape.length - 1]),
            gen.normal(DType.FLOAT64, 0, 0.5, shape[shape.length - 1])};
        Tensor upstream = gen.normal(DType.FLOAT64, 0, 1, shape);
        double[][] reference = run(composed, values, upstream, DType.FLOAT64, DType.FLOAT64);
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double[][] actual = run(fused, values, upstream, dtype, dtype);
            double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-6;
            double[][] expected = dtype == DType.FLOAT64 ? reference
                    : run(composed, castAll(values, DType.FLOAT32), upstream.cast(DType.FLOAT32), DType.FLOAT64, DType.FLOAT64);
            for (int k = 0; k < actual.length; k++) {
                for (int i = 0; i < actual[k].length; i++) {
                    assertThat(Math.abs(actual[k][i] - expected[k][i])).as("%s %s: %s %d", name, dtype.label(),
                            k == 0 ? "output" : "gradient of input " + (k - 1), i)
                            .isLessThanOrEqualTo(tol + tol * Math.abs(expected[k][i]));
                }
            }
        }
    }

    private static Tensor[] castAll(Tensor[] values, DType dtype) {
        Tensor[] out = new Tensor[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i].cast(dtype);
        }
        return out;
    }

    /** Output and input gradients of {@code op} on the values cast to {@code dtype}, read back in double. */
    private static double[][] run(Op op, Tensor[] values, Tensor upstream, DType dtype, DType readAs) {
        Variable[] x = new Variable[values.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = Variable.parameter(values[i].cast(dtype));
        }
        Variable y = op.apply(x);
        // logsumexp keeps one value per row: its upstream gradient is the first column of the full one
        Tensor seed = java.util.Arrays.equals(y.shape(), upstream.shape()) ? upstream
                : upstream.slice(upstream.rank() - 1, 0, 1);
        y.backward(seed.cast(dtype));
        double[][] out = new double[1 + x.length][];
        out[0] = y.data().cast(readAs).toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            out[1 + i] = x[i].grad() == null ? new double[0] : x[i].grad().cast(readAs).toDoubleArray();
        }
        return out;
    }

    @Test
    void softmaxLogSoftmaxLogsumexp() {
        for (long[] shape : new long[][] {{3, 4, 37}, {40, 200}}) {
            compare("softmax", x -> new FusedOps.Softmax().apply(x[0]), x -> Functional.softmaxComposed(x[0], -1), shape);
            compare("log-softmax", x -> new FusedOps.LogSoftmax().apply(x[0]), x -> Functional.logSoftmaxComposed(x[0], -1),
                    shape);
            compare("logsumexp", x -> new FusedOps.LogSumExp().apply(x[0]), x -> Functional.logsumexpComposed(x[0], -1, true),
                    shape);
        }
    }

    @Test
    void gelu() {
        for (long[] shape : new long[][] {{3, 37}, {70_001}}) {
            compare("gelu", x -> new FusedOps.Gelu().apply(x[0]), x -> Functional.geluComposed(x[0]), shape);
        }
    }

    @Test
    void layerNorm() {
        for (long[] shape : new long[][] {{3, 4, 37}, {130, 200}}) {
            compare("layer norm", x -> new FusedOps.LayerNormalize(1e-5).apply(x[0], x[1], x[2]),
                    x -> Functional.layerNormComposed(x[0], x[1], x[2], 1e-5), shape);
        }
    }
}
