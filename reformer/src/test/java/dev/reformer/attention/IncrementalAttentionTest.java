package dev.reformer.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.GradMode;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Position t of {@link IncrementalAttention} equals position t of the variant's whole-sequence call
 * on positions 0..t, padded as the model pads, for every t: LSH over rounds, buckets and windows,
 * local and full attention, shared and separate queries and keys.
 */
class IncrementalAttentionTest {
    private static final int HEADS = 2;
    private static final int DIM = 8;
    private static final int LENGTH = 37;

    /** The whole-sequence output at position t: the prefix 0..t padded to a multiple of {@code multiple}. */
    private static float[] wholeSequenceAt(Function<Variable[], Variable> attend, Tensor q, Tensor k, Tensor v, int t,
            int multiple) {
        int padded = (t + 1 + multiple - 1) / multiple * multiple;
        Tensor[] parts = new Tensor[3];
        Tensor[] in = {q, k, v};
        for (int i = 0; i < 3; i++) {
            Tensor prefix = in[i].slice(2, 0, t + 1);
            parts[i] = padded == t + 1 ? prefix
                    : Tensor.concat(2, prefix, Tensor.zeros(DType.FLOAT32, 1, HEADS, padded - t - 1, DIM));
        }
        Tensor padding = padded == t + 1 ? null
                : Tensor.concat(1, Tensor.zeros(DType.BOOL, 1, t + 1), Tensor.ones(DType.BOOL, 1, padded - t - 1));
        Variable[] x = {Variable.constant(parts[0]), Variable.constant(parts[1]), Variable.constant(parts[2]),
            padding == null ? null : Variable.constant(padding)};
        float[] out = attend.apply(x).data().slice(2, t, t + 1).toFloatArray();          // (1, H, 1, D)
        return out;
    }

    private static void check(String what, Function<Variable[], Variable> attend, IncrementalAttention inc, boolean shared,
            int multiple) {
        Generator g = new Generator(11);
        Tensor q = g.normal(DType.FLOAT32, 0, 1, 1, HEADS, LENGTH, DIM);
        Tensor k = shared ? q : g.normal(DType.FLOAT32, 0, 1, 1, HEADS, LENGTH, DIM);
        Tensor v = g.normal(DType.FLOAT32, 0, 1, 1, HEADS, LENGTH, DIM);
        float[] qa = headMajor(q);
        float[] ka = headMajor(k);
        float[] va = headMajor(v);
        try (GradMode.Scope off = GradMode.disabled()) {
            for (int t = 0; t < LENGTH; t++) {
                int padded = (t + 1 + multiple - 1) / multiple * multiple;
                float[] step = inc.next(row(qa, t), row(ka, t), row(va, t), padded);
                float[] want = wholeSequenceAt(attend, q, k, v, t, multiple);
                for (int i = 0; i < step.length; i++) {
                    assertThat((double) step[i]).as("%s, position %d, element %d", what, t, i).isCloseTo(want[i], within(2e-5));
                }
            }
        }
    }

    /** (1, H, L, D) as [t][h * D + e]. */
    private static float[] headMajor(Tensor x) {
        float[] a = x.toFloatArray();
        float[] out = new float[a.length];
        for (int h = 0; h < HEADS; h++) {
            for (int t = 0; t < LENGTH; t++) {
                System.arraycopy(a, (h * LENGTH + t) * DIM, out, (t * HEADS + h) * DIM, DIM);
            }
        }
        return out;
    }

    private static float[] row(float[] headMajor, int t) {
        return java.util.Arrays.copyOfRange(headMajor, t * HEADS * DIM, (t + 1) * HEADS * DIM);
    }

    private static Tensor padding(Variable[] x) {
        return x[3] == null ? null : x[3].data();
    }

    @Test
    void lshMatchesTheWholeSequenceCallAtEveryPosition() {
        int[][] settings = {{1, 4, 1, 0}, {2, 4, 1, 0}, {4, 8, 1, 0}, {2, 4, 1, 1}, {3, 6, 2, 0}};
        for (int[] s : settings) {
            LshAttention lsh = LshAttention.builder().hashes(s[0]).buckets(s[1]).chunkLength(4).chunksBefore(s[2])
                    .chunksAfter(s[3]).causal(true).logitScale(0.35).build();
            Tensor rotations = lsh.drawRotations(new Generator(3), DType.FLOAT32, 1, HEADS, DIM);
            IncrementalAttention inc = lsh.incremental(HEADS, DIM, DType.FLOAT32, new Generator(3));
            check("LSH K=" + s[0] + " NB=" + s[1] + " before " + s[2] + " after " + s[3],
                    x -> lsh.attendWithRotations(x[0], x[2], padding(x), rotations, null), inc, true, 4);
            // padded to a multiple of 12, as a model whose other layers use chunks of 3 or 12 would pad
            IncrementalAttention wide = lsh.incremental(HEADS, DIM, DType.FLOAT32, new Generator(3));
            check("LSH K=" + s[0] + " NB=" + s[1] + " before " + s[2] + " after " + s[3] + ", padded to a multiple of 12",
                    x -> lsh.attendWithRotations(x[0], x[2], padding(x), rotations, null), wide, true, 12);
        }
    }

    @Test
    void localAndFullAttentionMatchTheWholeSequenceCall() {
        for (boolean shared : new boolean[] {true, false}) {
            LocalAttention local = shared ? LocalAttention.sharedQk(4, 1, 0, true, 0.35, -1e5)
                    : LocalAttention.separate(4, 1, 0, true, 0.35);
            check("local, shared " + shared, x -> local.attend(x[0], shared ? x[0] : x[1], x[2], padding(x), null),
                    local.incremental(HEADS, DIM, DType.FLOAT32, null), shared, 4);
            check("local, shared " + shared + ", padded to a multiple of 12",
                    x -> local.attend(x[0], shared ? x[0] : x[1], x[2], padding(x), null),
                    local.incremental(HEADS, DIM, DType.FLOAT32, null), shared, 12);
            FullAttention full = shared ? FullAttention.sharedQk(true, 0.35, -1e5) : FullAttention.separate(true, 0.35);
            check("full, shared " + shared, x -> full.attend(x[0], shared ? x[0] : x[1], x[2], padding(x), null),
                    full.incremental(HEADS, DIM, DType.FLOAT32, null), shared, 4);
        }
    }
}
