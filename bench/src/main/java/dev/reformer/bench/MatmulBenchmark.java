package dev.reformer.bench;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * An n x n float32 matrix product through the engine against the same raw ND4J calls.
 * FLOPs per product: {@code 2 n^3}. {@code gemmNd4j} is the raw call the engine makes (a fresh
 * output, then {@code Nd4j.gemm}); {@code mmulNd4j} is ND4J's own allocating convenience;
 * {@code gemmIntoNd4j} writes into a preallocated output, the machine's ceiling.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MatmulBenchmark {
    @Param({"512", "1024", "2048"})
    public int n;

    private INDArray a;
    private INDArray b;
    private INDArray out;
    private Tensor ta;
    private Tensor tb;

    @Setup
    public void setUp() {
        Generator gen = new Generator(0);
        ta = gen.normal(DType.FLOAT32, 0, 1, n, n);
        tb = gen.normal(DType.FLOAT32, 0, 1, n, n);
        a = ta.nd4j();
        b = tb.nd4j();
        out = Nd4j.createUninitialized(DataType.FLOAT, n, n);
    }

    @Benchmark
    public Tensor matmulTensor() {
        return ta.matmul(tb);
    }

    @Benchmark
    public INDArray gemmNd4j() {
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, n, n);
        Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        return c;
    }

    @Benchmark
    public INDArray mmulNd4j() {
        return a.mmul(b);
    }

    @Benchmark
    public INDArray gemmIntoNd4j() {
        Nd4j.gemm(a, b, out, false, false, 1.0, 0.0);
        return out;
    }
}
