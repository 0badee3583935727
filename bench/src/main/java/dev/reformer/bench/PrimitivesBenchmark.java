package dev.reformer.bench;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The engine's primitives on 16M float32 values shaped (131072, 128), each call in a memory scope
 * (its output goes back to the pool, as in a training step). PyTorch's side of the same ops is
 * {@code bench/scripts/torch_primitives.py}; {@link SideBySide} runs both ({@link PrimitivesRunner}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmn64m", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PrimitivesBenchmark {
    @Param({"exp", "add", "add_row", "mul_scalar", "sum_last", "max_last", "softmax", "logsumexp", "layernorm", "gelu"})
    public String op;

    private Tensor x;
    private Tensor y;
    private Tensor row;
    private Tensor gamma;
    private Tensor beta;
    private Tensor eighth;

    @Setup
    public void setUp() {
        Generator gen = new Generator(1);
        x = gen.normal(DType.FLOAT32, 0, 1, 131072, 128);
        y = gen.normal(DType.FLOAT32, 0, 1, 131072, 128);
        row = gen.normal(DType.FLOAT32, 0, 1, 128);
        gamma = Tensor.ones(DType.FLOAT32, 128);
        beta = Tensor.zeros(DType.FLOAT32, 128);
        eighth = Tensor.scalar(DType.FLOAT32, 0.125);
    }

    @Benchmark
    public double run() {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor out = switch (op) {
                case "exp" -> x.exp();
                case "add" -> x.add(y);
                case "add_row" -> x.add(row);
                case "mul_scalar" -> x.mul(eighth);
                case "sum_last" -> x.sum(false, -1);
                case "max_last" -> x.max(false, -1);
                case "softmax" -> x.softmax();
                case "logsumexp" -> x.logsumexp();
                case "layernorm" -> x.layerNorm(gamma, beta, 1e-5).y();
                case "gelu" -> x.gelu();
                default -> throw new IllegalArgumentException("unknown op " + op);
            };
            return out.numel();
        }
    }
}
