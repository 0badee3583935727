package dev.reformer.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.optim.Adam;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Training steps inside memory scopes, as the trainer and the benchmarks run them: the same
 * numbers as without scopes, no memory left behind from one step to the next, and values a
 * caller read before an optimizer step still readable until its scope closes.
 */
class ScopedTrainingTest {
    private static ReformerLM model() {
        return new ReformerLM(ReformerConfig.builder().vocabSize(16).dModel(16).dFf(32).heads(2).layers(3)
                .attention(ReformerConfig.AttentionType.LSH, ReformerConfig.AttentionType.LOCAL)
                .maxLength(32).lshHashes(2).lshBuckets(4).lshChunkLength(8).localChunkLength(8).dropout(0.1)
                .seed(5).build());
    }

    private static Tensor tokens(long seed) {
        Generator g = new Generator(seed);
        long[] ids = new long[2 * 32];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = g.nextInt(16);
        }
        return Tensor.of(ids, 2, 32);
    }

    /** Losses of 4 Adam steps, each in a memory scope or not. */
    private static List<Double> train(boolean scoped, List<Long> liveAfterEachStep) {
        ReformerLM model = model();
        Adam adam = new Adam(model.parameters(), 1e-2, 0.9, 0.999, 1e-8);
        Generator rng = new Generator(9);
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step < 4; step++) {
            MemoryScope scope = scoped ? MemoryScope.open() : null;
            try {
                adam.zeroGrad();
                Variable loss = model.loss(tokens(step), tokens(100 + step), -100, rng.split());
                loss.backward();
                adam.step();
                losses.add(loss.data().item());
            } finally {
                if (scope != null) {
                    scope.close();
                }
            }
            liveAfterEachStep.add(MemoryScope.stats().liveBytes());
        }
        return losses;
    }

    @Test
    void scopedStepsGiveTheSameLossesAndLeaveNothingBehind() {
        List<Long> live = new ArrayList<>();
        List<Double> scoped = train(true, live);
        List<Double> unscoped = train(false, new ArrayList<>());
        assertThat(scoped).containsExactlyElementsOf(unscoped);
        assertThat(scoped.get(3)).isLessThan(scoped.get(0));
        // After the first step, the pool holds the parameters, their gradients and Adam's moments,
        // the same from step to step.
        assertThat(live.subList(1, 4)).containsOnly(live.get(1));
    }

    @Test
    void aValueReadBeforeAnOptimizerStepStaysReadableUntilTheScopeCloses() {
        ReformerLM model = model();
        Adam adam = new Adam(model.parameters(), 1e-2, 0.9, 0.999, 1e-8);
        Variable weight = model.parameters().get(0);
        try (MemoryScope scope = MemoryScope.open()) {
            for (int step = 0; step < 2; step++) {
                model.loss(tokens(step), tokens(50 + step), -100, new Generator(step)).backward();
                Tensor before = weight.data();
                Tensor grad = weight.grad();
                double sum = before.sum(false).item();
                adam.step();
                adam.zeroGrad();
                assertThat(before.sum(false).item()).isEqualTo(sum);   // the old value, still intact
                assertThat(grad.isReleased()).isFalse();
                assertThat(weight.data().sum(false).item()).isNotEqualTo(sum);
            }
        }
        assertThat(weight.data().isReleased()).isFalse();
    }
}
