package dev.reformer.bench;

import dev.reformer.benchmark.Workloads;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Ours beside the peer baseline (reformer-pytorch, {@code ../shared/peer}), one configuration at a
 * time, each side in a fresh process, alternating which goes first, on the same machine in one
 * sitting, for several rounds. Writes every RESULT line to a JSONL file and prints the markdown
 * table: per side the median over the rounds of each run's median, and the ratio ours / peer,
 * for time and for peak resident memory.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.reformer.bench.SideBySide [--rounds N] [--plain] [--avx2] OUT.jsonl [CONFIG ...]
 *   CONFIG: lsh:4096:4, lsh:4096:4:causal, full:1024, dupstep, lm, primitives; default: the set
 * </pre>
 * {@code --plain} adds a third side, ours started as code that embeds the engine starts it: a
 * plain {@code java -cp} with none of the launcher's options (no vector module, default heap), and
 * the table gains its time and plain / ours.
 *
 * <p>Every side starts without the environment's {@code OMP_*} and {@code OPENBLAS_*} variables,
 * so that each BLAS picks its own kernels (a machine may export an {@code OPENBLAS_CORETYPE} that
 * holds both sides back: this project's machines export Haswell, which halved the peer's sgemm
 * rate, 193 against 357 GFLOP/s). Then every side gets {@code OMP_NUM_THREADS=2}; the engine sets
 * its own native settings (tensor/NativeSettings), in the plain side too. Ours also gets the
 * vector module, a 64 MB young generation and a 1 GB heap, as the launcher gives them (tensors
 * live off the heap; a small young generation keeps the collector from growing the heap, and the
 * resident size, far past what the Java objects need); the peer runs through its own
 * {@code run.sh} (2 threads, jemalloc). Requires the peer set up with
 * {@code ../shared/peer/setup.sh}.
 *
 * <p>{@code --avx2} makes an AVX-512 machine stand in for an AVX2 one, on every side: our JVMs get
 * {@code -XX:UseAVX=2} (the plain one too: it is the machine, not the launcher), OpenBLAS
 * {@code OPENBLAS_CORETYPE=Haswell}, and PyTorch {@code ATEN_CPU_CAPABILITY=avx2}; every result
 * line then carries {@code "cpu_emulated":"avx2"}.
 */
public final class SideBySide {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Whether this run emulates an AVX2 machine ({@code --avx2}). */
    private static boolean avx2;
    /** OpenBLAS's kernels for an AVX2 machine, every side's under {@code --avx2}. */
    private static final String AVX2_CORETYPE = "Haswell";

    private SideBySide() {
    }

    /** The configurations of the speed issue's table. */
    static List<String> defaults() {
        List<String> configs = new ArrayList<>();
        for (int k : new int[] {1, 2, 4, 8}) {
            configs.add("lsh:4096:" + k);
        }
        configs.add("lsh:16384:4");
        configs.add("lsh:65536:4");
        configs.add("lsh:1024:4:causal");
        for (int l : new int[] {1024, 4096, 16384}) {
            configs.add("full:" + l);
        }
        configs.add("dupstep");
        configs.add("lm");
        configs.add("primitives");
        return configs;
    }

