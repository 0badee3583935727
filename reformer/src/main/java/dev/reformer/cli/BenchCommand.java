package dev.reformer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.benchmark.BenchConfig;
import dev.reformer.benchmark.BenchPlan;
import dev.reformer.benchmark.BenchReport;
import dev.reformer.benchmark.ChildRun;
import dev.reformer.train.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code reformer bench}: speed and memory of the attention variants, with the paper's Figure 5. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        header = "Benchmark attention variants' speed and memory; plot Figure 5.",
        description = {
            "Runs each configuration in a fresh JVM (warm-up, then the median of timed calls, and the peaks of off-heap tensor memory, heap and the process) and writes bench-results/<timestamp>/: results.jsonl, report.md and PNG plots (time against L at 16K tokens per call, the paper's Figure 5; memory against L; memory against depth for reversible and ordinary stacks; time against the feed-forward's chunk count). --quick runs a subset in about 4 minutes on 2 cores; the full run covers full, local and LSH attention (K = 1, 2, 4, 8) at L = 1K..16K (and 32K, 64K for LSH and local), causal and not, forward and forward+backward, the ReformerLM step, stacks of depth 1..12 and feed-forward chunks 1..16 (about an hour).",
            "Exit code 0, or 2 on bad input (one line naming the problem; nothing is written). Results go to a folder ending in .partial until the run completes."},
        footer = {"", "Examples:", "  bin/reformer bench --quick",
            "  bin/reformer bench --variants full,lsh4 --lengths 1024,4096,16384",
            "  bin/reformer bench --quick --compare peer.jsonl   (rows from ../shared/peer/run.sh)"})
