package dev.reformer.bench;

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
 * sitting. Writes every RESULT line to a JSONL file and prints the markdown table of medians and
 * ratios (ours / peer) for time and for peak resident memory.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.reformer.bench.SideBySide OUT.jsonl [CONFIG ...]
 *   CONFIG: lsh:4096:4, lsh:4096:4:causal, full:1024, dupstep, lm, primitives; default: the set
 * </pre>
 * Our processes get {@code OMP_NUM_THREADS=2}, {@code OMP_WAIT_POLICY=PASSIVE},
 * {@code OPENBLAS_THREAD_TIMEOUT=4} and the vector module, as the launcher gives them; the peer
 * runs through its own {@code run.sh} (2 threads, jemalloc). Requires the peer set up with
 * {@code ../shared/peer/setup.sh}.
 */
public final class SideBySide {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SideBySide() {
    }

    /** The configurations of the speed issue's table. */
    static List<String> defaults() {
        List<String> configs = new ArrayList<>();
        for (int k : new int[] {1, 2, 4, 8}) {
            configs.add("lsh:4096:" + k);
        }
        configs.add("lsh:16384:4");
        configs.add("lsh:1024:4:causal");
        for (int l : new int[] {1024, 4096, 16384}) {
            configs.add("full:" + l);
        }
        configs.add("dupstep");
        configs.add("lm");
        configs.add("primitives");
        return configs;
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length < 1) {
            System.err.println("usage: SideBySide OUT.jsonl [CONFIG ...]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        List<String> configs = args.length > 1 ? List.of(args).subList(1, args.length) : defaults();
        Path peer = Path.of("..", "shared", "peer", "run.sh");
        if (!Files.isExecutable(peer)) {
            System.err.println("SideBySide: no peer at " + peer.toAbsolutePath() + "; see ../shared/peer/README.md");
            System.exit(2);
        }
        Map<String, JsonNode[]> rows = new LinkedHashMap<>();
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            int index = 0;
            for (String config : configs) {
                boolean oursFirst = index++ % 2 == 0;
                for (int turn = 0; turn < 2; turn++) {
                    boolean ours = (turn == 0) == oursFirst;
                    System.err.printf("[%d/%d] %s: %s%n", index, configs.size(), config, ours ? "ours" : "peer");
                    for (JsonNode r : ours ? runOurs(config) : runPeer(config, peer)) {
                        w.write(r.toString() + "\n");
                        w.flush();
                        String key = r.has("op") ? "primitive " + r.get("op").asText() : config;
                        rows.computeIfAbsent(key, k -> new JsonNode[2])[ours ? 0 : 1] = r;
                    }
                }
            }
        }
        System.out.println(table(rows));
    }

    private static List<JsonNode> runOurs(String config) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("java.class.path");
        String main = config.equals("primitives") ? PrimitivesRunner.class.getName() : StepRunner.class.getName();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp", classpath, main));
        if (!config.equals("primitives")) {
            command.add(config);
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("OMP_NUM_THREADS", "2");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().put("OPENBLAS_THREAD_TIMEOUT", "4");
        return results(pb);
    }

    private static List<JsonNode> runPeer(String config, Path peer) throws IOException, InterruptedException {
        if (config.equals("primitives")) {
            // The PyTorch script under the peer's settings: its run.sh with our script in place of peer_bench.py.
            String dest = Files.readString(Path.of(System.getProperty("user.home"), ".reformer-peer-dir")).trim();
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", "bench/scripts/torch_primitives.py");
            pb.environment().put("OMP_NUM_THREADS", "2");
            pb.environment().put("LD_PRELOAD", "libjemalloc.so.2");
            pb.environment().put("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1");
            pb.environment().put("PYTHONPATH", dest);
            return results(pb);
        }
        String json = Workloads.Config.parse(config).peerJson();
        if (json == null) {
            return List.of();
        }
        return results(new ProcessBuilder(peer.toString(), "--one", json));
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

    static String table(Map<String, JsonNode[]> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| configuration | ours (s) | peer (s) | ours / peer | ours peak RSS (MiB) | peer peak RSS (MiB) |\n");
        sb.append("|---|---|---|---|---|---|\n");
        for (Map.Entry<String, JsonNode[]> e : rows.entrySet()) {
            JsonNode ours = e.getValue()[0];
            JsonNode peer = e.getValue()[1];
            if (e.getKey().startsWith("primitive ")) {
                double a = ours == null ? Double.NaN : ours.get("median_ms").asDouble();
                double b = peer == null ? Double.NaN : peer.get("median_ms").asDouble();
                sb.append(String.format(Locale.ROOT, "| %s, 16M floats | %.2f ms | %.2f ms | %.2f | | |%n", e.getKey(), a, b, a / b));
                continue;
            }
            double a = ours == null ? Double.NaN : ours.get("median_s").asDouble();
            double b = peer == null ? Double.NaN : peer.get("median_s").asDouble();
            sb.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.2f | %.0f | %.0f |%n",
                    Workloads.Config.parse(e.getKey()).label(), a, b, a / b,
                    ours == null ? Double.NaN : ours.get("peak_hwm_mib").asDouble(),
                    peer == null ? Double.NaN : peer.get("peak_hwm_mib").asDouble()));
        }
        return sb.toString();
    }
}
