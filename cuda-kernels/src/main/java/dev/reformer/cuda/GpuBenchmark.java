package dev.reformer.cuda;

import dev.reformer.attention.ChunkedAttentionProblem;
import dev.reformer.attention.ChunkedAttentionSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels' benchmark that {@code gpu-check.sh} runs on a GPU machine, printing one table:
 * bucket sort in GB/s (each version, 12 bytes per item: the bucket read, the sorted and undo
 * indices written), the chunked attention's forward and backward in ms and TFLOP/s (each version),
 * the hash, and LSH-4 forward+backward (hash, sort, forward, round combination, backward; one
 * head, D = 64, chunk 64, NB = L/64; the attention runs on an order sorted once on the CPU from
 * random buckets, which costs what the freshly sorted order would) at 4K, 16K and 64K tokens beside
 * PyTorch's scaled_dot_product_attention timed in the same run by {@code torch_sdpa.py}, in
 * float32, and at 64K also in bfloat16. Times are medians of 20 calls after 3 warm-up calls
 * (of 3 calls, and marked so, where the last warm-up call took over 100 ms), measured with CUDA
 * events.
 *
 * <pre>
 *   java -cp ... dev.reformer.cuda.GpuBenchmark [PYTHON_SCRIPT]
 *   java -cp ... dev.reformer.cuda.GpuBenchmark --smoke
 * </pre>
 *
 * <p>{@code --smoke} runs every row once, at small sizes and without PyTorch: a check that the
 * benchmark itself works (gpu-check.sh --emulated runs it on the CPU emulator), not a measurement.
 */
public final class GpuBenchmark {
    /** How many calls a median is taken over, after how many warm-up calls. */
    private record Timing(int warmup, int runs) {
    }
    private static final int CHUNK = 64;
    /** A call slower than this is timed 3 times, not 20, so that slow rows (v1's backward at 64K) fit the time limit. */
    private static final double SLOW_MS = 100;
    /** The sort the LSH-4 rows use. */
    private static final CudaBucketSort.Version SORT = CudaBucketSort.Version.V3;
    private static final int DIM = 64;

