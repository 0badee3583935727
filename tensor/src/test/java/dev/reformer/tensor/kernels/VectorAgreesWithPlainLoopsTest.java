package dev.reformer.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every kernel family's float32 vector kernel against its plain loops, on the same inputs in one
 * JVM ({@link Kernels#plainLoops} forces the plain loops). Both run one algorithm, but sum in
 * different orders (eight or sixteen lanes against eight or four running sums), so they agree to
 * within 1e-6 relative to each output's scale, its largest magnitude (at least 1): about 8 float32
 * ulps of that value, since an element that is the small difference of large terms (a sum of
 * normals, a softmax gradient) can differ by more of its own ulps. Float64 takes the reference on
 * both paths: the same bits. Shapes are chosen to leave vector tails, to broadcast along every
 * axis pattern and to span several groups and threads.
 */
class VectorAgreesWithPlainLoopsTest {
    private final Generator gen = new Generator(2026);

    @BeforeEach
    void needsTheVectorModule() {
        Assumptions.assumeTrue(Kernels.vectorAvailable(), "the vector module is not loaded: only the plain loops run");
    }

    /** One op's outputs, as double arrays. */
    private interface Op extends Function<Tensor[], Tensor[]> {
    }

    private void agree(String family, DType dtype, Tensor[] inputs, Op op) {
        Tensor[] vector = op.apply(inputs);
        Tensor[] plain = Kernels.plainLoops(() -> op.apply(inputs));
        assertThat(vector).hasSameSizeAs(plain);
        for (int k = 0; k < vector.length; k++) {
            double[] v = vector[k].toDoubleArray();
            double[] s = plain[k].toDoubleArray();
            assertThat(v).as("%s output %d", family, k).hasSameSizeAs(s);
            if (dtype == DType.FLOAT64) {
                assertThat(v).as("%s float64 output %d: the reference on both paths", family, k).containsExactly(s);
                continue;
            }
            double scale = 1;
            for (double x : s) {
                scale = Double.isFinite(x) ? Math.max(scale, Math.abs(x)) : scale;
            }
            for (int i = 0; i < v.length; i++) {
                if (Double.isNaN(s[i]) || Double.isInfinite(s[i])) {
                    assertThat(v[i]).as("%s output %d element %d", family, k, i).isEqualTo(s[i]);
                    continue;
                }
                double tol = 1e-6 * scale;
                assertThat(Math.abs(v[i] - s[i])).as("%s output %d element %d: vector %s, plain %s", family, k, i, v[i], s[i])
                        .isLessThanOrEqualTo(tol);
            }
        }
    }

    private Tensor normal(DType dtype, double sd, long... shape) {
        return gen.normal(DType.FLOAT64, 0, sd, shape).cast(dtype);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void elementwise(DType dtype) {
        Tensor x = normal(dtype, 3, 5, 1001);                          // 5005 elements: tails, several groups
        Tensor positive = gen.uniform(DType.FLOAT64, 0.01, 9, 5, 1001).cast(dtype);
        agree("neg exp tanh relu", dtype, new Tensor[] {x}, in -> new Tensor[] {in[0].neg(), in[0].exp(), in[0].tanh(), in[0].relu()});
        agree("log sqrt", dtype, new Tensor[] {positive}, in -> new Tensor[] {in[0].log(), in[0].sqrt()});
        long[][][] shapes = {{{70_001}, {70_001}}, {{33, 130}, {130}}, {{33, 130}, {33, 1}}, {{2, 1, 7}, {3, 1}},
            {{}, {6, 5}}, {{4, 3, 2, 5}, {3, 1, 5}}, {{3, 5000}, {1, 5000}}};
        for (long[][] s : shapes) {
            Tensor a = normal(dtype, 1, s[0]);
            Tensor b = gen.uniform(DType.FLOAT64, 0.5, 2, s[1]).cast(dtype);
            agree("binary " + a.shapeString() + " " + b.shapeString(), dtype, new Tensor[] {a, b}, in -> new Tensor[] {
                in[0].add(in[1]), in[0].sub(in[1]), in[1].sub(in[0]), in[0].mul(in[1]), in[0].div(in[1]), in[0].maximum(in[1])});
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void reductions(DType dtype) {
        Tensor x = normal(dtype, 1, 6, 300, 37);
        List<Op> ops = new ArrayList<>();
        for (int[] axes : new int[][] {{2}, {1}, {0}, {0, 1}, {1, 2}, {0, 2}, {}}) {
            ops.add(in -> new Tensor[] {in[0].sum(false, axes), in[0].max(true, axes)});
        }
        for (Op op : ops) {
            agree("sum max", dtype, new Tensor[] {x}, op);
        }
        Tensor longRows = normal(dtype, 1, 2, 100_003);                  // rows longer than a block
        agree("sum max of long rows", dtype, new Tensor[] {longRows}, in -> new Tensor[] {in[0].sum(false, 1), in[0].max(false, 1)});
        Tensor tall = normal(dtype, 1, 1000, 70);                        // columns over several runs of rows
        agree("column sums", dtype, new Tensor[] {tall}, in -> new Tensor[] {in[0].sum(false, 0), in[0].max(false, 0)});
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void softmaxFamily(DType dtype) {
        for (long[] shape : new long[][] {{7, 3, 19}, {40, 128}, {3, 5000}}) {
            Tensor x = normal(dtype, 4, shape);
            Tensor g = normal(dtype, 1, shape);
            long[] kept = shape.clone();
            kept[kept.length - 1] = 1;
            Tensor gRow = normal(dtype, 1, kept);
            agree("softmax " + x.shapeString(), dtype, new Tensor[] {x, g, gRow}, in -> {
                Tensor y = in[0].softmax();
                Tensor ly = in[0].logSoftmax();
                Tensor lse = in[0].logsumexp();
                return new Tensor[] {y, ly, lse, Tensor.softmaxBackward(y, in[1], false), Tensor.softmaxBackward(ly, in[1], true),
                    Tensor.logsumexpBackward(in[0], lse, in[2])};
            });
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void layerNorm(DType dtype) {
        for (long[] shape : new long[][] {{7, 3, 19}, {300, 128}, {2, 3000}}) {
            int n = (int) shape[shape.length - 1];
            Tensor x = normal(dtype, 2, shape);
            Tensor g = normal(dtype, 1, shape);
            Tensor gamma = gen.normal(DType.FLOAT64, 1, 0.3, n).cast(dtype);
            Tensor beta = normal(dtype, 0.3, n);
            agree("layer norm " + x.shapeString(), dtype, new Tensor[] {x, g, gamma, beta}, in -> {
                Tensor.Normalized y = in[0].layerNorm(in[2], in[3], 1e-5);
                Tensor.NormGradients d = Tensor.layerNormBackward(in[0], y.mean(), y.rstd(), in[2], in[1]);
                return new Tensor[] {y.y(), y.mean(), y.rstd(), d.dx(), d.dgamma(), d.dbeta()};
            });
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void gelu(DType dtype) {
        Tensor x = normal(dtype, 3, 9, 777);
        Tensor g = normal(dtype, 1, 9, 777);
        agree("gelu", dtype, new Tensor[] {x, g}, in -> new Tensor[] {in[0].gelu(), Tensor.geluBackward(in[0], in[1])});
    }
}
