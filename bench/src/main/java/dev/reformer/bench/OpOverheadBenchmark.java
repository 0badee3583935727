package dev.reformer.bench;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the engine adds to a tiny op: the same 16-element float32 op through raw ND4J, through
 * {@link Tensor} and through {@link Variable} with a graph being recorded. The op itself is the
 * same ND4J call in all three, so the differences are the engine's overhead per op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime) // medians of single calls: a tiny op's average is swamped by rare stalls
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class OpOverheadBenchmark {
    private INDArray a;
    private INDArray b;
    private Tensor ta;
    private Tensor tb;
    private Variable va;
    private Variable vb;

    @Setup
    public void setUp() {
        dev.reformer.tensor.NativeSettings.apply(); // ND4J loads here, before any tensor: the engine's BLAS settings first
        a = Nd4j.rand(DataType.FLOAT, 16);
        b = Nd4j.rand(DataType.FLOAT, 16);
        ta = Tensor.wrap(a);
        tb = Tensor.wrap(b);
        va = Variable.parameter(ta);
        vb = Variable.constant(tb);
    }

    @Benchmark
    public INDArray addNd4j() {
        return a.add(b);
    }

    @Benchmark
    public Tensor addTensor() {
        return ta.add(tb);
    }

    @Benchmark
    public Variable addVariable() {
        return va.add(vb);
    }

    @Benchmark
    public INDArray expNd4j() {
        return Transforms.exp(a, true);
    }

    @Benchmark
    public Tensor expTensor() {
        return ta.exp();
    }

    @Benchmark
    public Variable expVariable() {
        return va.exp();
    }
}
