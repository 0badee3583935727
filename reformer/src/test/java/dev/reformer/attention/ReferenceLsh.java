package dev.reformer.attention;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * LSH attention written a second time, as plainly as possible, straight from the probe spec:
 * double loops, no tensors, no autograd. The production code is tested against it.
 */
public final class ReferenceLsh {
    private ReferenceLsh() {
    }

    public record Settings(int hashes, int buckets, int chunkLength, int before, int after, boolean causal, double scale,
            double selfMaskValue, boolean dedupe) {
    }

    /** Positions in the window of a chunk: the chunks before, itself, the chunks after, cyclically. */
    private static List<Integer> window(Integer[] order, int chunk, int chunks, Settings s, int length) {
        List<Integer> keys = new ArrayList<>();
        for (int o = -s.before(); o <= s.after(); o++) {
            int c = Math.floorMod(chunk + o, chunks);
            for (int i = 0; i < s.chunkLength(); i++) {
                keys.add(order[c * s.chunkLength() + i] % length);
            }
        }
        return keys;
    }

    /** Output [L][D] of one example: qk, v [L][D]; rotations [D][K][NB/2]. */
    public static double[][] attend(double[][] qk, double[][] v, double[][][] rotations, Settings s) {
        int length = qk.length;
        int dim = qk[0].length;
        int items = s.hashes() * length;
        // hash
        int[] bucket = new int[items];
        for (int k = 0; k < s.hashes(); k++) {
            for (int t = 0; t < length; t++) {
                double best = Double.NEGATIVE_INFINITY;
                int arg = 0;
                for (int j = 0; j < s.buckets(); j++) {
                    double proj = 0;
                    for (int d = 0; d < dim; d++) {
                        proj += qk[t][d] * rotations[d][k][j % (s.buckets() / 2)];
                    }
                    double value = j < s.buckets() / 2 ? proj : -proj;
                    if (value > best) {
                        best = value;
                        arg = j;
                    }
                }
                bucket[k * length + t] = k * s.buckets() + arg;
            }
        }
        // sort items by L * bucket + position
        Integer[] order = new Integer[items];
        for (int i = 0; i < items; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingLong(i -> (long) length * bucket[i] + i % length));
        int[] slotOf = new int[items];
        for (int slot = 0; slot < items; slot++) {
            slotOf[order[slot]] = slot;
        }
        int chunks = items / s.chunkLength();
        double[][] out = new double[length][dim];
        double[][] perItemOut = new double[items][dim];
        double[] perItemLse = new double[items];
        for (int slot = 0; slot < items; slot++) {
            int item = order[slot];
            int tq = item % length;
            int chunk = slot / s.chunkLength();
            List<Integer> keys = window(order, chunk, chunks, s, length);
            double[] logits = new double[keys.size()];
            for (int j = 0; j < keys.size(); j++) {
                int tk = keys.get(j);
                double norm = 0;
                for (int d = 0; d < dim; d++) {
                    norm += qk[tk][d] * qk[tk][d];
                }
                norm = Math.max(Math.sqrt(norm), 1e-12);
                double dot = 0;
                for (int d = 0; d < dim; d++) {
                    dot += qk[tq][d] * qk[tk][d] / norm;
                }
                logits[j] = s.scale() * dot;
                if (s.causal() && tk > tq) {
                    logits[j] = -1e9;
                }
                if (tk == tq) {
                    logits[j] = s.selfMaskValue();
                }
                if (s.dedupe()) {
                    // Paper eq. 16: in how many rounds' windows of this query does the key appear?
                    int count = 0;
                    for (int r = 0; r < s.hashes(); r++) {
                        List<Integer> windowOfRound = window(order, slotOf[r * length + tq] / s.chunkLength(), chunks,
                                s, length);
                        count += windowOfRound.contains(tk) ? 1 : 0;
                    }
                    logits[j] -= Math.log(count);
                }
            }
            double max = Arrays.stream(logits).max().orElseThrow();
            double sum = 0;
            for (double l : logits) {
                sum += Math.exp(l - max);
            }
            double lse = max + Math.log(sum);
            perItemLse[item] = lse;
            for (int j = 0; j < keys.size(); j++) {
                double w = Math.exp(logits[j] - lse);
                for (int d = 0; d < dim; d++) {
                    perItemOut[item][d] += w * v[keys.get(j)][d];
                }
            }
        }
        // combine rounds with softmax over the rounds' logsumexps
        for (int t = 0; t < length; t++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < s.hashes(); k++) {
                max = Math.max(max, perItemLse[k * length + t]);
            }
            double z = 0;
            for (int k = 0; k < s.hashes(); k++) {
                z += Math.exp(perItemLse[k * length + t] - max);
            }
            for (int k = 0; k < s.hashes(); k++) {
                double w = Math.exp(perItemLse[k * length + t] - max) / z;
                for (int d = 0; d < dim; d++) {
                    out[t][d] += w * perItemOut[k * length + t][d];
                }
            }
        }
        return out;
    }
}
