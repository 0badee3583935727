package dev.reformer.bench;

import dev.reformer.benchmark.Workloads;
import dev.reformer.tensor.MemoryScope;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole model steps (see {@link Workloads}): the duplication-task training step (forward,
 * backward, Adam) and the ReformerLM step at L = 4096 (forward and backward), with a
 * {@code MEMORY} line per trial as in {@link AttentionBenchmark}.
 *
 * <pre>
 *   OMP_NUM_THREADS=2 \
 *     java -jar bench/target/benchmarks.jar TrainingStepBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmn64m", "-Xmx1g"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
public class TrainingStepBenchmark {
    @Param({"dupstep", "lm"})
    public String workload;

    private Workloads.Step step;

    @Setup(Level.Trial)
    public void setUp() {
        step = Workloads.build(Workloads.Config.parse(workload), 0);
        MemoryScope.resetPeak();
    }

    @Benchmark
    public void step() {
        step.run();
    }

    @TearDown(Level.Trial)
    public void memory() throws IOException {
        System.out.println(AttentionBenchmark.memoryLine(workload));
    }
}
