package dev.reformer.tensor.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * The engine's own loops over both cores: a range of independent work items cut into at most
 * {@link #threads()} contiguous parts, one run by the calling thread and the others by a small
 * fixed pool. Work below the grain size runs inline, with no hand-off at all.
 *
 * <p>Every kernel that uses this writes disjoint outputs per item and never combines partial
 * results across parts, so its results do not depend on the number of threads. A worker runs its
 * part with the calling thread's choice of loops ({@link Kernels#plainLoops}), so a caller that
 * asks for the plain loops gets them on every thread.
 *
 * <p>The thread count is {@code -Dreformer.threads}, else {@code OMP_NUM_THREADS} (the setting
 * ND4J's own loops follow), else the number of processors.
 */
public final class Parallel {
    private static final int THREADS = threadCount();
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS - 1,
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("reformer-worker-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false) : null;

    /** A body run over items {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private Parallel() {
    }

    /** The number of threads kernels split their work over. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in at most {@link #threads()} contiguous parts of at
     * least {@code grain} items each, and returns when all are done (rethrowing the first failure).
     */
    public static void forRange(int n, int grain, Range body) {
        int parts = (int) Math.min(threadsHere(), Math.max(1, (n + (long) grain - 1) / Math.max(grain, 1)));
        if (parts <= 1 || POOL == null) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        boolean plain = Kernels.forcedPlain();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts);
            int to = (int) ((long) n * (p + 1) / parts);
            others[p - 1] = POOL.submit(() -> Kernels.runForced(plain, () -> body.run(from, to)));
        }
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / parts));
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : others) {
            try {
                task.join();
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error err) {
            throw err;
        }
    }

    /** A body run for one work item. */
    @FunctionalInterface
    public interface Item {
        void run(int index);
    }

    /**
     * Runs {@code body} for every index in {@code [0, n)}, handing indices out one at a time to
     * whichever thread is free: for items of uneven cost (causal attention blocks). Each item must
     * write its own memory; which thread runs it then changes nothing in the results.
     */
    public static void forEach(int n, Item body) {
        forEach(n, () -> null, (scratch, i) -> body.run(i));
    }

    /** A body run for one work item with its thread's scratch space. */
    @FunctionalInterface
    public interface ItemWith<T> {
        void run(T scratch, int index);
    }

    /** {@link #forEach(int, Item)}, each thread making one scratch object with {@code scratch} and reusing it for its items. */
    public static <T> void forEach(int n, java.util.function.Supplier<T> scratch, ItemWith<T> body) {
        if (n <= 0) {
            return;
        }
        int workers = Math.min(threadsHere(), n);
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        forRange(workers, 1, (from, to) -> {
            for (int w = from; w < to; w++) {
                T mine = scratch.get();
                for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                    body.run(mine, i);
                }
            }
        });
    }

    /** Fewer threads for this thread's work, set by {@link #withThreads}; 0 when not set. */
    private static final ThreadLocal<Integer> LIMIT = ThreadLocal.withInitial(() -> 0);

    private static int threadsHere() {
        int limit = LIMIT.get();
        return limit > 0 ? Math.min(limit, THREADS) : THREADS;
    }

    /**
     * Runs {@code work} with the kernels it calls (on this thread) split over at most
     * {@code threads} threads: for showing that results do not depend on the thread count.
     */
    public static <T> T withThreads(int threads, java.util.function.Supplier<T> work) {
        int previous = LIMIT.get();
        LIMIT.set(threads);
        try {
            return work.get();
        } finally {
            LIMIT.set(previous);
        }
    }

    private static int threadCount() {
        Integer configured = Integer.getInteger("reformer.threads");
        if (configured != null && configured >= 1) {
            return configured;
        }
        try {
            String omp = System.getenv("OMP_NUM_THREADS");
            if (omp != null && Integer.parseInt(omp.trim()) >= 1) {
                return Integer.parseInt(omp.trim());
            }
        } catch (NumberFormatException ignored) {
            // an unparsable OMP_NUM_THREADS is ND4J's to report; fall back to the processor count
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
