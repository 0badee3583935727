package dev.reformer.tensor.kernels;

import java.util.function.Supplier;

/**
 * Which loops the float32 kernels run. Every kernel family writes its float32 algorithm twice:
 * as a <b>vector kernel</b> in the JDK's vector API ({@code jdk.incubator.vector}), and as
 * <b>plain loops</b> shaped so that the JIT compiles them to SIMD code of its own (arrays read at
 * one index, short loop bodies). Beside them sits the family's <b>reference</b>, a loop in double
 * precision that every float64 tensor takes and that the float32 results are tested against.
 *
 * <p>The vector API is an incubator module that the JVM loads only when started with
 * {@code --add-modules jdk.incubator.vector} (the launcher, the tests and the benchmarks do).
 * Without it nothing breaks: float32 tensors run the plain loops, in 1.1-3.3x the time of the vector
 * kernels (the benchmarks measure it), and a one-line notice says so once.
 * {@code -Dreformer.simd=false} chooses the plain loops with the module loaded.
 *
 * <p>The choice is made on the calling thread and handed to every worker thread a kernel call
 * uses ({@link Parallel}), so {@link #plainLoops(Supplier)} holds for all the work it wraps.
 *
 * <pre>{@code
 * Tensor y = x.softmax();                                  // vector kernel where the module is loaded
 * Tensor same = Kernels.plainLoops(() -> x.softmax());     // the plain loops, for comparison
 * }</pre>
 */
public final class Kernels {
    private static final boolean AVAILABLE = detect();
    private static final ThreadLocal<Boolean> FORCE_PLAIN = ThreadLocal.withInitial(() -> false);
    /** Threads inside {@link #plainLoops} or a worker part of one: while 0, no thread-local lookup is needed. */
    private static final java.util.concurrent.atomic.AtomicInteger FORCING = new java.util.concurrent.atomic.AtomicInteger();
    private static volatile boolean noticed;

    private Kernels() {
    }

    /** True when float32 kernels called from this thread run their vector kernels, false for their plain loops. */
    public static boolean vector() {
        if (!AVAILABLE) {
            notice();
            return false;
        }
        // Kernels ask this per row: a thread-local lookup each time cost 2% of a training step.
        return FORCING.get() == 0 || !FORCE_PLAIN.get();
    }

    /** True when the vector module is loaded (and not switched off), whatever this thread forces. */
    public static boolean vectorAvailable() {
        return AVAILABLE;
    }

    /** Runs {@code work} with every float32 kernel it calls taking its plain loops. */
    public static <T> T plainLoops(Supplier<T> work) {
        boolean before = FORCE_PLAIN.get();
        FORCING.incrementAndGet();
        FORCE_PLAIN.set(true);
        try {
            return work.get();
        } finally {
            FORCE_PLAIN.set(before);
            FORCING.decrementAndGet();
        }
    }

    /** Whether this thread asked for the plain loops (for {@link Parallel}, which hands it to its workers). */
    static boolean forcedPlain() {
        return FORCING.get() != 0 && FORCE_PLAIN.get();
    }

    /** Runs {@code work} on this thread with the plain loops forced or not. */
    static void runForced(boolean plain, Runnable work) {
        if (!plain) {
            work.run();
            return;
        }
        boolean before = FORCE_PLAIN.get();
        FORCING.incrementAndGet();
        FORCE_PLAIN.set(true);
        try {
            work.run();
        } finally {
            FORCE_PLAIN.set(before);
            FORCING.decrementAndGet();
        }
    }

    /**
     * The JVM options that give a child process this JVM's choice of loops: the vector module where
     * it is loaded here, else nothing (or {@code -Dreformer.simd=false} where it was switched off).
     */
    public static java.util.List<String> jvmOptions() {
        if (AVAILABLE) {
            return java.util.List.of("--add-modules", "jdk.incubator.vector");
        }
        return enabledByProperty() ? java.util.List.of() : java.util.List.of("-Dreformer.simd=false");
    }

    /** One line saying which loops run and why, for logs and {@code --version}. */
    public static String describe() {
        if (AVAILABLE) {
            return "vector kernels (" + VectorShape.bits() + "-bit float vectors, jdk.incubator.vector)";
        }
        return enabledByProperty() ? "plain loops (the JDK vector module is not loaded; --add-modules jdk.incubator.vector"
                + " runs the vector kernels)" : "plain loops (-Dreformer.simd=false)";
    }

    private static void notice() {
        if (!noticed && enabledByProperty()) {
            noticed = true;
            System.err.println("reformer: the JDK vector module is not loaded, so float32 kernels run as plain loops"
                    + " (attention and training steps take 1.1-3.3x as long); start java with --add-modules jdk.incubator.vector for the vector kernels");
        }
    }

    private static boolean enabledByProperty() {
        return Boolean.parseBoolean(System.getProperty("reformer.simd", "true"));
    }

    private static boolean detect() {
        return enabledByProperty() && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** The vector width, in a class of its own so that nothing touches the module where it is absent. */
    private static final class VectorShape {
        static int bits() {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
    }
}
