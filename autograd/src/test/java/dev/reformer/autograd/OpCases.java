package dev.reformer.autograd;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.List;

/**
 * One gradient-check case per primitive op (some ops have several, one per shape rule). Inputs
 * are float64 draws that keep away from the points where an op is not differentiable (ties of
 * max/maximum, 0 for relu) and from the edges of its domain (log, sqrt, div).
 */
final class OpCases {
    private OpCases() {
    }

    record Case(String name, GradientCheck.Fn f, double eps, double rtol, Tensor... inputs) {
        Case(String name, GradientCheck.Fn f, Tensor... inputs) {
            this(name, f, GradientCheck.EPS, GradientCheck.RTOL, inputs);
        }

        GradientCheck.Result run() {
            return GradientCheck.check(name, f, eps, rtol, GradientCheck.ATOL, inputs);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> all() {
        Generator g = new Generator(2024);
        return List.of(
                new Case("neg", x -> x[0].neg(), normal(g, 3, 4)),
                new Case("exp", x -> x[0].exp(), normal(g, 3, 4)),
                new Case("log", x -> x[0].log(), positive(g, 3, 4)),
                new Case("sqrt", x -> x[0].sqrt(), positive(g, 3, 4)),
                new Case("tanh", x -> x[0].tanh(), normal(g, 3, 4)),
                new Case("relu", x -> x[0].relu(), awayFromZero(g, 3, 4)),
                new Case("add (broadcast (2,3,4) + (3,1))", x -> x[0].add(x[1]), normal(g, 2, 3, 4), normal(g, 3, 1)),
                new Case("sub (broadcast (3,4) - (4))", x -> x[0].sub(x[1]), normal(g, 3, 4), normal(g, 4)),
                new Case("mul (broadcast (2,1,4) * (3,1))", x -> x[0].mul(x[1]), normal(g, 2, 1, 4), normal(g, 3, 1)),
                new Case("div (broadcast (3,4) / (1,4))", x -> x[0].div(x[1]), normal(g, 3, 4), positive(g, 1, 4)),
                new Case("maximum (broadcast (3,4), (4))", x -> x[0].maximum(x[1]), normal(g, 3, 4), normal(g, 4)),
                new Case("where (broadcast (3,4), (1,4))",
                        x -> Variable.where(normal(new Generator(5), 3, 4).gt(Tensor.scalar(DType.FLOAT64, 0)), x[0], x[1]),
                        normal(g, 3, 4), normal(g, 1, 4)),
                new Case("sum over axis 1", x -> x[0].sum(false, 1), normal(g, 2, 3, 4)),
                new Case("sum over axes 0,2 keepdims", x -> x[0].sum(true, 0, 2), normal(g, 2, 3, 4)),
                new Case("mean over axes 0,2 keepdims", x -> x[0].mean(true, 0, -1), normal(g, 2, 3, 4)),
                new Case("max over last axis", x -> x[0].max(false, -1), normal(g, 2, 3, 4)),
                new Case("matmul (3,4) x (4,5)", x -> x[0].matmul(x[1]), normal(g, 3, 4), normal(g, 4, 5)),
                new Case("matmul batched (2,3,4) x (2,4,5)", x -> x[0].matmul(x[1]), normal(g, 2, 3, 4), normal(g, 2, 4, 5)),
                new Case("matmul (2,3,4) x (4,5)", x -> x[0].matmul(x[1]), normal(g, 2, 3, 4), normal(g, 4, 5)),
                new Case("matmul of transposed views", x -> x[0].transpose().matmul(x[1].transpose()),
                        normal(g, 4, 3), normal(g, 5, 4)),
                new Case("reshape (2,3,4) -> (6,4)", x -> x[0].reshape(6, 4), normal(g, 2, 3, 4)),
                new Case("permute (2,0,1)", x -> x[0].permute(2, 0, 1).mul(x[0].permute(2, 0, 1)), normal(g, 2, 3, 4)),
                new Case("slice axis 1 [1,3)", x -> x[0].slice(1, 1, 3), normal(g, 2, 4, 3)),
                new Case("concat axis 1", x -> Variable.concat(1, x[0], x[1], x[0]), normal(g, 2, 2), normal(g, 2, 3)),
                new Case("expand (3,1) -> (2,3,4)", x -> x[0].expand(2, 3, 4), normal(g, 3, 1)),
                new Case("gather axis 1 with repeats", x -> x[0].gather(1, Tensor.of(new long[] {4, 0, 4, 2, 1, 1, 3, 0}, 2, 4)),
                        normal(g, 2, 5, 3)),
                new Case("scatterAdd axis 1 with repeats",
                        x -> x[0].scatterAdd(1, Tensor.of(new long[] {4, 0, 4, 2, 1, 1, 3, 0}, 2, 4), x[1]),
                        normal(g, 2, 5, 3), normal(g, 2, 4, 3)),
                new Case("gelu, fused (3,5)", x -> new FusedOps.Gelu().apply(x[0]), normal(g, 3, 5)),
                new Case("softmax, fused (3,5)", x -> new FusedOps.Softmax().apply(x[0]).mul(x[1]), normal(g, 3, 5),
                        normal(g, 3, 5)),
                new Case("log-softmax, fused (2,3,4)", x -> new FusedOps.LogSoftmax().apply(x[0]).mul(x[1]),
                        normal(g, 2, 3, 4), normal(g, 2, 3, 4)),
                new Case("logsumexp, fused (3,5)", x -> new FusedOps.LogSumExp().apply(x[0]), normal(g, 3, 5)),
                new Case("layer norm, fused (2,3,5) with gamma and beta",
                        x -> new FusedOps.LayerNormalize(1e-5).apply(x[0], x[1], x[2]).mul(x[3]),
                        normal(g, 2, 3, 5), normal(g, 5), normal(g, 5), normal(g, 2, 3, 5)),
                // Through float32 and back: the function is linear, so a wide step is exact up to
                // float32 rounding (about 1e-7 / 1e-2 relative); a tiny step would drown in it.
                new Case("cast float64 -> float32 -> float64", x -> x[0].cast(DType.FLOAT32).mul(3.0).cast(DType.FLOAT64),
                        1e-2, 1e-4, normal(g, 3, 4)));
    }

    static Tensor normal(Generator g, long... shape) {
        return g.normal(DType.FLOAT64, 0, 1, shape);
    }

    static Tensor positive(Generator g, long... shape) {
        return g.uniform(DType.FLOAT64, 0.5, 2.0, shape);
    }

    /** Normal draws pushed at least 0.1 away from 0, where relu has its kink. */
    static Tensor awayFromZero(Generator g, long... shape) {
        Tensor x = normal(g, shape);
        Tensor sign = Tensor.where(x.lt(Tensor.scalar(DType.FLOAT64, 0)), Tensor.scalar(DType.FLOAT64, -0.1),
                Tensor.scalar(DType.FLOAT64, 0.1));
        return x.add(sign);
    }
}
