package dev.reformer.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.attention.LshAttention;
import dev.reformer.attention.Trace;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The hash kernel's plain-Java reference gives the engine's buckets (LshAttention's trace). */
class LshHashReferenceTest {
    @Test
    void referenceBucketsAreTheEngines() {
        int batch = 2;
        int heads = 2;
        int length = 128;
        int dim = 64;
        int rounds = 3;
        int half = 8;
        Generator gen = new Generator(11);
        Tensor qk = gen.normal(DType.FLOAT32, 0, 1, batch, heads, length, dim);
        Tensor v = gen.normal(DType.FLOAT32, 0, 1, batch, heads, length, dim);
        Tensor rotations = gen.normal(DType.FLOAT32, 0, 1, 1, heads, dim, rounds, half); // shared by the batch
        Trace trace = new Trace();
        LshAttention.builder().hashes(rounds).buckets(2 * half).chunkLength(32).build()
                .attendWithRotations(Variable.constant(qk), Variable.constant(v), null, rotations, trace);

        int rows = batch * heads;
        float[] x = qk.toFloatArray();
        float[] perHead = rotations.toFloatArray(); // (1, H, D, K, S): head h's (D, K*S) matrix at h*D*K*S
        float[] perRow = new float[rows * dim * rounds * half];
        for (int row = 0; row < rows; row++) {
            System.arraycopy(perHead, (row % heads) * dim * rounds * half, perRow, row * dim * rounds * half, dim * rounds * half);
        }
        int[] reference = LshHashReference.hash(x, perRow, rows, length, dim, rounds, half);
        int nearTies = 0;
        for (int row = 0; row < rows; row++) {
            for (int r = 0; r < rounds; r++) {
                for (int t = 0; t < length; t++) {
                    int engine = (int) trace.bucket(row, r * length + t) - r * 2 * half; // less the round offset
                    int expected = reference[(row * rounds + r) * length + t];
                    if (engine != expected) {
                        // the engine sums in float32: only a near-tie may come out the other way
                        double a = LshHashReference.valueOf(x, perRow, length, dim, rounds, half, row, r, t, engine);
                        double b = LshHashReference.valueOf(x, perRow, length, dim, rounds, half, row, r, t, expected);
                        assertThat(Math.abs(a - b)).as("row %d round %d position %d: engine %d, reference %d", row, r, t, engine,
                                expected).isLessThan(1e-4 * (1 + Math.abs(b)));
                        nearTies++;
                    }
                }
            }
        }
        assertThat(nearTies).as("near-ties decided the other way").isLessThanOrEqualTo(rows * rounds * length / 100);
    }
}