    private GpuBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Cuda.Availability a = Cuda.availability();
        if (!a.usable()) {
            System.out.println("gpu-check: no GPU found (" + a.reason() + "); nothing to benchmark");
            System.exit(3);
        }
        boolean smoke = args.length > 0 && args[0].equals("--smoke");
        Timing timing = smoke ? new Timing(0, 1) : new Timing(3, 20);
        Map<String, Double> torch = args.length > 0 && !smoke ? torch(args[0]) : Map.of();
        List<String[]> rows = new ArrayList<>();
        Random random = new Random(1);
        int[][] sortShapes = smoke ? new int[][] {{1, 4, 1024, 16}, {4, 4, 256, 4}} : new int[][] {{1, 4, 65536, 1024},
            {64, 4, 16384, 256}};
        for (int[] shape : sortShapes) {
            int n = shape[0];
            int k = shape[1];
            int l = shape[2];
            int nb = shape[3];
            int[] buckets = randomBuckets(random, n * k * l, nb);
            for (CudaBucketSort.Version v : CudaBucketSort.Version.values()) {
                if (CudaBucketSort.unsupported(v, k, nb) != null) {
                    continue;
                }
                try (DeviceBuffer b = DeviceBuffer.of(buckets); DeviceBuffer sorted = DeviceBuffer.allocate(4L * n * k * l);
                        DeviceBuffer undo = DeviceBuffer.allocate(4L * n * k * l);
                        DeviceBuffer scratch = DeviceBuffer.allocate(CudaBucketSort.scratchBytes(v, n, k, l, nb))) {
                    Measured m = median(timing, () -> CudaBucketSort.run(v, b, sorted, undo, scratch, n, k, l, nb));
                    double gbs = 12.0 * n * k * l / (m.ms() * 1e6);
                    rows.add(new String[] {"bucket sort " + v.name().toLowerCase(Locale.ROOT),
                        String.format(Locale.ROOT, "N=%d K=%d L=%d NB=%d", n, k, l, nb), m.text(timing), String.format(Locale.ROOT,
                            "%.0f GB/s", gbs), ""});
                }
            }
        }
        for (int l : smoke ? new int[] {512, 1024} : new int[] {4096, 16384, 65536}) {
            int k = 4;
            int nb = l / CHUNK;
            int[] buckets = randomBuckets(random, k * l, nb);
            ChunkedAttentionSpec spec = new ChunkedAttentionSpec(k, CHUNK, 1, 0, true, true, 1 / Math.sqrt(DIM), -5e4, false);
            int[] order = BucketSortReference.sort(buckets, 1, k, l, nb).sorted();
            ChunkedAttentionProblem pb = new ChunkedAttentionProblem(spec, 1, l, DIM, order, null);
            float[] q = normal(random, l * DIM);
            float[] v = normal(random, l * DIM);
            double forwardFlops = 4.0 * k * l * 2 * CHUNK * DIM; // logits and weighted values over a window of 2C keys
            String size = String.format(Locale.ROOT, "L=%d K=4 D=64", l);
            for (CudaChunkedAttention.Version version : CudaChunkedAttention.Version.values()) {
                try (CudaChunkedAttention.Session s = new CudaChunkedAttention.Session(version, pb, q, null, v);
                        DeviceBuffer g = DeviceBuffer.of(normal(random, l * DIM))) {
                    Measured fwd = median(timing, s::forward);
                    Measured bwd = median(timing, () -> s.backward(g));
                    String name = version.name().toLowerCase(Locale.ROOT);
                    rows.add(new String[] {"chunked forward " + name, size, fwd.text(timing),
                        String.format(Locale.ROOT, "%.2f TFLOP/s", forwardFlops / (fwd.ms() * 1e9)), ""});
                    rows.add(new String[] {"chunked backward " + name, size, bwd.text(timing),
                        String.format(Locale.ROOT, "%.2f TFLOP/s", 2 * forwardFlops / (bwd.ms() * 1e9)), ""});
                }
            }
            CudaChunkedAttention.Version version = CudaAttentionDevice.VERSION;
            int half = nb / 2;
            try (CudaChunkedAttention.Session s = new CudaChunkedAttention.Session(version, pb, q, null, v);
                    DeviceBuffer g = DeviceBuffer.of(normal(random, l * DIM)); DeviceBuffer bk = DeviceBuffer.of(buckets);
                    DeviceBuffer rotations = DeviceBuffer.of(normal(random, DIM * k * half));
                    DeviceBuffer sorted = DeviceBuffer.allocate(4L * k * l); DeviceBuffer undo = DeviceBuffer.allocate(4L * k * l);
                    DeviceBuffer scratch = DeviceBuffer.allocate(CudaBucketSort.scratchBytes(SORT, 1, k, l, nb))) {
                Measured hash = median(timing, () -> CudaLshHash.run(s.q, rotations, bk, 1, l, DIM, k, half));
                rows.add(new String[] {"LSH hash v1", String.format(Locale.ROOT, "L=%d K=4 NB=%d D=64", l, nb), hash.text(timing),
                    String.format(Locale.ROOT, "%.2f TFLOP/s", 2.0 * l * k * half * DIM / (hash.ms() * 1e9)), ""});
                Measured measured = median(timing, () -> {
                    CudaLshHash.run(s.q, rotations, bk, 1, l, DIM, k, half);
                    CudaBucketSort.run(SORT, bk, sorted, undo, scratch, 1, k, l, nb);
                    s.forward();
                    s.backward(g);
                });
                double total = measured.ms();
                Double sdpa = torch.get("float32/" + l);
                rows.add(new String[] {"LSH-4 fwd+bwd (hash+sort+attention " + version.name().toLowerCase(Locale.ROOT) + ")",
                    String.format(Locale.ROOT, "%d tokens, fp32", l), measured.text(timing), "", sdpa == null ? "PyTorch SDPA: not measured"
                        : String.format(Locale.ROOT, "PyTorch SDPA fp32 %s ms: %.2fx faster", fmt(sdpa), sdpa / total)});
                Double bf16 = torch.get("bfloat16/" + l);
                if (bf16 != null) {
                    rows.add(new String[] {"  beside bf16", String.format(Locale.ROOT, "%d tokens", l), measured.text(timing), "",
                        String.format(Locale.ROOT, "PyTorch SDPA bf16 %s ms: %.2fx faster", fmt(bf16), bf16 / total)});
                }
            }
        }
        System.out.println();
        System.out.println("gpu-check on " + a.device() + (smoke ? " (--smoke: small sizes, one call each; not a measurement)"
                : " (median of " + timing.runs() + " calls after " + timing.warmup() + ", CUDA events)"));
        print(rows);
    }

    /** A median's milliseconds and how many calls it was taken over. */
    private record Measured(double ms, int runs) {
        /** The milliseconds, and the number of calls where it is fewer than the table's header says. */
        String text(Timing timing) {
            return fmt(ms) + (runs < timing.runs() ? " (" + runs + " calls)" : "");
        }
    }

    /**
     * Median milliseconds of {@code work} over {@code timing.runs()} calls after {@code timing.warmup()};
     * over 3 calls when the last warm-up call (past any first-use costs) took more than {@link #SLOW_MS}.
     */
    private static Measured median(Timing timing, Runnable work) {
        float last = 0;
        for (int i = 0; i < timing.warmup(); i++) {
            last = Cuda.time(work);
        }
        int runs = last > SLOW_MS ? Math.min(timing.runs(), 3) : timing.runs();
        Cuda.synchronize();
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            ms[i] = Cuda.time(work);
        }
        Arrays.sort(ms);
        return new Measured(ms[runs / 2], runs);
    }

    /** PyTorch's times, from the script's lines {@code SDPA dtype L ms}: key dtype/L. */
    private static Map<String, Double> torch(String script) throws IOException, InterruptedException {
        Map<String, Double> out = new LinkedHashMap<>();
        Process p = new ProcessBuilder("python3", script).redirectErrorStream(true).start();
        Pattern line = Pattern.compile("SDPA (\\w+) (\\d+) ([0-9.]+)");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String s; (s = r.readLine()) != null;) {
                Matcher m = line.matcher(s);
                if (m.matches()) {
                    out.put(m.group(1) + "/" + m.group(2), Double.parseDouble(m.group(3)));
                } else {
                    System.out.println("torch_sdpa: " + s);
                }
            }
        }
        p.waitFor();
        return out;
    }

    private static void print(List<String[]> rows) {
        String[] header = {"kernel", "size", "ms", "throughput", "beside PyTorch"};
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : java.util.stream.Stream.concat(java.util.stream.Stream.<String[]>of(header), rows.stream()).toList()) {
            sb.append("|");
            for (int i = 0; i < r.length; i++) {
                sb.append(' ').append(String.format("%-" + width[i] + "s", r[i])).append(" |");
            }
            sb.append('\n');
            if (r == header) {
                sb.append("|");
                for (int w : width) {
                    sb.append("-".repeat(w + 2)).append("|");
                }
                sb.append('\n');
            }
        }
        System.out.print(sb);
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.3f", ms);
    }

    /** {@code n} buckets drawn uniformly from 0..nb-1 (also the GPU tests' inputs). */
    static int[] randomBuckets(Random r, int n, int nb) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = r.nextInt(nb);
        }
        return b;
    }

    /** {@code n} standard normal floats. */
    static float[] normal(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
