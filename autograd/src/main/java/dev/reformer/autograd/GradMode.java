package dev.reformer.autograd;

/**
 * Whether ops record a graph. On by default; a no-grad scope turns it off for the current thread
 * (evaluation, numeric differentiation, the recomputation inside a reversible layer's forward).
 *
 * <pre>{@code
 * try (GradMode.Scope noGrad = GradMode.disabled()) {
 *     Variable logits = model.forward(tokens);   // nothing is recorded, nothing is saved
 * }
 * }</pre>
 */
public final class GradMode {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** Turns recording off until the returned scope is closed. */
    public static Scope disabled() {
        return new Scope(false);
    }

    /** Turns recording on until the returned scope is closed (inside a no-grad scope). */
    public static Scope enabled() {
        return new Scope(true);
    }

    /** Restores the previous mode when closed. */
    public static final class Scope implements AutoCloseable {
        private final boolean previous;

        private Scope(boolean on) {
            previous = ENABLED.get();
            ENABLED.set(on);
        }

        @Override
        public void close() {
            ENABLED.set(previous);
        }
    }
}
