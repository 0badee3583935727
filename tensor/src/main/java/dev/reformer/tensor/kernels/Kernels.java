package dev.reformer.tensor.kernels;

import java.util.function.Supplier;

/**
 * Which of its two loops every kernel family runs: the <b>vector kernel</b>, written in the JDK's
 * vector API ({@code jdk.incubator.vector}) over float32 values, or the <b>scalar loop</b>, plain
 * Java over double values, which is also the reference the vector kernels are tested against and
 * the path every float64 tensor takes.
 *
 * <p>The vector API is an incubator module that the JVM loads only when started with
 * {@code --add-modules jdk.incubator.vector} (the launcher, the tests and the benchmarks do).
 * Without it nothing breaks: float32 tensors run the scalar loops, which are written so that the
 * JIT compiles them to SIMD code of its own (same-index array loops, short bodies), within about
 * 2x of the vector kernels; a one-line notice says so once. {@code -Dreformer.simd=false} chooses
 * the scalar loops with the module loaded, for comparing the two.
 *
 * <p>The choice is made once per kernel call, on the calling thread, and handed to every worker
 * thread the call uses, so {@link #scalar(Supplier)} holds for all the work it wraps.
 *
 * <pre>{@code
 * Tensor y = x.softmax();                              // vector kernel where the module is loaded
 * Tensor ref = Kernels.scalar(() -> x.softmax());      // the scalar loop, for comparison
 * }</pre>
 */
public final class Kernels {
    private static final boolean AVAILABLE = detect();
    private static final ThreadLocal<Boolean> FORCE_SCALAR = ThreadLocal.withInitial(() -> false);
    private static volatile boolean noticed;

    private Kernels() {
    }

    /** True when float32 kernels called from this thread run their vector loops. */
    public static boolean vector() {
        if (!AVAILABLE) {
            notice();
            return false;
        }
        return !FORCE_SCALAR.get();
    }

    /** True when the vector module is loaded (and not switched off), whatever this thread forces. */
    public static boolean vectorAvailable() {
        return AVAILABLE;
    }

    /** Runs {@code work} with every kernel it calls on this thread taking its scalar loop. */
    public static <T> T scalar(Supplier<T> work) {
        boolean before = FORCE_SCALAR.get();
        FORCE_SCALAR.set(true);
        try {
            return work.get();
        } finally {
            FORCE_SCALAR.set(before);
        }
    }

    /** Whether this thread asked for the scalar loops (for {@link Parallel}, which hands it to its workers). */
    static boolean forcedScalar() {
        return FORCE_SCALAR.get();
    }

    /** Runs {@code work} on this thread with the scalar loops forced or not. */
    static void runForced(boolean scalar, Runnable work) {
        boolean before = FORCE_SCALAR.get();
        FORCE_SCALAR.set(scalar);
        try {
            work.run();
        } finally {
            FORCE_SCALAR.set(before);
        }
    }

    /** One line saying which loops run and why, for logs and {@code --version}. */
    public static String describe() {
        if (AVAILABLE) {
            return "vector kernels (" + VectorShape.bits() + "-bit float vectors, jdk.incubator.vector)";
        }
        return enabledByProperty() ? "scalar loops (the JDK vector module is not loaded; --add-modules jdk.incubator.vector"
                + " runs the vector kernels)" : "scalar loops (-Dreformer.simd=false)";
    }

    private static void notice() {
        if (!noticed && enabledByProperty()) {
            noticed = true;
            System.err.println("reformer: the JDK vector module is not loaded, so float32 kernels run as plain loops"
                    + " (within about 2x); start java with --add-modules jdk.incubator.vector for the vector kernels");
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
