package dev.reformer.benchmark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.kernels.Parallel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Runs one {@link BenchConfig} in this (fresh) JVM and prints one {@code RESULT {json}} line:
 * warm-up (at least {@code warmupSteps} calls and {@code warmupSeconds}), then {@code runs} timed
 * calls; the median, and the memory: the peak of live tensor (off-heap) bytes and of the Java heap
 * during the timed calls, and the process's peak resident size (VmHWM) since it started.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... dev.reformer.benchmark.BenchChild CONFIG_JSON RUNS WARMUP_SECONDS
 * </pre>
 */
public final class BenchChild {
    private BenchChild() {
    }

    public static void main(String[] args) throws IOException {
        BenchConfig config = BenchConfig.fromJson(args[0]);
        int runs = Integer.parseInt(args[1]);
        double warmupSeconds = Double.parseDouble(args[2]);
        Workloads.Step step = config.step(0);
        long start = System.nanoTime();
        int warmups = 0;
        while (warmups < 2 || (System.nanoTime() - start) / 1e9 < warmupSeconds) {
            step.run();
            warmups++;
        }
        MemoryScope.resetPeak();
        long liveBefore = MemoryScope.stats().liveBytes();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        double[] times = new double[runs];
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            step.run();
            times[r] = (System.nanoTime() - t0) / 1e9;
        }
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        double median = sorted[runs / 2];
        long heapPeak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                heapPeak += pool.getPeakUsage().getUsed();
            }
        }
        ObjectNode r = new ObjectMapper().createObjectNode();
        r.put("variant", config.variant());
        r.put("kind", config.kind());
        r.put("L", config.length());
        r.put("B", config.batch());
        r.put("D", config.dim());
        r.put("n_hashes", config.hashes());
        r.put("causal", config.causal());
        r.put("pass", config.pass());
        r.put("depth", config.depth());
        r.put("chunks", config.chunks());
        r.put("ms", median * 1000);
        r.put("min_ms", sorted[0] * 1000);
        r.put("max_ms", sorted[runs - 1] * 1000);
        r.put("tokens_per_s", (double) config.batch() * config.length() / median);
        double flops = config.flops();
        if (Double.isNaN(flops)) {
            r.putNull("gflops");
        } else {
            r.put("gflops", flops / median / 1e9);
        }
        r.put("peak_mib", vmHwmMib());
        r.put("offheap_peak_mib", MemoryScope.stats().peakLiveBytes() / 1048576.0);
        r.put("offheap_before_mib", liveBefore / 1048576.0);
        r.put("heap_peak_mib", heapPeak / 1048576.0);
        r.put("runs", runs);
        r.put("warmup_calls", warmups);
        r.put("threads", Parallel.threads());
        System.out.println("RESULT " + r);
    }

    /** The process's peak resident memory (VmHWM), in MiB. */
    public static double vmHwmMib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }
}