    public static void main(String[] argv) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(argv));
        int rounds = 3;
        boolean plain = false;
        while (!args.isEmpty() && args.get(0).startsWith("--")) {
            if (args.get(0).equals("--rounds") && args.size() >= 2) {
                rounds = Integer.parseInt(args.get(1));
                args = args.subList(2, args.size());
            } else if (args.get(0).equals("--plain")) {
                plain = true;
                args = args.subList(1, args.size());
            } else if (args.get(0).equals("--avx2")) {
                avx2 = true;
                args = args.subList(1, args.size());
            } else {
                System.err.println("SideBySide: unknown option " + args.get(0));
                System.exit(2);
            }
        }
        if (args.isEmpty()) {
            System.err.println("usage: SideBySide [--rounds N] [--plain] [--avx2] OUT.jsonl [CONFIG ...]");
            System.exit(2);
        }
        Path out = Path.of(args.get(0));
        List<String> configs = args.size() > 1 ? args.subList(1, args.size()) : defaults();
        Path peer = Path.of("..", "shared", "peer", "run.sh");
        if (!Files.isExecutable(peer)) {
            System.err.println("SideBySide: no peer at " + peer.toAbsolutePath() + "; see ../shared/peer/README.md");
            System.exit(2);
        }
        Map<String, List<List<JsonNode>>> rows = new LinkedHashMap<>();
        List<String> sides = plain ? List.of("ours", "peer", "plain") : List.of("ours", "peer");
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            int index = 0;
            for (int round = 0; round < rounds; round++) {
                for (String config : configs) {
                    int first = index++ % sides.size();             // which side goes first turns round
                    for (int turn = 0; turn < sides.size(); turn++) {
                        String side = sides.get((first + turn) % sides.size());
                        System.err.printf("[round %d/%d] %s: %s%n", round + 1, rounds, config, side);
                        List<JsonNode> results = switch (side) {
                            case "ours" -> runOurs(config, false);
                            case "plain" -> runOurs(config, true);
                            default -> runPeer(config, peer);
                        };
                        for (JsonNode r : results) {
                            if (side.equals("plain")) {
                                ((com.fasterxml.jackson.databind.node.ObjectNode) r).put("side", "ours-plain-jvm");
                            }
                            if (avx2) {
                                ((com.fasterxml.jackson.databind.node.ObjectNode) r).put("cpu_emulated", "avx2");
                            }
                            w.write(r.toString() + "\n");
                            w.flush();
                            String key = r.has("op") ? "primitive " + r.get("op").asText() : config;
                            rows.computeIfAbsent(key, k -> List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>()))
                                    .get(sides.indexOf(side)).add(r);
                        }
                    }
                }
            }
        }
        System.out.println(table(rows, plain));
    }

    /** Ours with the launcher's JVM options, or ({@code plain}) with none of them. */
    private static List<JsonNode> runOurs(String config, boolean plain) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("java.class.path");
        String main = config.equals("primitives") ? PrimitivesRunner.class.getName() : StepRunner.class.getName();
        List<String> command = new ArrayList<>(List.of(java));
        if (avx2) {
            command.add("-XX:UseAVX=2");
        }
        if (!plain) {
            command.addAll(dev.reformer.benchmark.LaunchOptions.launcher());
        }
        command.addAll(List.of("-cp", classpath, main));
        if (!config.equals("primitives")) {
            command.add(config);
        }
        return results(machine(new ProcessBuilder(command)));
    }

    /**
     * A process on the machine this run stands for: the environment's OpenMP and OpenBLAS
     * variables removed (each library's own choice), two threads, and under {@code --avx2}
     * OpenBLAS and PyTorch kept to AVX2.
     */
    private static ProcessBuilder machine(ProcessBuilder pb) {
        pb.environment().keySet().removeIf(k -> k.startsWith("OMP_") || k.startsWith("OPENBLAS_")
                || k.startsWith("ATEN_") || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
        pb.environment().put("OMP_NUM_THREADS", "2");
        if (avx2) {
            pb.environment().put("OPENBLAS_CORETYPE", AVX2_CORETYPE);
            pb.environment().put("ATEN_CPU_CAPABILITY", "avx2");
        }
        return pb;
    }

    private static List<JsonNode> runPeer(String config, Path peer) throws IOException, InterruptedException {
        if (config.equals("primitives")) {
            // The PyTorch script under the peer's settings: its run.sh with our script in place of peer_bench.py.
            String dest = Files.readString(Path.of(System.getProperty("user.home"), ".reformer-peer-dir")).trim();
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", "bench/scripts/torch_primitives.py");
            pb.environment().put("LD_PRELOAD", "libjemalloc.so.2");
            pb.environment().put("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1");
            pb.environment().put("PYTHONPATH", dest);
            return results(machine(pb));
        }
        String json = Workloads.Config.parse(config).peerJson();
        if (json == null) {
            return List.of();
        }
        return results(machine(new ProcessBuilder(peer.toString(), "--one", json)));
    }

    private static List<JsonNode> results(ProcessBuilder pb) throws IOException, InterruptedException {
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<JsonNode> found = new ArrayList<>();
        StringBuilder log = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.startsWith("RESULT ")) {
                    found.add(JSON.readTree(line.substring(7)));
                } else {
                    log.append(line).append('\n');
                }
            }
        }
        if (p.waitFor() != 0 || found.isEmpty()) {
            System.err.println("SideBySide: " + String.join(" ", pb.command()) + " failed:\n" + log);
        }
        return found;
    }

    /** The median over rounds of {@code field}, or NaN when that side has no result. */
    private static double median(List<JsonNode> runs, String field) {
        double[] v = runs.stream().mapToDouble(r -> r.get(field).asDouble()).sorted().toArray();
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static String table(Map<String, List<List<JsonNode>>> rows, boolean plain) {
        StringBuilder sb = new StringBuilder();
        sb.append("| configuration | ours (s) | peer (s) | ours / peer | ours peak RSS (MiB) | peer peak RSS (MiB) |");
        sb.append(plain ? " plain JVM (s) | plain / ours |" : "").append(" rounds |\n");
        sb.append("|---|---|---|---|---|---|").append(plain ? "---|---|" : "").append("---|\n");
        for (Map.Entry<String, List<List<JsonNode>>> e : rows.entrySet()) {
            List<JsonNode> ours = e.getValue().get(0);
            List<JsonNode> peer = e.getValue().get(1);
            List<JsonNode> plainRuns = e.getValue().get(2);
            int rounds = Math.max(ours.size(), peer.size());
            boolean primitive = e.getKey().startsWith("primitive ");
            String field = primitive ? "median_ms" : "median_s";
            double a = median(ours, field);
            double b = median(peer, field);
            double c = median(plainRuns, field);
            if (primitive) {
                sb.append(String.format(Locale.ROOT, "| %s, 16M floats | %.2f ms | %.2f ms | %.2f | | |", e.getKey().substring(10), a,
                        b, a / b));
                if (plain) {
                    sb.append(String.format(Locale.ROOT, " %.2f ms | %.2f |", c, c / a));
                }
            } else {
                sb.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.2f | %.0f | %.0f |", Workloads.Config.parse(e.getKey())
                        .label(), a, b, a / b, median(ours, "peak_hwm_mib"), median(peer, "peak_hwm_mib")));
                if (plain) {
                    sb.append(String.format(Locale.ROOT, " %.3f | %.2f |", c, c / a));
                }
            }
            sb.append(String.format(Locale.ROOT, " %d |%n", rounds));
        }
        return sb.toString();
    }
}
