package dev.reformer.bench;

import dev.reformer.benchmark.Workloads;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.kernels.Parallel;
import dev.reformer.tensor.kernels.Kernels;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;

/**
 * Runs one workload ({@link Workloads}) in this JVM and prints one {@code RESULT {json}} line
 * in the peer baseline's format: the median, minimum and maximum of {@link #RUNS} timed steps
 * after a warm-up of at least {@link #WARMUP_STEPS} steps and {@link #WARMUP_SECONDS} seconds
 * (the JIT compiles the kernels during the first steps), and the process's peak resident memory
 * before and after (VmHWM), plus the peak of live tensor memory during the timed steps.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.reformer.bench.StepRunner lsh:4096:4
 * </pre>
 * Measure one configuration per fresh process, with nothing else running: {@link SideBySide} does.
 */
public final class StepRunner {
    static final int RUNS = 5;
    static final int WARMUP_STEPS = 3;
    /** Seconds of warm-up: 8, or the system property {@code reformer.bench.warmup}. */
    static final double WARMUP_SECONDS = Double.parseDouble(System.getProperty("reformer.bench.warmup", "8"));

    private StepRunner() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: StepRunner KIND[:L[:K]][:causal]   e.g. lsh:4096:4, full:1024:causal, dupstep, lm");
            System.exit(2);
        }
        Workloads.Config config = Workloads.Config.parse(args[0]);
        double pre = vmHwmMib();
        Workloads.Step step = Workloads.build(config, 0);
        long warmStart = System.nanoTime();
        int warmups = 0;
        while (warmups < WARMUP_STEPS || (System.nanoTime() - warmStart) / 1e9 < WARMUP_SECONDS) {
            step.run();
            warmups++;
        }
        MemoryScope.resetPeak();
        double[] times = new double[RUNS];
        for (int r = 0; r < RUNS; r++) {
            long start = System.nanoTime();
            step.run();
            times[r] = (System.nanoTime() - start) / 1e9;
        }
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        double peak = vmHwmMib();
        System.out.println("RESULT " + String.format(Locale.ROOT,
                "{\"config\":\"%s\",\"side\":\"ours\",\"median_s\":%.6f,\"min_s\":%.6f,\"max_s\":%.6f,\"times_s\":%s,"
                        + "\"warmup_steps\":%d,\"pre_hwm_mib\":%.1f,\"peak_hwm_mib\":%.1f,\"delta_mib\":%.1f,"
                        + "\"peak_live_tensor_mib\":%.1f,\"threads\":%d,\"simd\":%s,\"java\":\"%s\",\"openblas_coretype\":\"%s\"}",
                config, sorted[RUNS / 2], sorted[0], sorted[RUNS - 1], Arrays.toString(times), warmups, pre, peak,
                peak - pre, MemoryScope.stats().peakLiveBytes() / 1048576.0, Parallel.threads(), Kernels.vector(),
                System.getProperty("java.version"), openBlasCoreType()));
    }

    /** The OpenBLAS kernels asked for, by the environment or by the engine; "auto" where neither chose. */
    static String openBlasCoreType() {
        String kernels = dev.reformer.tensor.NativeSettings.openBlasCoreType();
        return kernels != null ? kernels : "auto";
    }

    /** The process's peak resident memory so far (VmHWM), in MiB. */
    static double vmHwmMib() throws IOException {
        return dev.reformer.benchmark.BenchChild.vmHwmMib();
    }
}
