package dev.reformer.reproduce;

import dev.reformer.benchmark.BenchConfig;
import dev.reformer.benchmark.Workloads;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.TrainException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code bin/reformer reproduce} runs, scaled to a CPU: the settings of each of the paper's
 * experiments, quick (at most 15 minutes on 2 cores) or default (hours).
 *
 * <ul>
 *   <li>Table 2: the duplication task trained with full attention and LSH K = 1, 2, 4 (each until
 *       99% evaluation accuracy or the step limit), each evaluated with full attention and LSH
 *       K = 8, 4, 2, 1;</li>
 *   <li>Figure 3: byte-level language models on the embedded sonnets, full attention: shared QK and
 *       reversible layers (the baseline), separate Q and K, ordinary residual layers;</li>
 *   <li>Figure 5: the bench workload (16,384 tokens per call, one head, D = 64), forward and
 *       backward, full and LSH K = 1, 2, 4, 8 at several lengths;</li>
 *   <li>Table 3: the five model variants' peak memory at one length and depth.</li>
 * </ul>
 *
 * @param quick                 the quick plan
 * @param duplication           Table 2's training config (attention and rounds set per variant)
 * @param trainVariants         the attentions Table 2 trains with: full, lsh4, lsh2, lsh1
 * @param evalVariants          the attentions each is evaluated with, in the paper's column order
 * @param table2EvalBatches     evaluation batches per cell of the matrix
 * @param expectedStepsTo99     steps a duplication run took to reach 99% on the project's machine (for the time estimate)
 * @param charlm                Figure 3's baseline config
 * @param fig5Lengths           Figure 5's sequence lengths
 * @param fig5Variants          Figure 5's attentions
 * @param benchRuns             timed calls per benchmark configuration
 * @param benchWarmupSeconds    warm-up per benchmark configuration
 * @param memoryLength          Table 3's sequence length
 * @param memoryDepth           Table 3's number of layers (0: no Table 3 measurements)
 */
