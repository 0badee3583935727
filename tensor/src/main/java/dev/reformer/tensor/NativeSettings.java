package dev.reformer.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The settings of ND4J's native libraries (OpenBLAS, OpenMP) that are read from environment
 * variables when the libraries load, set by the engine itself before it loads them, so that code
 * embedding the engine (JShell, an IDE, someone's own {@code main}) runs as fast as the launcher
 * does. Each is set only where the environment does not already name it: a user's choice wins.
 *
 * <ul>
 *   <li>{@code OPENBLAS_CORETYPE=SkylakeX} on CPUs with AVX-512 F/BW/DQ/VL. ND4J's OpenBLAS (0.3.19)
 *       does not recognise recent CPUs with AVX-512 (it took a Zen 5 EPYC's Sapphire-Rapids-like
 *       flags for a Cooper Lake, a kernel set it was not built with) and falls back to its SSE3
 *       (Prescott) kernels: a 1024^3 sgemm ran at 71 GFLOP/s against 275 with the Skylake-X
 *       kernels, which run on every CPU with those four extensions (AMD EPYC, AVX-512, 2 cores;
 *       bench/results/kernels-2026-12-02-eve.txt). Other CPUs keep OpenBLAS's own choice.</li>
 *   <li>{@code OMP_WAIT_POLICY=PASSIVE}: ND4J's OpenMP threads sleep between ND4J calls instead of
 *       spinning on the cores the engine's own worker threads need.</li>
 *   <li>{@code OPENBLAS_THREAD_TIMEOUT=4}: OpenBLAS's threads stop spinning 2^4 cycles after a
 *       product; its default spun long enough to take 12% of an LSH attention call from the
 *       engine's workers.</li>
 * </ul>
 *
 * <p>The variables go into the process's C environment with {@code setenv} (JavaCPP's
 * {@code systems} preset: Java itself can only read the environment), on Linux only. That works
 * only before OpenBLAS is loaded, so {@link Tensor} calls {@link #apply()} in its static
 * initialiser, before any ND4J array exists. Where ND4J was loaded first (the embedding code made
 * ND4J arrays of its own before its first tensor), a one-line notice says which settings came too
 * late and how to set them; so does one where {@code setenv} cannot be called. The variables are
 * set while the JVM's own threads run, which read the C environment only at start-up.
 *
 * <pre>{@code
 * NativeSettings.applied();   // {OPENBLAS_CORETYPE=SkylakeX, OMP_WAIT_POLICY=PASSIVE, ...}: what this process set
 * }</pre>
 */
public final class NativeSettings {
    private static final Map<String, String> APPLIED = new LinkedHashMap<>();
    private static boolean done;

    private NativeSettings() {
    }

    /**
     * Sets the variables this process needs and its environment does not name; runs once, and must
     * run before ND4J loads. {@link Tensor} calls it; code that makes ND4J arrays of its own before
     * its first tensor calls it first.
     */
    public static synchronized void apply() {
        if (done) {
            return;
        }
        done = true;
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return;
        }
        Map<String, String> wanted = wanted(System.getenv(), cpuFlags());
        if (wanted.isEmpty()) {
            return;
        }
        List<String> settings = new ArrayList<>();
        wanted.forEach((name, value) -> settings.add(name + "=" + value));
        if (nd4jLoaded()) {
            System.err.println("reformer: ND4J was loaded before the first tensor, too late to set " + String.join(" ", settings)
                    + " for it (without OPENBLAS_CORETYPE matrix products may run OpenBLAS's SSE3 kernels, about 4x slower);"
                    + " call NativeSettings.apply() before using ND4J, or export them before starting java");
            return;
        }
        try {
            wanted.forEach((name, value) -> {
                if (org.bytedeco.systems.global.linux.setenv(name, value, 0) == 0) {
                    APPLIED.put(name, value);
                }
            });
        } catch (LinkageError e) {
            System.err.println("reformer: could not set ND4J's native settings (" + e + "); export "
                    + String.join(" ", settings) + " before starting java");
        }
    }

    /** OpenBLAS's kernel set as asked for, by the environment or by the engine; null where OpenBLAS chooses. */
    public static String openBlasCoreType() {
        apply();
        String chosen = System.getenv("OPENBLAS_CORETYPE");
        return chosen != null ? chosen : applied().get("OPENBLAS_CORETYPE");
    }

    /** One line naming OpenBLAS's kernels and who chose them, for {@code --version} and logs. */
    public static String describe() {
        String kernels = openBlasCoreType();
        if (kernels == null) {
            return "OpenBLAS kernels of its own choice";
        }
        return "OpenBLAS kernels " + kernels + (System.getenv("OPENBLAS_CORETYPE") != null
                ? " (OPENBLAS_CORETYPE from the environment)" : " (chosen by the engine for this CPU)");
    }

    /** The variables this process set, and their values (empty where it set none). */
    public static synchronized Map<String, String> applied() {
        return Map.copyOf(APPLIED);
    }

    /**
     * What to set, given the environment and the CPU's feature flags (from /proc/cpuinfo): each
     * setting the environment does not already name.
     */
    static Map<String, String> wanted(Map<String, String> environment, List<String> cpuFlags) {
        Map<String, String> wanted = new LinkedHashMap<>();
        if (cpuFlags.containsAll(List.of("avx512f", "avx512bw", "avx512dq", "avx512vl"))) {
            wanted.put("OPENBLAS_CORETYPE", "SkylakeX");
        }
        wanted.put("OMP_WAIT_POLICY", "PASSIVE");
        wanted.put("OPENBLAS_THREAD_TIMEOUT", "4");
        wanted.keySet().removeIf(environment::containsKey);
        return wanted;
    }

    /** The CPU's feature flags, from the first {@code flags} line of /proc/cpuinfo (empty where there is none). */
    static List<String> cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                }
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: no flags, so OpenBLAS keeps its own choice
        }
        return List.of();
    }

    /** Whether OpenBLAS is already mapped into this process (read from /proc/self/maps). */
    private static boolean nd4jLoaded() {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.anyMatch(l -> l.contains("libopenblas"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
