package dev.reformer.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress line of a run: a bar, the step, the latest loss and metric, tokens per second and
 * the time left. On a terminal it redraws one line (at most a few times a second); into a file or
 * pipe it prints a line every {@code every} steps, so logs stay readable.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final long every;
    private long lastDraw;
    private boolean drawn;

    Progress(PrintStream out, boolean terminal, long total) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.every = Math.max(1, total / 20);
    }

    /** Shows the state after {@code step} of {@code total} updates; {@code secondsLeft} may be NaN (unknown yet). */
    void update(long step, String stats, double tokensPerSecond, double secondsLeft) {
        long now = System.nanoTime();
        boolean last = step == total;
        if (terminal) {
            if (!last && drawn && now - lastDraw < 200_000_000L) {
                return;
            }
            int width = 24;
            int filled = (int) (width * step / total);
            String bar = "=".repeat(filled) + (filled < width ? ">" : "") + " ".repeat(Math.max(0, width - filled - 1));
            out.print(String.format(Locale.ROOT, "\r[%s] %d/%d %s | %s tok/s | ETA %s   ", bar, step, total, stats,
                    thousands(tokensPerSecond), duration(secondsLeft)));
            out.flush();
            drawn = true;
        } else if (step % every == 0 || last) {
            out.println(String.format(Locale.ROOT, "step %d/%d %s | %s tok/s | ETA %s", step, total, stats,
                    thousands(tokensPerSecond), duration(secondsLeft)));
        }
        lastDraw = now;
    }

    /** Prints {@code line} on a line of its own (below the bar on a terminal). */
    void println(String line) {
        if (terminal && drawn) {
            out.println();
            drawn = false;
        }
        out.println(line);
    }

    void finish() {
        if (terminal && drawn) {
            out.println();
            drawn = false;
        }
    }

    static String thousands(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%,.0f", v) : "-";
    }

    /** {@code 3m07s}, or {@code 2h05m} from an hour on; {@code -} when unknown. */
    public static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "-";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
