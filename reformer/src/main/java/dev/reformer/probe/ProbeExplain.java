package dev.reformer.probe;

import dev.reformer.attention.Trace;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Prints, stage by stage, what LSH attention did on a probe case: the text that
 * {@code docs/lsh-walkthrough.md} explains. One example (batch row) at a time.
 */
public final class ProbeExplain {
    private ProbeExplain() {
    }

    public static void print(Probe.Result r, int row, PrintStream out) {
        ProbeCase c = r.probeCase();
        Trace t = r.trace();
        int length = t.length();
        int hashes = t.hashes();
        int chunkLength = t.chunkLength();
        out.printf(Locale.ROOT, "LSH attention, example %d of %d: L=%d D=%d, K=%d rounds, NB=%d buckets, C=%d"
                        + " (%d chunks), %d chunk(s) before, %d after, causal=%s%n%n",
                row, c.batch(), length, c.dim(), hashes, c.buckets(), chunkLength, t.chunks(), c.chunksBefore(), c.chunksAfter(),
                c.causal());

        out.println("1. hash: bucket of each position, round k adding k*NB = k*" + c.buckets());
        out.print("   position ");
        for (int p = 0; p < length; p++) {
            out.printf(Locale.ROOT, "%4d", p);
        }
        out.println();
        for (int k = 0; k < hashes; k++) {
            out.printf(Locale.ROOT, "   round %-3d", k);
            for (int p = 0; p < length; p++) {
                out.printf(Locale.ROOT, "%4d", t.bucket(row, k * length + p));
            }
            out.println();
        }

        out.println();
        out.println("2. sort by L*bucket + position; 3. cut into chunks of " + chunkLength
                + " (entries are round:position, [bucket])");
        for (int chunk = 0; chunk < t.chunks(); chunk++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < chunkLength; i++) {
                long item = t.sortedItem(row, chunk * chunkLength + i);
                sb.append(String.format(Locale.ROOT, " %d:%d[%d]", item / length, item % length, t.bucket(row, (int) item)));
            }
            out.printf(Locale.ROOT, "   chunk %-3d%s%n", chunk, sb);
        }

        out.println();
        out.println("4. look around and attend: each query's weights over the positions its window holds"
                + " (weights below 0.005 left out)");
        for (int chunk = 0; chunk < t.chunks(); chunk++) {
            long[] keys = t.windowPositions(row, chunk);
            out.printf(Locale.ROOT, "   chunk %d sees positions %s%n", chunk, java.util.Arrays.toString(keys));
            for (int i = 0; i < chunkLength; i++) {
                long item = t.sortedItem(row, chunk * chunkLength + i);
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < keys.length; j++) {
                    double w = t.weight(row, chunk, i, j);
                    if (w >= 0.005) {
                        sb.append(String.format(Locale.ROOT, " %d:%.3f", keys[j], w));
                    }
                }
                out.printf(Locale.ROOT, "     query %d:%-3d->%s%n", item / length, item % length, sb);
            }
        }

        out.println();
        out.println("5. undo the sort, 6. combine rounds with weights softmax_k(logsumexp_k)");
        for (int p = 0; p < length; p++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < hashes; k++) {
                sb.append(String.format(Locale.ROOT, " round %d: %.3f", k, t.roundWeight(row, k, p)));
            }
            out.printf(Locale.ROOT, "   position %-3d%s%n", p, sb);
        }

        out.println();
        out.println("Final attention of each query position on each key position (weights below 0.005 left out)");
        double[][] a = t.attentionMatrix(row);
        for (int q = 0; q < length; q++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < length; k++) {
                if (a[q][k] >= 0.005) {
                    sb.append(String.format(Locale.ROOT, " %d:%.3f", k, a[q][k]));
                }
            }
            out.printf(Locale.ROOT, "   %-3d->%s%n", q, sb);
        }
    }
}
