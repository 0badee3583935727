package dev.reformer.benchmark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs one {@link BenchConfig} in a fresh JVM ({@link BenchChild}) with the launcher's settings
 * and returns its {@code RESULT} row, stamped with the machine, Java and ND4J versions. A fresh
 * JVM per configuration keeps one configuration's JIT state, heap and peak resident memory out of
 * the next one's numbers.
 */
public final class ChildRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChildRun() {
    }

    public static ObjectNode run(BenchConfig c, int runs, double warmupSeconds) throws IOException, InterruptedException {
        return run(c, runs, warmupSeconds, p -> { });
    }

    /** The same, handing the child process to {@code started} as it starts (so that a caller can stop it). */
    public static ObjectNode run(BenchConfig c, int runs, double warmupSeconds, java.util.function.Consumer<Process> started)
            throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(LaunchOptions.launcher());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.reformer.benchmark.BenchChild", c.toJson(),
                Integer.toString(runs), Double.toString(warmupSeconds)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        started.accept(p);
        String result = null;
        StringBuilder output = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null;) {
                if (line.startsWith("RESULT ")) {
                    result = line.substring(7);
                } else if (!line.startsWith("WARNING: Using incubator")) {
                    output.append(line).append('\n');
                }
            }
        }
        int exit = p.waitFor(); // the output has ended: the child is exiting
        if (exit != 0 || result == null) {
            throw new IllegalStateException("benchmark of " + c.label() + " failed (exit " + exit + "):\n" + output);
        }
        ObjectNode row = (ObjectNode) JSON.readTree(result);
        row.put("machine", machine());
        row.put("java", System.getProperty("java.version"));
        row.put("nd4j", "1.0.0-M2.1");
        return row;
    }

    /** The CPU model and core count, from /proc/cpuinfo where there is one. */
    public static String machine() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException ignored) {
            // not Linux: the model stays unknown
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }
}
