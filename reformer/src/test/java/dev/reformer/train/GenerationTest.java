package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.GradMode;
import dev.reformer.model.Decoder;
import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerConfig.AttentionType;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Cached generation: the decoder's logits equal the whole-sequence forward's at every position
 * where {@link Decoder#isExact} says so, and cached and uncached sampling pick the same tokens.
 */
class GenerationTest {
    static ReformerLM model(AttentionType... layers) {
        ReformerConfig config = ReformerConfig.builder().vocabSize(40).dModel(32).dFf(64).heads(2).headDim(16)
                .layers(layers.length).attention(layers).maxLength(64).lshHashes(2).lshBuckets(4).lshChunkLength(8)
                .localChunkLength(8).causal(true).sharedQueryKey(true).lshLogitScale(0.25).seed(9).build();
        ReformerLM m = new ReformerLM(config);
        m.train(false);
        return m;
    }

    private static void decoderMatchesForward(ReformerLM m) {
        Generator g = new Generator(2);
        long[] tokens = new long[45];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = g.nextInt(40);
        }
        Decoder d = m.decoder(new Generator(77));
        assertThat(Decoder.isExact(m)).isTrue();
        try (GradMode.Scope off = GradMode.disabled()) {
            for (int t = 0; t < tokens.length; t++) {
                float[] cached = d.next(tokens[t]);
                Tensor whole = m.forward(Tensor.of(java.util.Arrays.copyOf(tokens, t + 1), 1, t + 1), null, new Generator(77))
                        .data().slice(1, t, t + 1);
                float[] want = whole.toFloatArray();
                for (int v = 0; v < want.length; v++) {
                    assertThat((double) cached[v]).as("position %d, logit %d", t, v).isCloseTo(want[v], within(2e-4));
                }
            }
        }
    }

    @Test
    void theDecoderFollowsOrdinaryResidualBlocksToo() {
        ReformerConfig config = ReformerConfig.builder().vocabSize(40).dModel(32).dFf(64).heads(2).headDim(16).layers(2)
                .attention(AttentionType.FULL, AttentionType.LOCAL).maxLength(64).localChunkLength(8).causal(true)
                .reversible(false).ordinaryResidual(true).seed(9).build();
        ReformerLM m = new ReformerLM(config);
        m.train(false);
        decoderMatchesForward(m);
    }

    @Test
    void theDecoderGivesTheForwardsLogitsWhereverItIsExact() {
        decoderMatchesForward(model(AttentionType.LSH));
        decoderMatchesForward(model(AttentionType.LOCAL, AttentionType.LSH));
        decoderMatchesForward(model(AttentionType.FULL, AttentionType.LOCAL, AttentionType.FULL));
    }

    @Test
    void anLshLayerBelowAnotherAttentionLayerIsNotExact() {
        ReformerLM m = model(AttentionType.LSH, AttentionType.LOCAL);
        Decoder d = m.decoder(new Generator(77));
        assertThat(Decoder.isExact(m)).isFalse();
        assertThatThrownBy(() -> Generation.cached(m, 1)).isInstanceOf(TrainException.class).hasMessageContaining("--no-cache");
        // and indeed: later positions move earlier ones between chunks, which a fresh forward sees
        Generator g = new Generator(2);
        long[] tokens = new long[45];
        double largest = 0;
        try (GradMode.Scope off = GradMode.disabled()) {
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = g.nextInt(40);
                float[] cached = d.next(tokens[t]);
                float[] whole = m.forward(Tensor.of(java.util.Arrays.copyOf(tokens, t + 1), 1, t + 1), null, new Generator(77))
                        .data().slice(1, t, t + 1).toFloatArray();
                for (int v = 0; v < whole.length; v++) {
                    largest = Math.max(largest, Math.abs(cached[v] - whole[v]));
                }
            }
        }
        assertThat(largest).isGreaterThan(1e-3);
    }

    @Test
    void cachedAndUncachedSamplingPickTheSameTokens() {
        ReformerLM m = model(AttentionType.LOCAL, AttentionType.LSH);
        long[] prompt = {3, 14, 15, 9, 2, 6};
        for (Generation.Settings s : new Generation.Settings[] {new Generation.Settings(1.0, 0, 4),
            new Generation.Settings(0.8, 10, 5), new Generation.Settings(0, 0, 6)}) {
            long[] cached;
            long[] uncached;
            try (Generation.NextLogits c = Generation.cached(m, s.seed());
                    Generation.NextLogits u = Generation.recomputed(m, s.seed())) {
                cached = Generation.sample(m, prompt, 50, s, c);
                uncached = Generation.sample(m, prompt, 50, s, u);
            }
            assertThat(cached).as("%s", s).hasSize(50).isEqualTo(uncached);
        }
        long[] a = Generation.sample(m, prompt, 30, new Generation.Settings(1.0, 0, 4), Generation.cached(m, 4));
        long[] b = Generation.sample(m, prompt, 30, new Generation.Settings(1.0, 0, 5), Generation.cached(m, 5));
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void samplingFollowsTemperatureAndTopK() {
        float[] logits = {0f, 5f, 1f, 4.5f};
        assertThat(Generation.pick(logits, 0, 0, 0.99)).isEqualTo(1);
        assertThat(Generation.pick(logits, 1, 1, 0.99)).isEqualTo(1);
        assertThat(Generation.pick(logits, 1, 2, 0.99)).isEqualTo(3);
        assertThat(Generation.pick(logits, 1, 0, 0.0)).isEqualTo(1);
    }

    @Test
    void badPromptsAndLengthsAreRefused() {
        ReformerLM m = model(AttentionType.LSH);
        Generation.Settings s = new Generation.Settings(1, 0, 1);
        Generation.NextLogits source = Generation.recomputed(m, 1);
        assertThatThrownBy(() -> Generation.sample(m, new long[] {3, 41}, 5, s, source))
                .isInstanceOf(TrainException.class).hasMessageContaining("token 41 at position 1", "vocabulary of 40");
        assertThatThrownBy(() -> Generation.sample(m, new long[0], 5, s, source))
                .isInstanceOf(TrainException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> Generation.sample(m, new long[] {1, 2}, 63, s, source))
                .isInstanceOf(TrainException.class).hasMessageContaining("at most 62 tokens");
        assertThatThrownBy(() -> Generation.sample(m, new long[64], 1, s, source))
                .isInstanceOf(TrainException.class).hasMessageContaining("fills the model's 64 positions");
        assertThatThrownBy(() -> new Generation.Settings(-1, 0, 1)).isInstanceOf(TrainException.class);
    }
}
