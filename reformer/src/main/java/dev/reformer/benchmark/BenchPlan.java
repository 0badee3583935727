package dev.reformer.benchmark;

import java.util.ArrayList;
import java.util.List;

/**
 * The configurations of a {@code bench} run, each opening with the machine's sgemm rate (the
 * yardstick of the attention rows' GFLOP/s). Quick (a few minutes): Figure 5's pattern (full
 * attention and LSH K = 4 at L = 1K, 4K and 16K, and local attention at 4K, forward and backward),
 * LSH K = 1, 2, 8 at 4K, one 64K-token sequence through LSH K = 4, reversible and ordinary stacks
 * at depths 1, 4 and 12, and the feed-forward in 1, 4 and 16 chunks. Full: every attention variant
 * (full, local, LSH K = 1, 2, 4, 8) at L = 1K..16K (and 32K, 64K for LSH and local), causal and
 * not, forward and forward+backward; the ReformerLM step; stacks at depths 1, 2, 4, 8, 12;
 * feed-forward chunks 1, 2, 4, 8, 16.
 */
public final class BenchPlan {
    public static final List<String> VARIANTS = List.of("full", "local", "lsh1", "lsh2", "lsh4", "lsh8");

    private BenchPlan() {
    }

    public static List<BenchConfig> quick() {
        List<BenchConfig> plan = new ArrayList<>();
        plan.add(BenchConfig.sgemm());
        for (int length : new int[] {1024, 4096, 16384}) {
            plan.add(BenchConfig.attention("full", length, false, "fwd+bwd"));
            plan.add(BenchConfig.attention("lsh4", length, false, "fwd+bwd"));
        }
        plan.add(BenchConfig.attention("local", 4096, false, "fwd+bwd"));
        for (String v : List.of("lsh1", "lsh2", "lsh8")) {
            plan.add(BenchConfig.attention(v, 4096, false, "fwd+bwd"));
        }
        plan.add(BenchConfig.attention("lsh4", 65536, false, "fwd+bwd"));
        for (int depth : new int[] {1, 4, 12}) {
            plan.add(new BenchConfig("stack", "reversible", 4096, 2, true, "fwd+bwd", depth, 1));
            plan.add(new BenchConfig("stack", "ordinary", 4096, 2, true, "fwd+bwd", depth, 1));
        }
        for (int chunks : new int[] {1, 4, 16}) {
            plan.add(new BenchConfig("ffchunks", "ff", 8192, 0, true, "fwd+bwd", 1, chunks));
        }
        return plan;
    }

    public static List<BenchConfig> full() {
        List<BenchConfig> plan = new ArrayList<>();
        plan.add(BenchConfig.sgemm());
        for (String pass : List.of("fwd+bwd", "fwd")) {
            for (boolean causal : new boolean[] {false, true}) {
                for (String v : VARIANTS) {
                    for (int length : new int[] {1024, 2048, 4096, 8192, 16384, 32768, 65536}) {
                        if (length > Workloads.TOKENS && v.equals("full")) {
                            continue;
                        }
                        plan.add(BenchConfig.attention(v, length, causal, pass));
                    }
                }
            }
        }
        plan.add(new BenchConfig("lm", "lm", 4096, 4, true, "fwd+bwd", 6, 4));
        for (int depth : new int[] {1, 2, 4, 8, 12}) {
            plan.add(new BenchConfig("stack", "reversible", 4096, 2, true, "fwd+bwd", depth, 1));
            plan.add(new BenchConfig("stack", "ordinary", 4096, 2, true, "fwd+bwd", depth, 1));
        }
        for (int chunks : new int[] {1, 2, 4, 8, 16}) {
            plan.add(new BenchConfig("ffchunks", "ff", 8192, 0, true, "fwd+bwd", 1, chunks));
        }
        return plan;
    }
}
