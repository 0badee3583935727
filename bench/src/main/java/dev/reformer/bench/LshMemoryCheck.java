package dev.reformer.bench;

import dev.reformer.attention.LshAttention;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak memory of the whole process for one LSH attention forward and backward, read from the
 * kernel's high-water mark of resident memory (VmHWM in /proc/self/status).
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.reformer.bench.LshMemoryCheck [L] [D] [K] [C] [runs]
 * </pre>
 * Defaults: B=1, H=1, L=16384, D=64, K=4, C=64, NB = 2L/C, float32, one run. The times are for
 * orientation only (the first run includes the JIT's warm-up); speed claims come from JMH.
 */
public final class LshMemoryCheck {
    private LshMemoryCheck() {
    }

    public static void main(String[] args) throws IOException {
        int length = args.length > 0 ? Integer.parseInt(args[0]) : 16384;
        int dim = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int hashes = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int chunk = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        int buckets = 2 * length / chunk;
        System.out.printf("before: %s%n", residentMemory());
        Generator gen = new Generator(0);
        Variable qk = Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, 1, 1, length, dim));
        Variable v = Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, 1, 1, length, dim));
        LshAttention lsh = LshAttention.builder().hashes(hashes).buckets(buckets).chunkLength(chunk).causal(true).build();
        int runs = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        for (int run = 0; run < runs; run++) {
            qk.zeroGrad();
            v.zeroGrad();
            long start = System.nanoTime();
            Variable out = lsh.attend(qk, qk, v, null, gen.split());
            long forward = System.nanoTime();
            out.sum().backward();
            long backward = System.nanoTime();
            System.out.printf("run %d: LSH attention B=1 H=1 L=%d D=%d K=%d NB=%d C=%d float32: forward %.0f ms,"
                    + " backward %.0f ms%n", run, length, dim, hashes, buckets, chunk, (forward - start) / 1e6,
                    (backward - forward) / 1e6);
        }
        System.out.printf("grad norms: qk %.4g, v %.4g%n", Math.sqrt(qk.grad().mul(qk.grad()).sum(false).item()),
                Math.sqrt(v.grad().mul(v.grad()).sum(false).item()));
        System.out.printf("after: %s%n", residentMemory());
    }

    private static String residentMemory() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM") || line.startsWith("VmRSS")) {
                sb.append(line.replaceAll("\\s+", " ")).append("  ");
            }
        }
        return sb.toString().trim();
    }
}
