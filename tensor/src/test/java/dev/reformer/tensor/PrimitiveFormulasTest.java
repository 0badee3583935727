package dev.reformer.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.tensor.kernels.Kernels;
import dev.reformer.tensor.kernels.Parallel;
import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The primitives against plain double-precision loops written here, in float64 (to 1e-12) and
 * float32 (to float rounding), over shapes that exercise vector tails, broadcasting along every
 * axis pattern, multi-block rows and reductions over separated axes. The test command runs this
 * with the vector module (the float32 vector kernels) and without it (the scalar loops).
 */
class PrimitiveFormulasTest {
    private final Generator gen = new Generator(404);

    @Test
    void theKernelPathIsTheOneThisRunAskedFor() {
        boolean expected = !"false".equals(System.getProperty("reformer.test.vector", "true"));
        assertThat(Kernels.vector()).as(expected ? "run the tests with --add-modules jdk.incubator.vector"
                : "this run must not load the vector module").isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void unaryOpsMatchScalarMath(DType dtype) {
        Tensor x = gen.normal(dtype, 0, 2, 3, 37);           // 111 elements: a masked tail
        Tensor p = gen.uniform(dtype, 0.1, 5, 70_001);        // more than two blocks
        checkUnary(x.neg(), x, v -> -v, dtype);
        checkUnary(x.exp(), x, Math::exp, dtype);
        checkUnary(x.tanh(), x, Math::tanh, dtype);
        checkUnary(x.relu(), x, v -> Math.max(v, 0), dtype);
        checkUnary(p.log(), p, Math::log, dtype);
        checkUnary(p.sqrt(), p, Math::sqrt, dtype);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void binaryOpsBroadcastLikeNumpy(DType dtype) {
        long[][][] shapes = {
            {{5, 33}, {5, 33}}, {{5, 33}, {33}}, {{5, 33}, {5, 1}}, {{2, 1, 7}, {3, 1}}, {{1}, {4, 3, 2}},
            {{}, {6, 5}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{70_000}, {70_000}}};
        for (long[][] s : shapes) {
            Tensor a = gen.normal(dtype, 0, 1, s[0]);
            Tensor b = gen.uniform(dtype, 0.5, 2, s[1]);
            checkBinary(a.add(b), a, b, Double::sum, dtype);
            checkBinary(a.sub(b), a, b, (x, y) -> x - y, dtype);
            checkBinary(a.mul(b), a, b, (x, y) -> x * y, dtype);
            checkBinary(a.div(b), a, b, (x, y) -> x / y, dtype);
            checkBinary(b.maximum(a), b, a, Math::max, dtype);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void reductionsOverAnyAxes(DType dtype) {
        Tensor x = gen.normal(dtype, 0, 1, 3, 4, 5, 6);
        int[][] axesList = {{3}, {0}, {1, 2}, {0, 2}, {1, 3}, {0, 1, 2, 3}, {}};
        for (int[] axes : axesList) {
            for (boolean keep : new boolean[] {true, false}) {
                checkReduction(x.sum(keep, axes), x, axes, keep, false, dtype);
                checkReduction(x.max(keep, axes), x, axes, keep, true, dtype);
                Tensor mean = x.mean(keep, axes);
                Tensor expected = x.sum(keep, axes).mul(1.0 * mean.numel() / x.numel());
                assertThat(mean.toDoubleArray()).containsExactly(expected.toDoubleArray(), within(tol(dtype)));
            }
        }
        Tensor longRow = gen.normal(dtype, 0, 1, 2, 100_003);   // rows longer than a block
        checkReduction(longRow.sum(true, 1), longRow, new int[] {1}, true, false, dtype);
        checkReduction(longRow.max(false, 1), longRow, new int[] {1}, false, true, dtype);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void fusedRowsMatchTheirFormulas(DType dtype) {
        Tensor x = gen.normal(dtype, 0, 3, 4, 3, 19);
        double[] xs = x.toDoubleArray();
        double[] softmax = x.softmax().toDoubleArray();
        double[] logSoftmax = x.logSoftmax().toDoubleArray();
        double[] lse = x.logsumexp().toDoubleArray();
        Tensor gamma = gen.normal(dtype, 1, 0.5, 19);
        Tensor beta = gen.normal(dtype, 0, 0.5, 19);
        double[] gs = gamma.toDoubleArray();
        double[] bs = beta.toDoubleArray();
        double[] normalized = x.layerNorm(gamma, beta, 1e-5).y().toDoubleArray();
        int n = 19;
        for (int r = 0; r < 12; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, xs[r * n + i]);
            }
            double sum = 0;
            double mean = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.exp(xs[r * n + i] - max);
                mean += xs[r * n + i] / n;
            }
            double var = 0;
            for (int i = 0; i < n; i++) {
                var += (xs[r * n + i] - mean) * (xs[r * n + i] - mean) / n;
            }
            assertThat(lse[r]).isCloseTo(max + Math.log(sum), within(tol(dtype) * 10));
            for (int i = 0; i < n; i++) {
                double e = Math.exp(xs[r * n + i] - max) / sum;
                assertThat(softmax[r * n + i]).isCloseTo(e, within(tol(dtype)));
                assertThat(logSoftmax[r * n + i]).isCloseTo(Math.log(e), within(tol(dtype) * 10));
                double xhat = (xs[r * n + i] - mean) / Math.sqrt(var + 1e-5);
                assertThat(normalized[r * n + i]).isCloseTo(xhat * gs[i] + bs[i], within(tol(dtype) * 10));
            }
        }
    }

    @Test
    void aRowWhoseOnlyAdmissibleEntryIsItselfGivesExactlyOneInFloat32() {
        float[] row = new float[64];
        Arrays.fill(row, -1e9f);
        row[5] = -1e5f;
        float[] y = Tensor.of(row, 1, 64).softmax().toFloatArray();
        assertThat(y[5]).isEqualTo(1.0f);
    }

    @Test
    void aLongRowSumsToTheSameBitsAloneOrInABatch() {
        // A long row is summed in fixed blocks whose partial sums are added in order, however the
        // rows and blocks are shared out over the threads.
        Tensor x = gen.normal(DType.FLOAT32, 0, 1, 3, 200_000);
        double[] rowSums = x.sum(false, 1).toDoubleArray();
        double[] blockwise = new double[3];
        float[] xs = x.toFloatArray();
        for (int r = 0; r < 3; r++) {
            Tensor row = Tensor.of(Arrays.copyOfRange(xs, r * 200_000, (r + 1) * 200_000), 200_000);
            blockwise[r] = row.sum(false).item();
        }
        assertThat(rowSums).containsExactly(blockwise);
    }

    @Test
    void kernelsGiveTheSameBitsOnOneThreadAsOnAll() {
        Tensor x = gen.normal(DType.FLOAT32, 0, 1, 300, 257);
        Tensor g = gen.normal(DType.FLOAT32, 0, 1, 300, 257);
        Tensor gamma = gen.normal(DType.FLOAT32, 1, 0.1, 257);
        Tensor beta = gen.normal(DType.FLOAT32, 0, 0.1, 257);
        java.util.function.Supplier<double[][]> work = () -> {
            Tensor.Normalized n = x.layerNorm(gamma, beta, 1e-5);
            Tensor.NormGradients d = Tensor.layerNormBackward(x, n.mean(), n.rstd(), gamma, g);
            return new double[][] {x.exp().toDoubleArray(), x.add(g).toDoubleArray(), x.sum(false, 0).toDoubleArray(),
                x.sum(false, 1).toDoubleArray(), x.sum(false).toDoubleArray(), x.softmax().toDoubleArray(),
                n.y().toDoubleArray(), d.dx().toDoubleArray(), d.dgamma().toDoubleArray(), x.gelu().toDoubleArray()};
        };
        double[][] all = work.get();
        double[][] one = Parallel.withThreads(1, work);
        for (int i = 0; i < all.length; i++) {
            assertThat(one[i]).as("result %d", i).containsExactly(all[i]);
        }
    }

    private static double tol(DType dtype) {
        return dtype == DType.FLOAT64 ? 1e-12 : 2e-6;
    }

    private static void checkUnary(Tensor y, Tensor x, DoubleUnaryOperator f, DType dtype) {
        double[] xs = x.toDoubleArray();
        double[] ys = y.toDoubleArray();
        for (int i = 0; i < xs.length; i++) {
            double want = f.applyAsDouble(xs[i]);
            assertThat(ys[i]).as("element %d of f(%s)", i, xs[i]).isCloseTo(want, within(tol(dtype) * Math.max(1, Math.abs(want))));
        }
    }

    private static void checkBinary(Tensor y, Tensor a, Tensor b, DoubleBinaryOperator f, DType dtype) {
        long[] shape = y.shape();
        double[] as = a.expand(shape).toDoubleArray();
        double[] bs = b.expand(shape).toDoubleArray();
        double[] ys = y.toDoubleArray();
        assertThat(ys).hasSize(as.length);
        for (int i = 0; i < ys.length; i++) {
            double want = dtype == DType.FLOAT32 ? (float) f.applyAsDouble((float) as[i], (float) bs[i]) : f.applyAsDouble(as[i], bs[i]);
            assertThat(ys[i]).as("element %d of %s op %s", i, a.shapeString(), b.shapeString())
                    .isCloseTo(want, within(tol(dtype) * Math.max(1, Math.abs(want))));
        }
    }

    private static void checkReduction(Tensor y, Tensor x, int[] axes, boolean keep, boolean max, DType dtype) {
        long[] shape = x.shape();
        int[] normalized = Shapes.axes("test", axes, shape);
        long[] kept = Shapes.reduced(shape, normalized, true);
        double[] xs = x.toDoubleArray();
        double[] want = new double[Math.toIntExact(Shapes.numel(kept))];
        Arrays.fill(want, max ? Double.NEGATIVE_INFINITY : 0);
        long[] strides = Shapes.strides(kept);
        long[] index = new long[shape.length];
        for (int flat = 0; flat < xs.length; flat++) {
            long rest = flat;
            for (int d = shape.length - 1; d >= 0; d--) {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            long at = 0;
            for (int d = 0; d < shape.length; d++) {
                at += (kept[d] == 1 ? 0 : index[d]) * strides[d];
            }
            want[(int) at] = max ? Math.max(want[(int) at], xs[flat]) : want[(int) at] + xs[flat];
        }
        assertThat(y.shape()).containsExactly(Shapes.reduced(shape, normalized, keep));
        double scale = max ? 1 : Math.sqrt(xs.length);
        assertThat(y.toDoubleArray()).containsExactly(want, within(tol(dtype) * 10 * scale));
    }
}