public record ReproductionPlan(boolean quick, TrainConfig duplication, List<String> trainVariants, List<String> evalVariants,
        int table2EvalBatches, long expectedStepsTo99, TrainConfig charlm, List<Integer> fig5Lengths,
        List<String> fig5Variants, int benchRuns, double benchWarmupSeconds, int memoryLength, int memoryDepth) {

    /** One training run of the plan: its directory name under {@code runs/}, what it is, its config. */
    public record Run(String name, String label, TrainConfig config) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final List<String> TRAIN_VARIANTS = List.of("full", "lsh4", "lsh2", "lsh1");
    public static final List<String> EVAL_VARIANTS = List.of("full", "lsh8", "lsh4", "lsh2", "lsh1");

    /**
     * The quick plan: Table 2 at L = 256 (|w| = 127) with the main job's model (one layer, d = 128,
     * 4 heads of 32, chunk 32), at most 1,000 steps each, evaluated every 50; Figure 3 with two
     * layers at L = 128, 200 steps of 8 sequences; Figure 5 at L = 1K, 4K, 16K; Table 3 at L = 2,048 with 4 layers.
     */
    public static ReproductionPlan quickPlan() {
        TrainConfig dup = TrainConfig.defaults("duplication").with(Map.of("steps", 1000L, "eval_every", 50L,
                "checkpoint_every", 100L));
        TrainConfig lm = TrainConfig.defaults("charlm").with(Map.of("attention", "full", "layers", 2, "length", 128,
                "batch", 8, "steps", 200L, "warmup", 20L, "eval_every", 25L, "eval_batches", 8, "checkpoint_every", 100L));
        return new ReproductionPlan(true, dup, TRAIN_VARIANTS, EVAL_VARIANTS, 8, 550, lm, List.of(1024, 4096, 16384),
                List.of("full", "lsh1", "lsh2", "lsh4", "lsh8"), 3, 4.0, 2048, 4);
    }

    /**
     * The default plan, closer to the paper: Table 2 at L = 512 (|w| = 255) with d = d_ff = 256 and
     * 4 heads of 64 as in the paper, chunk 64, at most 10,000 steps each; Figure 3 with three layers
     * (the paper's ablations) at L = 256, 3,000 steps; Figure 5 at L = 1K to 16K (and 32K, 64K for
     * LSH); Table 3 at L = 4,096 with 6 layers.
     */
    public static ReproductionPlan defaultPlan() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("word_length", 255);
        d.put("d_model", 256);
        d.put("d_ff", 256);
        d.put("head_dim", 64);
        d.put("chunk", 64);
        d.put("buckets", 8);
        d.put("steps", 10000L);
        d.put("eval_every", 250L);
        d.put("checkpoint_every", 250L);
        TrainConfig dup = TrainConfig.defaults("duplication").with(d);
        TrainConfig lm = TrainConfig.defaults("charlm").with(Map.of("attention", "full", "layers", 3, "steps", 3000L,
                "eval_every", 100L, "eval_batches", 16, "checkpoint_every", 250L));
        return new ReproductionPlan(false, dup, TRAIN_VARIANTS, EVAL_VARIANTS, 16, 3000, lm,
                List.of(1024, 2048, 4096, 8192, 16384, 32768, 65536), List.of("full", "lsh1", "lsh2", "lsh4", "lsh8"), 5, 4.0,
                4096, 6);
    }

    public static ReproductionPlan of(boolean quick) {
        return quick ? quickPlan() : defaultPlan();
    }

    /** The plan as JSON, kept in the reproduction's folder so that a resume runs the plan it started with. */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("mode", quick ? "quick" : "default");
        n.set("duplication", JSON.valueToTree(duplication.fields()));
        n.set("train_variants", JSON.valueToTree(trainVariants));
        n.set("eval_variants", JSON.valueToTree(evalVariants));
        n.put("table2_eval_batches", table2EvalBatches);
        n.put("expected_steps_to_99", expectedStepsTo99);
        n.set("charlm", JSON.valueToTree(charlm.fields()));
        n.set("fig5_lengths", JSON.valueToTree(fig5Lengths));
        n.set("fig5_variants", JSON.valueToTree(fig5Variants));
        n.put("bench_runs", benchRuns);
        n.put("bench_warmup_seconds", benchWarmupSeconds);
        n.put("memory_length", memoryLength);
        n.put("memory_depth", memoryDepth);
        return n;
    }

    /** Reads {@link #toJson}; {@code where} names the file in errors. */
    public static ReproductionPlan fromJson(JsonNode n, String where) {
        try {
            JsonNode mode = required(n, "mode", where);
            return new ReproductionPlan(mode.asText().equals("quick"),
                    TrainConfig.fromJson(required(n, "duplication", where).toString(), where + " (duplication)"),
                    strings(required(n, "train_variants", where)), strings(required(n, "eval_variants", where)),
                    required(n, "table2_eval_batches", where).asInt(), required(n, "expected_steps_to_99", where).asLong(),
                    TrainConfig.fromJson(required(n, "charlm", where).toString(), where + " (charlm)"),
                    JSON.convertValue(required(n, "fig5_lengths", where), new TypeReference<List<Integer>>() { }),
                    strings(required(n, "fig5_variants", where)), required(n, "bench_runs", where).asInt(),
                    required(n, "bench_warmup_seconds", where).asDouble(), required(n, "memory_length", where).asInt(),
                    required(n, "memory_depth", where).asInt());
        } catch (IllegalArgumentException e) {
            throw new TrainException(where + " is not a reproduction plan (" + e.getMessage() + "): restore it or start a new"
                    + " reproduction");
        }
    }

    private static JsonNode required(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            throw new TrainException(where + " has no field '" + key + "': restore it or start a new reproduction");
        }
        return v;
    }

    private static List<String> strings(JsonNode n) {
        return JSON.convertValue(n, new TypeReference<List<String>>() { });
    }

    /** The changes to a config that make it train or evaluate with {@code variant} (full or lshK). */
    public static Map<String, Object> attention(String variant) {
        return variant.equals("full") ? Map.of("attention", "full")
                : Map.of("attention", "lsh", "n_hashes", Integer.parseInt(variant.substring(3)));
    }

    /** {@code full} as "Full", {@code lsh4} as "LSH-4", as the paper writes them. */
    public static String label(String variant) {
        return variant.equals("full") ? "Full" : "LSH-" + variant.substring(3);
    }

    /** Table 2's training runs. */
    public List<Run> table2Runs() {
        List<Run> runs = new ArrayList<>();
        for (String v : trainVariants) {
            runs.add(new Run("table2-" + v, "Table 2: duplication trained with " + label(v), duplication.with(attention(v))));
        }
        return runs;
    }

    /** Figure 3's training runs: the baseline (shared QK, reversible), separate Q and K, ordinary residual layers. */
    public List<Run> figure3Runs() {
        return List.of(
                new Run("fig3-shared-qk-reversible", "Figure 3: shared QK, reversible layers (baseline)", charlm),
                new Run("fig3-separate-qk", "Figure 3: separate Q and K, reversible layers",
                        charlm.with(Map.of("shared_qk", false))),
                new Run("fig3-ordinary-residual", "Figure 3: shared QK, ordinary residual layers",
                        charlm.with(Map.of("reversible", false))));
    }

    /** Figure 5's configurations: forward and backward, not causal, 16,384 tokens per call. */
    public List<BenchConfig> figure5Configs() {
        List<BenchConfig> configs = new ArrayList<>();
        for (String v : fig5Variants) {
            for (int l : fig5Lengths) {
                if (!(v.equals("full") && l > Workloads.TOKENS)) {
                    configs.add(BenchConfig.attention(v, l, false, "fwd+bwd"));
                }
            }
        }
        return configs;
    }

    /** Table 3's configurations: the five variants at {@link #memoryLength} and {@link #memoryDepth} (none at depth 0). */
    public List<BenchConfig> memoryConfigs() {
        List<BenchConfig> configs = new ArrayList<>();
        if (memoryDepth == 0) {
            return configs;
        }
        for (String v : Workloads.TABLE3_VARIANTS) {
            configs.add(new BenchConfig("table3", v, memoryLength, Workloads.T3_HASHES, true, "fwd+bwd", memoryDepth,
                    v.equals("chunked") || v.equals("reformer") ? Workloads.T3_FF_CHUNKS : 1));
        }
        return configs;
    }
}
