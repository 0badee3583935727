package dev.reformer.bench;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A 2-layer MLP, forward and backward: {@code y = relu(x W1 + b1) W2 + b2}, loss {@code 0.5 sum(y^2)},
 * with x (64, 512), W1 (512, 1024), W2 (1024, 512) in float32. The engine's autograd against the
 * same forward and hand-derived backward written directly in ND4J calls, freeing its temporaries.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MlpBenchmark {
    static final int BATCH = 64;
    static final int IN = 512;
    static final int HIDDEN = 1024;

    private Tensor x;
    private Variable w1;
    private Variable b1;
    private Variable w2;
    private Variable b2;

    @Setup
    public void setUp() {
        Generator gen = new Generator(0);
        x = gen.normal(DType.FLOAT32, 0, 1, BATCH, IN);
        w1 = Variable.parameter(gen.normal(DType.FLOAT32, 0, 0.03, IN, HIDDEN));
        b1 = Variable.parameter(Tensor.zeros(DType.FLOAT32, HIDDEN));
        w2 = Variable.parameter(gen.normal(DType.FLOAT32, 0, 0.03, HIDDEN, IN));
        b2 = Variable.parameter(Tensor.zeros(DType.FLOAT32, IN));
    }

    @Benchmark
    public void engine(Blackhole bh) {
        Variable y = Variable.constant(x).matmul(w1).add(b1).relu().matmul(w2).add(b2);
        Variable loss = y.mul(y).sum().mul(0.5);
        loss.backward();
        bh.consume(loss.data());
        for (Variable p : new Variable[] {w1, b1, w2, b2}) {
            bh.consume(p.grad());
            p.zeroGrad();
        }
    }

    /**
     * The same step as a careful ND4J user writes it: in-place ops where the math allows, and
     * every temporary closed at the end, so no off-heap garbage is left for the collector.
     */
    @Benchmark
    public void nd4j(Blackhole bh) {
        INDArray xa = x.nd4j();
        INDArray w2a = w2.data().nd4j();
        INDArray a = xa.mmul(w1.data().nd4j()).addiRowVector(b1.data().nd4j());
        Transforms.relu(a, false);                              // in place: a = relu(x W1 + b1)
        INDArray y = a.mmul(w2a).addiRowVector(b2.data().nd4j());
        INDArray loss = y.mul(y).sum().muli(0.5);
        INDArray dy = y;                                        // d/dy 0.5 y^2 = y
        INDArray dw2 = a.transpose().mmul(dy);
        INDArray db2 = dy.sum(0);
        INDArray da = dy.mmul(w2a.transpose());
        INDArray reluMask = a.gt(0).castTo(da.dataType());
        da.muli(reluMask);                                      // relu'(h) = [h > 0] = [a > 0]
        INDArray dw1 = xa.transpose().mmul(da);
        INDArray db1 = da.sum(0);
        bh.consume(loss.getDouble(0));
        bh.consume(dw1.getDouble(0));
        bh.consume(db1.getDouble(0));
        bh.consume(dw2.getDouble(0));
        bh.consume(db2.getDouble(0));
        for (INDArray t : new INDArray[] {a, y, loss, dw2, db2, da, reluMask, dw1, db1}) {
            t.close();
        }
    }
}
