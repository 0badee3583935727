package dev.reformer.train;

import java.nio.file.Path;

/**
 * A training run stopped by an unexpected error (a bug, or the JVM out of memory). {@link #runDir}
 * is the run folder when it is still there (it failed after its first checkpoint, which is kept
 * with the metrics up to it), or null when the run was removed (it failed before its first
 * checkpoint, so nothing of it was worth keeping). The command line writes the stack trace to a
 * log beside the run and prints one line.
 */
public final class RunFailedException extends RuntimeException {
    private final transient Path runDir;

    public RunFailedException(Path runDir, Throwable cause) {
        super(cause.toString(), cause);
        this.runDir = runDir;
    }

    /** The run folder that is kept, or null when the run was removed. */
    public Path runDir() {
        return runDir;
    }
}
