package dev.reformer.attention;

import static dev.reformer.attention.AttentionFixtures.normal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Properties every attention variant must have: causality, batching, padding. */
class AttentionPropertiesTest {
    static Stream<Arguments> causalVariants() {
        return Stream.of(
                Arguments.of("lsh", LshAttention.builder().hashes(2).buckets(4).chunkLength(4).causal(true).build()),
                Arguments.of("lsh, chunk after", LshAttention.builder().hashes(3).buckets(4).chunkLength(4)
                        .chunksAfter(1).causal(true).dedupeRounds(true).build()),
                Arguments.of("local", LocalAttention.separate(4, 1, 1, true, 0.5)),
                Arguments.of("local shared-QK", LocalAttention.sharedQk(4, 1, 0, true, 1.0, -1e5)),
                Arguments.of("full", FullAttention.separate(true, 0.5)),
                Arguments.of("full shared-QK", FullAttention.sharedQk(true, 1.0, -1e5)));
    }

    static Stream<Arguments> allVariants() {
        return Stream.concat(causalVariants(), Stream.of(
                Arguments.of("lsh, not causal", LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build()),
                Arguments.of("local, not causal", LocalAttention.separate(4, 1, 1, false, 0.5)),
                Arguments.of("full, not causal", FullAttention.separate(false, 0.5))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("causalVariants")
    void noQueryAttendsToALaterPosition(String name, Attention attention) {
        Tensor q = normal(1, 2, 2, 12, 4);
        double[][][][] w = AttentionFixtures.weights(attention, q, normal(2, 2, 2, 12, 4), normal(3, 2, 2, 12, 4), null, 7);
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 2; h++) {
                for (int t = 0; t < 12; t++) {
                    double total = 0;
                    for (int k = 0; k < 12; k++) {
                        if (k > t) {
                            assertThat(w[b][h][t][k]).as("%s: query %d on later key %d", name, t, k).isEqualTo(0.0);
                        }
                        total += w[b][h][t][k];
                    }
                    assertThat(total).as("%s: weights of query %d", name, t).isCloseTo(1.0, within(1e-9));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allVariants")
    void aBatchGivesWhatEachExampleGivesAlone(String name, Attention attention) {
        Tensor q = normal(4, 3, 2, 8, 4);
        Tensor k = normal(5, 3, 2, 8, 4);
        Tensor v = normal(6, 3, 2, 8, 4);
        // LSH rotations are drawn per example: give each example alone the rotations it had in the batch.
        int hashes = attention instanceof LshAttention lsh ? lsh.hashes() : 1;
        Tensor rotations = normal(7, 3, 2, 4, hashes, 2);
        Tensor batched = run(attention, q, k, v, null, rotations);
        for (int b = 0; b < 3; b++) {
            Tensor alone = run(attention, q.slice(0, b, b + 1), k.slice(0, b, b + 1), v.slice(0, b, b + 1), null,
                    rotations.slice(0, b, b + 1));
            assertThat(alone.toDoubleArray()).as("%s, example %d", name, b)
                    .containsExactly(batched.slice(0, b, b + 1).toDoubleArray(), within(1e-12));
        }
    }

    static Stream<Arguments> paddableVariants() {
        return Stream.of(
                Arguments.of("lsh", LshAttention.builder().hashes(2).buckets(4).chunkLength(4).build(), true),
                Arguments.of("lsh, causal, dedupe", LshAttention.builder().hashes(3).buckets(4).chunkLength(4)
                        .causal(true).dedupeRounds(true).build(), false),
                Arguments.of("local", LocalAttention.separate(4, 1, 1, false, 0.5), true),
                Arguments.of("local, causal", LocalAttention.separate(4, 1, 0, true, 0.5), false),
                Arguments.of("full", FullAttention.separate(false, 0.5), true),
                Arguments.of("full shared-QK", FullAttention.sharedQk(false, 1.0, -1e5), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paddableVariants")
    void paddingDoesNotChangeOutputsAtRealPositions(String name, Attention attention, boolean seesLaterPositions) {
        int real = 9;
        Tensor padding = Tensor.concat(1, Tensor.zeros(DType.BOOL, 2, real), Tensor.ones(DType.BOOL, 2, 12 - real));
        Tensor q = normal(8, 2, 2, 12, 4);
        Tensor k = normal(9, 2, 2, 12, 4);
        Tensor v = normal(10, 2, 2, 12, 4);
        // Same real prefix, different junk in the padded tail.
        Tensor q2 = Tensor.concat(2, q.slice(2, 0, real), normal(11, 2, 2, 12 - real, 4));
        Tensor k2 = Tensor.concat(2, k.slice(2, 0, real), normal(12, 2, 2, 12 - real, 4).mul(10.0));
        Tensor v2 = Tensor.concat(2, v.slice(2, 0, real), normal(13, 2, 2, 12 - real, 4).mul(100.0));
        Tensor a = run(attention, q, k, v, padding, null).slice(2, 0, real);
        Tensor b = run(attention, q2, k2, v2, padding, null).slice(2, 0, real);
        assertThat(a.toDoubleArray()).as(name).containsExactly(b.toDoubleArray(), within(1e-12));
        if (seesLaterPositions) {
            // The check above can fail: without the mask, the same variant does see the junk.
            Tensor unmasked = run(attention, q2, k2, v2, null, null).slice(2, 0, real);
            assertThat(unmasked.toDoubleArray()).as("%s without the mask", name).isNotEqualTo(a.toDoubleArray());
        }
    }

    private static Tensor run(Attention attention, Tensor q, Tensor k, Tensor v, Tensor padding, Tensor rotations) {
        Variable qv = Variable.constant(q);
        Variable kv = attention.sharesQueryKey() ? qv : Variable.constant(k);
        if (attention instanceof LshAttention lsh) {
            Tensor r = rotations != null ? rotations : normal(99, q.size(0), q.size(1), q.size(3), lsh.hashes(), lsh.buckets() / 2);
            return lsh.attendWithRotations(qv, Variable.constant(v), padding, r, null).data();
        }
        return attention.attend(qv, kv, Variable.constant(v), padding, new Generator(0)).data();
    }
}
