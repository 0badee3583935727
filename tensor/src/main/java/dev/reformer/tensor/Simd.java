package dev.reformer.tensor;

/**
 * Whether the JDK's vector module ({@code jdk.incubator.vector}) is available, which the engine's
 * fast float kernels are written in. It is an incubator module, so the JVM loads it only when
 * started with {@code --add-modules jdk.incubator.vector} (the launcher, the tests and the
 * benchmarks do). Without it every op still works, on ND4J's ops and plain loops, several times
 * slower; a one-line notice says so once. {@code -Dreformer.simd=false} turns the kernels off, for
 * comparing the two paths.
 */
public final class Simd {
    private static final boolean ENABLED = detect();
    private static volatile boolean warned;

    private Simd() {
    }

    /** True when the vector kernels run. */
    public static boolean enabled() {
        if (!ENABLED && !warned) {
            warned = true;
            if (Boolean.parseBoolean(System.getProperty("reformer.simd", "true"))) {
                System.err.println("reformer: the JDK vector module is not loaded, so the engine runs its slower"
                        + " fallback loops; start java with --add-modules jdk.incubator.vector");
            }
        }
        return ENABLED;
    }

    private static boolean detect() {
        return Boolean.parseBoolean(System.getProperty("reformer.simd", "true"))
                && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }
}
