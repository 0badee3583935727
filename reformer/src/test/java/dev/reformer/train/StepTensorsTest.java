package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerConfig.AttentionType;
import org.junit.jupiter.api.Test;

/** The per-step tensor sizes the batch check uses, from the model's shapes (see {@link StepTensors}). */
class StepTensorsTest {
    private static ReformerConfig.Builder small() {
        return ReformerConfig.builder().vocabSize(100).dModel(64).dFf(96).heads(4).headDim(16).layers(1)
                .maxLength(256).lshHashes(2).lshChunkLength(32).localChunkLength(16);
    }

    @Test
    void theLargestTensorIsNamedWithItsSize() {
        // LSH queries of 2 rounds: 4 heads x 2 x 256 x 16 = 32,768 per sequence, above the streams (256 x 2 x 64)
        StepTensors.Largest lsh = StepTensors.largestPerSequence(small().attention(AttentionType.LSH).heads(8).build());
        assertThat(lsh.perSequence()).isEqualTo(8L * 2 * 256 * 16);
        assertThat(lsh.what()).startsWith("the attention's queries");
        // the reversible stack's two streams: 256 x 2 x 64 = 32,768 (above the feed-forward's 256 x 96)
        StepTensors.Largest full = StepTensors.largestPerSequence(small().attention(AttentionType.FULL).build());
        assertThat(full.perSequence()).isEqualTo(256L * 2 * 64);
        assertThat(full.what()).startsWith("the residual streams");
        // a large vocabulary makes the logits the largest, chunked or not (the chunks are joined)
        StepTensors.Largest logits = StepTensors.largestPerSequence(small().vocabSize(5000).attention(AttentionType.LOCAL).build());
        assertThat(logits.perSequence()).isEqualTo(256L * 5000);
        assertThat(logits.what()).startsWith("the output logits");
    }

    @Test
    void theLargestBatchFitsAndOneMoreIsRefused() {
        ReformerConfig m = small().attention(AttentionType.FULL).build();
        long fits = StepTensors.largestBatch(m);
        // float32: 2^31 - 1 bytes hold 536,870,911 elements
        assertThat(fits).isEqualTo((Integer.MAX_VALUE / 4) / (256L * 2 * 64));
        StepTensors.requireIndexable(m, (int) fits, "--length");
        assertThatThrownBy(() -> StepTensors.requireIndexable(m, (int) fits + 1, "--length"))
                .isInstanceOf(TrainException.class)
                .hasMessageContaining("--batch " + (fits + 1))
                .hasMessageContaining("536,870,911 float32 elements")
                .hasMessageContaining("use --batch " + fits + " or less");
        assertThatThrownBy(() -> StepTensors.requireIndexable(m, Integer.MAX_VALUE, "--length"))
                .isInstanceOf(TrainException.class).hasMessageContaining("70,368,744,144,896 elements");
    }

    @Test
    void aSequenceTooLongForOneTensorSaysToShortenIt() {
        ReformerConfig m = small().attention(AttentionType.LOCAL).vocabSize(256).maxLength(1 << 21).build();
        assertThat(StepTensors.largestBatch(m)).isZero();
        assertThatThrownBy(() -> StepTensors.requireIndexable(m, 1, "--length"))
                .isInstanceOf(TrainException.class).hasMessageContaining("even one sequence is too long: use a smaller --length");
    }
}
