package dev.reformer.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code report.md} and the plots of a bench run: the results table (with the comparison's time
 * and the ratio where one was given), the targets checked on these results, the FLOP formulas,
 * and four PNGs: time against L at a fixed number of tokens (the paper's Figure 5), peak memory
 * against L, off-heap memory against depth for reversible and ordinary stacks, and time against
 * the feed-forward's chunk count.
 */
public final class BenchReport {
    private BenchReport() {
    }

    public static void write(Path dir, List<JsonNode> rows, List<JsonNode> compare, String compareName, String command)
            throws IOException {
        StringBuilder md = new StringBuilder();
        JsonNode first = rows.isEmpty() ? null : rows.get(0);
        md.append("# bin/reformer bench\n\n");
        md.append("Command: `").append(command).append("`\n\n");
        if (first != null) {
            md.append("Machine: ").append(first.path("machine").asText()).append("; Java ").append(first.path("java").asText())
                    .append(", ND4J ").append(first.path("nd4j").asText()).append(". Each configuration in a fresh JVM; ")
                    .append("time is the median of ").append(first.path("runs").asInt()).append(" calls after warm-up.\n\n");
        }
        md.append(compare == null ? "No comparison was given (`--compare FILE` adds one).\n\n"
                : "Compared with `" + compareName + "` (rows matched on variant, L, causal and pass; ratio = ours / theirs).\n\n");
        md.append("![time against L](fig5-time.png)\n\n");
        md.append("| configuration | B | ms | tokens/s | GFLOP/s | peak MiB (process) | off-heap peak MiB | heap peak MiB |")
                .append(compare == null ? "" : " compare ms | ratio |").append("\n");
        md.append("|---|---|---|---|---|---|---|---|").append(compare == null ? "" : "---|---|").append("\n");
        for (JsonNode r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %,.0f | %s | %.0f | %.1f | %.1f |", label(r), r.path("B").asInt(),
                    r.path("ms").asDouble(), r.path("tokens_per_s").asDouble(),
                    r.path("gflops").isNull() ? "" : String.format(Locale.ROOT, "%.1f", r.path("gflops").asDouble()),
                    r.path("peak_mib").asDouble(), r.path("offheap_peak_mib").asDouble(), r.path("heap_peak_mib").asDouble()));
            if (compare != null) {
                JsonNode c = match(r, compare);
                md.append(c == null ? " | |" : String.format(Locale.ROOT, " %.1f | %.2f |", c.path("ms").asDouble(),
                        r.path("ms").asDouble() / c.path("ms").asDouble()));
            }
            md.append("\n");
        }
        md.append("\n## Targets\n\n").append(targets(rows)).append("\n");
        md.append("## FLOPs\n\n");
        md.append("Attention, one call, forward: `4 B L W D` (logits and the weighted sum of values, W keys per query: ")
                .append("L for full attention, L/2 when causal; 2C for local attention; K 2C for LSH with K rounds), ")
                .append("plus LSH hashing `2 B L D K NB/2`. Forward and backward: 3 times the forward. ")
                .append("GFLOP/s = FLOPs / median time. Model steps (stacks, feed-forward, ReformerLM) carry no FLOP count. ")
                .append("The sgemm row is ND4J's float32 matrix product of two 2048 x 2048 matrices, `2 n^3`, the machine's ")
                .append("rate for the attention rows to be read against.\n\n");
        md.append("![peak memory against L](memory-vs-length.png)\n\n![memory against depth](memory-vs-depth.png)\n\n")
                .append("![time against feed-forward chunks](ffchunks-time.png)\n");
        Files.writeString(dir.resolve("report.md"), md.toString(), StandardCharsets.UTF_8);
        plots(dir, rows, compare);
    }

    static String label(JsonNode r) {
        String kind = r.path("kind").asText("attention");
        String v = r.path("variant").asText();
        return switch (kind) {
            case "stack" -> v + " stack, depth " + r.path("depth").asInt();
            case "ffchunks" -> "feed-forward in " + r.path("chunks").asInt() + " chunk(s), L=" + r.path("L").asInt();
            case "lm" -> "ReformerLM step, L=4096";
            case "sgemm" -> "sgemm " + r.path("L").asInt() + "^3 (BLAS, the yardstick)";
            default -> (v.startsWith("lsh") ? "LSH K=" + v.substring(3) : v) + ", L=" + r.path("L").asInt()
                    + (r.path("causal").asBoolean() ? ", causal" : "") + ", " + r.path("pass").asText();
        };
    }

    /** The comparison row of the same variant, L, causality and pass, or null. */
    static JsonNode match(JsonNode r, List<JsonNode> compare) {
        for (JsonNode c : compare) {
            if (c.path("variant").asText().equals(r.path("variant").asText()) && c.path("L").asInt() == r.path("L").asInt()
                    && c.path("causal").asBoolean() == r.path("causal").asBoolean()
                    && c.path("pass").asText().equals(r.path("pass").asText())) {
                return c;
            }
        }
        return null;
    }

    private static JsonNode find(List<JsonNode> rows, Predicate<JsonNode> p) {
        return rows.stream().filter(p).findFirst().orElse(null);
    }

    private static Predicate<JsonNode> attention(String variant, int length) {
        return r -> r.path("kind").asText().equals("attention") && r.path("variant").asText().equals(variant)
                && r.path("L").asInt() == length && !r.path("causal").asBoolean() && r.path("pass").asText().equals("fwd+bwd");
    }

    static String targets(List<JsonNode> rows) {
        StringBuilder t = new StringBuilder();
        for (int length : new int[] {1024, 2048, 4096, 8192, 16384}) {
            JsonNode full = find(rows, attention("full", length));
            JsonNode lsh = find(rows, attention("lsh4", length));
            if (full != null && lsh != null) {
                double ratio = full.path("ms").asDouble() / lsh.path("ms").asDouble();
                t.append(String.format(Locale.ROOT, "- L = %d: full / LSH-4 = %.2f (%s)%n", length, ratio,
                        length >= 2048 ? (ratio > 1 ? "LSH-4 faster: met" : "LSH-4 not faster: missed")
                                : ratio > 1 ? "LSH-4 faster" : "full attention faster"));
            }
        }
        JsonNode full16 = find(rows, attention("full", 16384));
        JsonNode lsh16 = find(rows, attention("lsh4", 16384));
        if (full16 != null && lsh16 != null) {
            double ratio = full16.path("ms").asDouble() / lsh16.path("ms").asDouble();
            t.append(String.format(Locale.ROOT, "- at L = 16K LSH-4 is %.1fx faster than full attention (target 12x: %s)%n",
                    ratio, ratio >= 12 ? "met" : "missed"));
        }
        JsonNode sgemm = find(rows, r -> r.path("kind").asText().equals("sgemm"));
        if (sgemm != null) {
            double rate = sgemm.path("gflops").asDouble();
            t.append(String.format(Locale.ROOT, "- sgemm (ND4J's BLAS, 2048^3) in this run: %.0f GFLOP/s%n", rate));
            efficiency(t, find(rows, attention("full", 16384)), rate, "full attention, L = 16K", 0.5);
            efficiency(t, find(rows, attention("lsh4", 4096)), rate, "LSH-4, L = 4K", 0.35);
        }
        JsonNode long64 = find(rows, attention("lsh4", 65536));
        if (long64 != null) {
            double peak = long64.path("peak_mib").asDouble();
            t.append(String.format(Locale.ROOT, "- one 64K-token sequence through LSH-4, forward and backward: process peak"
                    + " %.0f MiB (target under 1 GiB: %s)%n", peak, peak < 1024 ? "met" : "missed"));
        }
        JsonNode one = find(rows, r -> r.path("kind").asText().equals("stack") && r.path("variant").asText().equals("reversible")
                && r.path("depth").asInt() == 1);
        JsonNode twelve = find(rows, r -> r.path("kind").asText().equals("stack")
                && r.path("variant").asText().equals("reversible") && r.path("depth").asInt() == 12);
        if (one != null && twelve != null) {
            double a = activation(one);
            double b = activation(twelve);
            t.append(String.format(Locale.ROOT, "- reversible stack, activation memory (off-heap peak of the step, less the"
                    + " tensors live before it): depth 12 %.1f MiB against depth 1 %.1f MiB = %.2fx (target at most 1.2x: %s)%n",
                    b, a, b / a, b / a <= 1.2 ? "met" : "missed"));
        }
        return t.length() == 0 ? "(none of the target configurations ran)\n" : t.toString();
    }

    private static void efficiency(StringBuilder t, JsonNode row, double sgemm, String what, double aim) {
        if (row == null || sgemm <= 0) {
            return;
        }
        double rate = row.path("gflops").asDouble();
        t.append(String.format(Locale.ROOT, "- %s, forward and backward: %.0f GFLOP/s, %.0f%% of sgemm (aim %.0f%%: %s)%n", what,
                rate, 100 * rate / sgemm, 100 * aim, rate >= aim * sgemm ? "met" : "missed"));
    }

    private static double activation(JsonNode r) {
        return r.path("offheap_peak_mib").asDouble() - r.path("offheap_before_mib").asDouble();
    }

    private static void plots(Path dir, List<JsonNode> rows, List<JsonNode> compare) throws IOException {
        Map<String, List<double[]>> time = new LinkedHashMap<>();
        Map<String, List<double[]>> memory = new LinkedHashMap<>();
        for (String v : BenchPlan.VARIANTS) {
            List<double[]> t = new ArrayList<>();
            List<double[]> m = new ArrayList<>();
            List<double[]> ct = new ArrayList<>();
            for (JsonNode r : rows) {
                if (r.path("kind").asText().equals("attention") && r.path("variant").asText().equals(v)
                        && !r.path("causal").asBoolean() && r.path("pass").asText().equals("fwd+bwd")
                        && r.path("L").asInt() <= Workloads.TOKENS) {                   // 16K tokens per call: Figure 5's axis
                    t.add(new double[] {r.path("L").asDouble(), r.path("ms").asDouble() / 1000});
                    m.add(new double[] {r.path("L").asDouble(), r.path("peak_mib").asDouble()});
                    JsonNode c = compare == null ? null : match(r, compare);
                    if (c != null) {
                        ct.add(new double[] {r.path("L").asDouble(), c.path("ms").asDouble() / 1000});
                    }
                }
            }
            String name = v.startsWith("lsh") ? "LSH K=" + v.substring(3) : v;
            if (!t.isEmpty()) {
                time.put(name, t);
                memory.put(name, m);
            }
            if (!ct.isEmpty()) {
                time.put(name + " (compare)", ct);
            }
        }
        LinePlot.write(dir.resolve("fig5-time.png"), "Forward+backward time at 16K tokens per call (Figure 5)",
                "sequence length L", "seconds per call", true, true, time);
        LinePlot.write(dir.resolve("memory-vs-length.png"), "Peak process memory at 16K tokens per call",
                "sequence length L", "MiB (VmHWM)", true, false, memory);
        Map<String, List<double[]>> depth = new LinkedHashMap<>();
        for (String v : List.of("reversible", "ordinary")) {
            List<double[]> d = new ArrayList<>();
            for (JsonNode r : rows) {
                if (r.path("kind").asText().equals("stack") && r.path("variant").asText().equals(v)) {
                    d.add(new double[] {r.path("depth").asDouble(), activation(r)});
                }
            }
            if (!d.isEmpty()) {
                depth.put(v, d);
            }
        }
        LinePlot.write(dir.resolve("memory-vs-depth.png"), "Activation memory of a training step against depth",
                "layers", "MiB (off-heap peak less what was live before)", false, false, depth);
        Map<String, List<double[]>> chunks = new LinkedHashMap<>();
        List<double[]> c = new ArrayList<>();
        for (JsonNode r : rows) {
            if (r.path("kind").asText().equals("ffchunks")) {
                c.add(new double[] {r.path("chunks").asDouble(), r.path("ms").asDouble() / 1000});
            }
        }
        if (!c.isEmpty()) {
            chunks.put("feed-forward step", c);
        }
        LinePlot.write(dir.resolve("ffchunks-time.png"), "Time of a step against the feed-forward's chunk count",
                "chunks", "seconds per step", true, false, chunks);
    }
}
