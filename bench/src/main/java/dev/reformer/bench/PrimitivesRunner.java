package dev.reformer.bench;

import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.autograd.nn.LayerNorm;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The engine's primitives on 16M float32 values, shaped (131072, 128), each timed as the median
 * of 15 calls after its warm-up, every call in a memory scope (its output goes back to the pool,
 * as in a training step). Prints one {@code RESULT {json}} line per op; the same ops in PyTorch
 * are {@code bench/scripts/torch_primitives.py}. {@link SideBySide} runs both.
 *
 * <p>The warm-up is at least 10 calls and at least {@code -Dreformer.bench.primitiveWarmup}
 * seconds (default 2) of calls, as {@link StepRunner} warms up by time: PyTorch needs no JIT, but
 * the JVM recompiles the kernels an op shares with the ops before it, and with 10 calls only the
 * first ops of a run were measured compiled (add_row took 6.6 ms after exp and add, 4.0 ms when
 * run again later in the same JVM; bench/results/kernels-2026-12-02-eve.txt).
 */
public final class PrimitivesRunner {
    private PrimitivesRunner() {
    }

    public static void main(String[] args) {
        Generator gen = new Generator(1);
        Tensor x = gen.normal(DType.FLOAT32, 0, 1, 131072, 128);
        Tensor y = gen.normal(DType.FLOAT32, 0, 1, 131072, 128);
        Tensor row = gen.normal(DType.FLOAT32, 0, 1, 128);
        Tensor eighth = Tensor.scalar(DType.FLOAT32, 0.125);
        LayerNorm norm = new LayerNorm(128, 1e-5, DType.FLOAT32);
        Variable xv = Variable.constant(x);
        Map<String, Supplier<Object>> ops = new LinkedHashMap<>();
        ops.put("exp", x::exp);
        ops.put("add", () -> x.add(y));
        ops.put("add_row", () -> x.add(row));
        ops.put("mul_scalar", () -> x.mul(eighth));
        ops.put("sum_last", () -> x.sum(false, -1));
        ops.put("max_last", () -> x.max(false, -1));
        ops.put("softmax", x::softmax);
        ops.put("logsumexp", x::logsumexp);
        ops.put("softmax_composed", () -> Functional.softmaxComposed(xv, -1));
        ops.put("layernorm", () -> {
            try (GradMode.Scope off = GradMode.disabled()) { // PyTorch's side runs under no_grad too
                return norm.forward(xv);
            }
        });
        long warmupNanos = (long) (Double.parseDouble(System.getProperty("reformer.bench.primitiveWarmup", "2")) * 1e9);
        for (Map.Entry<String, Supplier<Object>> op : ops.entrySet()) {
            long warmupStart = System.nanoTime();
            for (int i = 0; i < 10 || System.nanoTime() - warmupStart < warmupNanos; i++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    op.getValue().get();
                }
            }
            double[] ms = new double[15];
            for (int i = 0; i < ms.length; i++) {
                long start = System.nanoTime();
                try (MemoryScope scope = MemoryScope.open()) {
                    op.getValue().get();
                }
                ms[i] = (System.nanoTime() - start) / 1e6;
            }
            Arrays.sort(ms);
            System.out.println("RESULT " + String.format(Locale.ROOT,
                    "{\"op\":\"%s\",\"side\":\"ours\",\"median_ms\":%.3f,\"min_ms\":%.3f}", op.getKey(), ms[7], ms[0]));
        }
    }
}