final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Warm-up per configuration, quick or not: with 1.5 s the JIT had not compiled LSH's kernels
     * yet (LSH-1 at 4K measured 153 ms against 47 after 4 s), which hid Figure 5's gap.
     */
    private static final double WARMUP_SECONDS = 4.0;

    @Spec
    private CommandSpec spec;

    @Option(names = "--quick", description = "a subset that shows Figure 5's pattern and the targets (about 4 minutes)")
    private boolean quick;

    @Option(names = "--variants", split = ",", paramLabel = "V", description = "only these attention variants: full, local, lsh1, lsh2, lsh4, lsh8")
    private List<String> variants;

    @Option(names = "--lengths", split = ",", paramLabel = "L", description = "only these lengths (multiples of 64)")
    private List<Integer> lengths;

    @Option(names = "--compare", paramLabel = "FILE.jsonl",
            description = "results to show beside ours: rows of this command's results.jsonl, or of ../shared/peer/run.sh")
    private Path compare;

    @Option(names = "--out", paramLabel = "DIR", description = "where to write (default: bench-results/<date>-<time>)")
    private Path out;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "timed calls per configuration (default: ${DEFAULT-VALUE})")
    private int runs;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintStream console = System.out;
        try {
            List<BenchConfig> plan = plan();
            List<JsonNode> compareRows = compare == null ? null : readCompare(compare);
            if (runs < 1) {
                throw new IllegalArgumentException("--runs " + runs + " must be at least 1");
            }
            long available = availableBytes();
            for (BenchConfig c : plan) {
                if (c.estimatedBytes() > available) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "%s would need about %,d bytes (%.1f GiB), more"
                            + " than the %.1f GiB this machine has available: leave out that length", c.label(),
                            c.estimatedBytes(), c.estimatedBytes() / 1073741824.0, available / 1073741824.0));
                }
            }
            Path target = out != null ? out : Path.of("bench-results",
                    LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
            if (Files.exists(target)) {
                throw new IllegalArgumentException("--out " + target + " exists already: give another folder");
            }
            Path partial = target.resolveSibling(target.getFileName() + ".partial");
            Files.createDirectories(partial);
            List<JsonNode> rows = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < plan.size(); i++) {
                BenchConfig c = plan.get(i);
                double elapsed = (System.nanoTime() - start) / 1e9;
                String eta = i == 0 ? "-" : Progress.duration(elapsed / i * (plan.size() - i));
                console.printf(Locale.ROOT, "[%d/%d] %s ... (elapsed %s, about %s left)%n", i + 1, plan.size(), c.label(),
                        Progress.duration(elapsed), eta);
                ObjectNode row = ChildRun.run(c, runs, WARMUP_SECONDS);
                rows.add(row);
                Files.writeString(partial.resolve("results.jsonl"), row + "\n", StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                console.printf(Locale.ROOT, "        %.1f ms, %,.0f tokens/s, peak %.0f MiB%n", row.path("ms").asDouble(),
                        row.path("tokens_per_s").asDouble(), row.path("peak_mib").asDouble());
            }
            BenchReport.write(partial, rows, compareRows, compare == null ? null : compare.toString(),
                    "bin/reformer bench" + (quick ? " --quick" : "") + (compare != null ? " --compare " + compare : ""));
            Files.move(partial, target);
            console.println("reformer bench: " + plan.size() + " configurations in " + Progress.duration((System.nanoTime() - start) / 1e9)
                    + "; results, report.md and plots in " + target);
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("reformer bench: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    private List<BenchConfig> plan() {
        if (variants != null) {
            for (String v : variants) {
                if (!BenchPlan.VARIANTS.contains(v)) {
                    throw new IllegalArgumentException("unknown variant '" + v + "': use " + String.join(", ", BenchPlan.VARIANTS));
                }
            }
        }
        if (lengths != null) {
            for (int l : lengths) {
                if (l < 64 || l % 64 != 0) {
                    throw new IllegalArgumentException("length " + l + " does not fit the chunking: use a multiple of 64 (the chunk"
                            + " length), for example " + Math.max(64, (l + 63) / 64 * 64));
                }
            }
        }
        List<BenchConfig> plan = new ArrayList<>();
        for (BenchConfig c : quick ? BenchPlan.quick() : BenchPlan.full()) {
            boolean filtered = variants != null || lengths != null;
            if (!c.kind().equals("attention")) {
                if (!filtered || c.kind().equals("sgemm")) { // the yardstick stays in a filtered run
                    plan.add(c);
                }
                continue;
            }
            if ((variants == null || variants.contains(c.variant())) && (lengths == null || lengths.contains(c.length()))) {
                plan.add(c);
            }
        }
        if (lengths != null && !quick) {
            Set<Integer> planned = new java.util.HashSet<>();
            plan.forEach(c -> planned.add(c.length()));
            for (int l : lengths) {
                if (!planned.contains(l)) {
                    for (String v : variants != null ? variants : BenchPlan.VARIANTS) {
                        plan.add(BenchConfig.attention(v, l, false, "fwd+bwd"));
                    }
                }
            }
        }
        if (plan.isEmpty()) {
            throw new IllegalArgumentException("no configuration matches --variants and --lengths");
        }
        return plan;
    }

    /** The comparison rows, in this command's fields; the peer's rows ({@code kind}, {@code median_s}) are translated. */
    static List<JsonNode> readCompare(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("--compare " + file + " cannot be read (" + e.getMessage() + ")");
        }
        List<JsonNode> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(lines.get(i));
            } catch (IOException e) {
                n = null;
            }
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException("--compare " + file + ": line " + (i + 1) + " is not a JSON object: give a JSONL"
                        + " file of results (one object per line)");
            }
            ObjectNode row = ((ObjectNode) n).deepCopy();
            if (!row.has("variant") && row.has("kind")) {
                String kind = row.path("kind").asText();
                row.put("variant", kind.equals("lsh") ? "lsh" + row.path("n_hashes").asInt() : kind);
                row.put("kind", kind.equals("lsh") || kind.equals("full") || kind.equals("local") ? "attention" : kind);
                row.put("pass", row.path("pass").asText("fwd+bwd"));
            }
            if (!row.has("peak_mib") && row.has("peak_hwm_mib")) {
                row.put("peak_mib", row.path("peak_hwm_mib").asDouble());
            }
            if (!row.has("ms") && row.has("median_s")) {
                row.put("ms", row.path("median_s").asDouble() * 1000);
            }
            if (!row.has("variant") || !row.has("L") || !row.has("ms")) {
                throw new IllegalArgumentException("--compare " + file + ": line " + (i + 1) + " has no variant, L or ms (or the"
                        + " peer's kind, L and median_s)");
            }
            rows.add(row);
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("--compare " + file + " holds no results");
        }
        return rows;
    }

    /** MemAvailable from /proc/meminfo, or the JVM's view of physical memory elsewhere. */
    private static long availableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux: fall through
        }
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
    }
}
