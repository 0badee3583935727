package dev.reformer.benchmark;

import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options {@code bin/reformer} starts the engine with, for the child JVMs the engine starts
 * itself (each benchmark configuration, the side-by-side runs), so that they run as the launcher
 * runs. The launcher script decides the same things in bash; {@code LaunchOptionsTest} holds the
 * two to one list.
 */
public final class LaunchOptions {
    private LaunchOptions() {
    }

    /**
     * The options that keep ND4J's and JavaCPP's native libraries from printing warnings on newer
     * JDKs: native access for every unnamed module (JDK 24 warns at each {@code System.load}), and
     * from JDK 23 on, {@code sun.misc.Unsafe}'s memory methods allowed without a warning (JDK 17
     * refuses that option).
     */
    public static List<String> quiet(int feature) {
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        if (feature >= 23) {
            options.add("--sun-misc-unsafe-memory-access=allow");
        }
        return options;
    }

    /**
     * The launcher's options for a JVM of this feature version: the vector module, the quiet
     * options, and a 64 MB young generation and a 1 GB heap (tensors live off the heap; without the
     * cap the collector grew the heap, and the resident size, far past what the Java objects need).
     */
    public static List<String> launcher(int feature) {
        List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector"));
        options.addAll(quiet(feature));
        options.addAll(List.of("-Xmn64m", "-Xmx1g", "-XX:+ExplicitGCInvokesConcurrent"));
        return options;
    }

    /** {@link #launcher(int)} for the running JVM. */
    public static List<String> launcher() {
        return launcher(Runtime.version().feature());
    }
}
