package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerConfig.AttentionType;
import org.junit.jupiter.api.Test;

class StepTensorsTest {
    private static ReformerConfig.Builder small() {
        return ReformerConfig.builder().vocabSize(100).dModel(64).dFf(128).heads(4).headDim(16).layers(1)
                .maxLength(256).lshHashes(2).lshChunkLength(32).localChunkLength(16);
    }

    @Test
    void theLargestTensorIsNamedWithItsSize() {
        // LSH scores: 4 heads x 2 rounds x 256 x 32 x (1 + 1 before + 0 after) = 131,072 per sequence
        StepTensors.Largest lsh = StepTensors.largestPerSequence(small().attention(AttentionType.LSH).build());
        assertThat(lsh.perSequence()).isEqualTo(4L * 2 * 256 * 32 * 2);
        assertThat(lsh.what()).startsWith("the LSH attention scores");
        // full scores: 4 x 256 x 256 = 262,144
        StepTensors.Largest full = StepTensors.largestPerSequence(small().attention(AttentionType.FULL).build());
        assertThat(full.perSequence()).isEqualTo(4L * 256 * 256);
        assertThat(full.what()).startsWith("the full attention scores");
        // local scores (4 x 256 x 16 x 2 = 32,768) are smaller than the feed-forward's 256 x 128
        StepTensors.Largest local = StepTensors.largestPerSequence(small().attention(AttentionType.LOCAL).build());
        assertThat(local.perSequence()).isEqualTo(256L * 128);
        assertThat(local.what()).startsWith("the feed-forward's hidden layer");
        // a large vocabulary makes the logits the largest
        StepTensors.Largest logits = StepTensors.largestPerSequence(small().vocabSize(5000).attention(AttentionType.LOCAL).build());
        assertThat(logits.perSequence()).isEqualTo(256L * 5000);
    }

    @Test
    void theLargestBatchFitsAndOneMoreIsRefused() {
        ReformerConfig m = small().attention(AttentionType.FULL).build();
        long fits = StepTensors.largestBatch(m);
        assertThat(fits).isEqualTo(Integer.MAX_VALUE / (4L * 256 * 256));
        StepTensors.requireIndexable(m, (int) fits, "--length");
        assertThatThrownBy(() -> StepTensors.requireIndexable(m, (int) fits + 1, "--length"))
                .isInstanceOf(TrainException.class)
                .hasMessageContaining("--batch " + (fits + 1))
                .hasMessageContaining("use --batch " + fits + " or less");
        assertThatThrownBy(() -> StepTensors.requireIndexable(m, Integer.MAX_VALUE, "--length"))
                .isInstanceOf(TrainException.class).hasMessageContaining("562,949,953,159,168 elements");
    }

    @Test
    void aSequenceTooLongForOneTensorSaysToShortenIt() {
        ReformerConfig m = small().attention(AttentionType.FULL).maxLength(32768).build();
        assertThat(StepTensors.largestBatch(m)).isZero();
        assertThatThrownBy(() -> StepTensors.requireIndexable(m, 1, "--length"))
                .isInstanceOf(TrainException.class).hasMessageContaining("even one sequence is too long: use a smaller --length");
    }
}
