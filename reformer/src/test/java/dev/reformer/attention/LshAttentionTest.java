package dev.reformer.attention;

import static dev.reformer.attention.AttentionFixtures.example;
import static dev.reformer.attention.AttentionFixtures.normal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class LshAttentionTest {
    static Stream<Arguments> settings() {
        return Stream.of(
                Arguments.of(new ReferenceLsh.Settings(1, 4, 4, 1, 0, false, 1.0, -1e5, false)),
                Arguments.of(new ReferenceLsh.Settings(2, 4, 4, 1, 0, true, 1.0, -1e5, false)),
                Arguments.of(new ReferenceLsh.Settings(3, 6, 3, 1, 0, false, 0.5, -5e4, false)),
                Arguments.of(new ReferenceLsh.Settings(2, 4, 4, 1, 1, true, 1.0, -1e5, false)),
                Arguments.of(new ReferenceLsh.Settings(2, 2, 8, 0, 0, false, 1.0, -1e5, false)),
                Arguments.of(new ReferenceLsh.Settings(4, 4, 4, 1, 0, false, 1.0, -1e5, true)),
                Arguments.of(new ReferenceLsh.Settings(2, 8, 2, 2, 1, true, 2.0, -1e5, true)));
    }

    private static LshAttention build(ReferenceLsh.Settings s) {
        return LshAttention.builder().hashes(s.hashes()).buckets(s.buckets()).chunkLength(s.chunkLength())
                .chunksBefore(s.before()).chunksAfter(s.after()).causal(s.causal()).logitScale(s.scale())
                .selfMaskValue(s.selfMaskValue()).dedupeRounds(s.dedupe()).build();
    }

    @ParameterizedTest
    @MethodSource("settings")
    void matchesAPlainLoopImplementationOfTheSpec(ReferenceLsh.Settings s) {
        int batch = 2;
        int heads = 2;
        int length = 12;
        int dim = 3;
        Tensor qk = normal(1, batch, heads, length, dim);
        Tensor v = normal(2, batch, heads, length, dim);
        Tensor rotations = normal(3, batch, heads, dim, s.hashes(), s.buckets() / 2);
        Variable out = build(s).attendWithRotations(Variable.constant(qk), Variable.constant(v), null, rotations, null);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double[][][] rot = rotationsOf(rotations, b, h, dim, s.hashes(), s.buckets() / 2);
                double[][] expected = ReferenceLsh.attend(example(qk, b, h), example(v, b, h), rot, s);
                double[][] actual = example(out.data(), b, h);
                for (int t = 0; t < length; t++) {
                    assertThat(actual[t]).as("example %d head %d position %d", b, h, t)
                            .containsExactly(expected[t], within(1e-10));
                }
            }
        }
    }

    private static double[][][] rotationsOf(Tensor rotations, int b, int h, int dim, int hashes, int half) {
        double[] all = rotations.toDoubleArray();
        long heads = rotations.size(1);
        double[][][] out = new double[dim][hashes][half];
        for (int d = 0; d < dim; d++) {
            for (int k = 0; k < hashes; k++) {
                for (int j = 0; j < half; j++) {
                    out[d][k][j] = all[(int) (((((long) b * heads + h) * dim + d) * hashes + k) * half + j)];
                }
            }
        }
        return out;
    }

    @Test
    void oneRoundInOneChunkWithNoNeighboursIsSharedQkFullAttention() {
        for (boolean causal : new boolean[] {false, true}) {
            Tensor qk = normal(4, 2, 2, 8, 4);
            Tensor v = normal(5, 2, 2, 8, 4);
            Tensor upstream = normal(6, 2, 2, 8, 4);
            LshAttention lsh = LshAttention.builder().hashes(1).buckets(4).chunkLength(8).chunksBefore(0)
                    .causal(causal).build();
            FullAttention full = FullAttention.sharedQk(causal, 1.0, Masks.SELF_MASK_VALUE);
            Variable[] lshGrads = run(lsh, qk, v, upstream);
            Variable[] fullGrads = run(full, qk, v, upstream);
            for (int i = 0; i < 3; i++) {
                Tensor a = i == 0 ? lshGrads[2].data() : lshGrads[i - 1].grad();
                Tensor b = i == 0 ? fullGrads[2].data() : fullGrads[i - 1].grad();
                assertThat(a.toDoubleArray()).as("causal=%s, %s", causal, new String[] {"output", "grad qk", "grad v"}[i])
                        .containsExactly(b.toDoubleArray(), within(1e-10));
            }
        }
    }

    private static Variable[] run(Attention attention, Tensor qkValue, Tensor vValue, Tensor upstream) {
        Variable qk = Variable.parameter(qkValue);
        Variable v = Variable.parameter(vValue);
        Variable out = attention.attend(qk, qk, v, null, new Generator(9));
        out.mul(Variable.constant(upstream)).sum().backward();
        return new Variable[] {qk, v, out};
    }

    @Test
    void factorisedBucketsCombineOneArgmaxPerFactor() {
        // NB = 2 * 4: the first factor's argmax is the low digit, the second's the high one.
        Tensor qk = normal(7, 1, 1, 6, 3);
        Tensor rotations = normal(8, 1, 1, 3, 1, 3);                        // S = 2/2 + 4/2 = 3
        LshAttention factorised = LshAttention.builder().bucketFactors(2, 4).chunkLength(6).build();
        long[] ids = factorised.hash(qk.reshape(1, 6, 3), rotations, null, 1).toLongArray();
        double[][] x = example(qk, 0, 0);
        double[] r = rotations.toDoubleArray();                              // (d, j) at d * 3 + j
        for (int t = 0; t < 6; t++) {
            double[] proj = new double[3];
            for (int j = 0; j < 3; j++) {
                for (int d = 0; d < 3; d++) {
                    proj[j] += x[t][d] * r[d * 3 + j];
                }
            }
            int low = proj[0] >= -proj[0] ? 0 : 1;
            double[] second = {proj[1], proj[2], -proj[1], -proj[2]};
            int high = 0;
            for (int j = 1; j < 4; j++) {
                high = second[j] > second[high] ? j : high;
            }
            assertThat(ids[t]).as("position %d", t).isEqualTo(low + 2L * high);
        }
    }

    @Test
    void noRealPositionAttendsToAPaddedOneAndPaddingHasItsOwnBucket() {
        Tensor qk = normal(10, 2, 1, 8, 4);
        Tensor v = normal(11, 2, 1, 8, 4);
        Tensor padding = Tensor.of(new long[] {0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1}, 2, 8).cast(DType.BOOL);
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build();
        double[][][][] w = AttentionFixtures.weights(lsh, qk, qk, v, padding, 3);
        boolean[][] padded = {{false, false, false, false, false, true, true, true},
            {false, false, false, false, false, false, true, true}};
        for (int b = 0; b < 2; b++) {
            for (int q = 0; q < 8; q++) {
                for (int k = 0; k < 8; k++) {
                    if (!padded[b][q] && padded[b][k]) {
                        assertThat(w[b][0][q][k]).as("example %d: query %d on padded key %d", b, q, k).isZero();
                    }
                }
            }
        }
        long[] ids = lsh.hash(qk.reshape(2, 8, 4), normal(12, 2, 1, 4, 2, 2), padding, 1).toLongArray();
        for (int b = 0; b < 2; b++) {
            for (int k = 0; k < 2; k++) {
                for (int t = 0; t < 8; t++) {
                    long id = ids[(b * 2 + k) * 8 + t];
                    if (padded[b][t]) {
                        assertThat(id).isEqualTo(k * 5L + 4);                  // bucket NB, offset k * (NB + 1)
                    } else {
                        assertThat(id).isBetween(k * 5L, k * 5L + 3);
                    }
                }
            }
        }
    }

    @Test
    void rotationsAreDrawnPerExampleUnlessSharedByTheBatch() {
        Tensor one = normal(13, 1, 1, 8, 4);
        Tensor twice = Tensor.concat(0, one, one);
        Tensor v = Tensor.concat(0, normal(14, 1, 1, 8, 4), normal(14, 1, 1, 8, 4));
        LshAttention shared = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).rotationsSharedByBatch(true).build();
        LshAttention perExample = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build();
        assertThat(shared.drawRotations(new Generator(1), DType.FLOAT64, 2, 1, 4).shape()).containsExactly(1, 1, 4, 2, 2);
        assertThat(perExample.drawRotations(new Generator(1), DType.FLOAT64, 2, 1, 4).shape()).containsExactly(2, 1, 4, 2, 2);
        Variable qk = Variable.constant(twice);
        Tensor out = shared.attend(qk, qk, Variable.constant(v), null, new Generator(2)).data();
        assertThat(out.slice(0, 0, 1).toDoubleArray()).containsExactly(out.slice(0, 1, 2).toDoubleArray());
        // Per example, the two copies are hashed with different rotations, so they come out different.
        Tensor each = perExample.attend(qk, qk, Variable.constant(v), null, new Generator(2)).data();
        assertThat(each.slice(0, 0, 1).toDoubleArray()).isNotEqualTo(each.slice(0, 1, 2).toDoubleArray());
    }

    @Test
    void aReplayReusesTheRecordedBucketsWhateverTheInput() {
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build();
        Variable a = Variable.constant(normal(20, 1, 1, 8, 4));
        Variable b = Variable.constant(normal(21, 1, 1, 8, 4));
        Variable v = Variable.constant(normal(22, 1, 1, 8, 4));
        HashReplay replay = HashReplay.recording();
        Tensor first = lsh.attend(a, a, v, null, new Generator(1), replay).data();
        assertThat(replay.recorded()).hasSize(1);
        long[] recorded = replay.recorded().get(0).toLongArray();
        // Replaying on a different input: same buckets as recorded, whereas hashing b itself differs.
        Tensor replayedOnB = lsh.attend(b, b, v, null, new Generator(1), replay.rewind()).data();
        Tensor hashedB = lsh.attend(b, b, v, null, new Generator(1)).data();
        assertThat(replayedOnB.toDoubleArray()).isNotEqualTo(hashedB.toDoubleArray());
        assertThat(lsh.hash(b.data().reshape(1, 8, 4), normal(23, 1, 1, 4, 2, 2), null, 1).toLongArray())
                .isNotEqualTo(recorded);
        Tensor replayedOnA = lsh.attend(a, a, v, null, new Generator(1), replay.rewind()).data();
        assertThat(replayedOnA.toDoubleArray()).containsExactly(first.toDoubleArray());
        assertThatThrownBy(() -> {
            HashReplay once = HashReplay.recording().rewind();
            lsh.attend(a, a, v, null, new Generator(1), once);
        }).isInstanceOf(IllegalStateException.class).hasMessageContaining("were recorded");
    }

    @Test
    void aZeroVectorHasFiniteGradients() {
        Tensor qkValue = Tensor.concat(2, normal(24, 1, 1, 3, 4), Tensor.zeros(DType.FLOAT64, 1, 1, 1, 4),
                normal(25, 1, 1, 4, 4));
        Variable qk = Variable.parameter(qkValue);
        Variable v = Variable.parameter(normal(26, 1, 1, 8, 4));
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build();
        lsh.attend(qk, qk, v, null, new Generator(3)).sum().backward();
        assertThat(java.util.Arrays.stream(qk.grad().toDoubleArray()).allMatch(Double::isFinite)).isTrue();
    }

    @Test
    void sameSeedSameResult() {
        Tensor qk = normal(15, 1, 2, 8, 4);
        Tensor v = normal(16, 1, 2, 8, 4);
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build();
        Variable q = Variable.constant(qk);
        double[] a = lsh.attend(q, q, Variable.constant(v), null, new Generator(5)).data().toDoubleArray();
        double[] b = lsh.attend(q, q, Variable.constant(v), null, new Generator(5)).data().toDoubleArray();
        assertThat(a).containsExactly(b);
    }

    @Test
    void badSettingsAndShapesAreRefusedWithTheFix() {
        assertThatThrownBy(() -> LshAttention.builder().buckets(5).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bucket count 5 must be even");
        LshAttention lsh = LshAttention.builder().hashes(1).buckets(4).chunkLength(64).build();
        Variable x = Variable.constant(normal(1, 1, 1, 1000, 4));
        assertThatThrownBy(() -> lsh.attend(x, x, x, null, new Generator(0))).isInstanceOf(ShapeException.class)
                .hasMessage("LSH attention: K*L = 1*1000 = 1000 items do not split into chunks of 64; pad L to 1024"
                        + " (or choose a chunk length that divides 1000)");
        Variable other = Variable.constant(normal(2, 1, 1, 1000, 4));
        assertThatThrownBy(() -> lsh.attend(x, other, x, null, new Generator(0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pass the same variable as q and k");
    }
}
