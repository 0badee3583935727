package dev.reformer.bench;

import dev.reformer.benchmark.Workloads;
import dev.reformer.tensor.MemoryScope;
import java.io.IOException;
import java.util.Locale;
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
 * Forward and backward of one attention head over 16,384 tokens in all (see {@link Workloads}):
 * LSH with K = 1, 2, 4, 8 rounds, local and full attention, L = 1K .. 16K, causal and not. After
 * each trial one {@code MEMORY} line gives the peak of live tensor memory and the process's peak
 * resident size (VmHWM), beside JMH's times.
 *
 * <pre>
 *   OMP_NUM_THREADS=2 \
 *     java -jar bench/target/benchmarks.jar AttentionBenchmark -p variant=lsh4 -p length=4096
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmn64m", "-Xmx1g"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class AttentionBenchmark {
    @Param({"lsh1", "lsh2", "lsh4", "lsh8", "local", "full"})
    public String variant;

    @Param({"1024", "2048", "4096", "8192", "16384"})
    public int length;

    @Param({"false", "true"})
    public boolean causal;

    private Workloads.Step step;

    @Setup(Level.Trial)
    public void setUp() {
        String kind = variant.startsWith("lsh") ? "lsh" : variant;
        int hashes = variant.startsWith("lsh") ? Integer.parseInt(variant.substring(3)) : 1;
        step = Workloads.build(new Workloads.Config(kind, length, hashes, causal), 0);
        MemoryScope.resetPeak();
    }

    @Benchmark
    public void forwardBackward() {
        step.run();
    }

    @TearDown(Level.Trial)
    public void memory() throws IOException {
        System.out.println(memoryLine(variant + " L=" + length + (causal ? " causal" : "")));
    }

    /** The trial's peak of live tensor memory and the process's peak resident size, in MiB. */
    static String memoryLine(String what) throws IOException {
        return String.format(Locale.ROOT, "MEMORY {\"workload\":\"%s\",\"peak_live_tensor_mib\":%.1f,\"peak_hwm_mib\":%.1f}",
                what, MemoryScope.stats().peakLiveBytes() / 1048576.0, StepRunner.vmHwmMib());
    }
}
