package dev.reformer.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Long work that Ctrl-C (or any JVM shutdown) asks to stop after its step in progress: a shutdown
 * hook calls {@code requestStop} and waits, up to two minutes, for the work to save and return.
 */
final class StopOnInterrupt {
    /** The work; returns the command's exit code. */
    interface Work {
        int run() throws Exception;
    }

    private StopOnInterrupt() {
    }

    static int run(String hookName, Runnable requestStop, Work work) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            requestStop.run();
            try {
                done.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, hookName);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return work.run();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the work is saved
            }
        }
    }
}
