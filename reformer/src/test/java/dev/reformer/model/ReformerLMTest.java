package dev.reformer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.optim.Adam;
import dev.reformer.model.ReformerConfig.AttentionType;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ReformerLMTest {
    private static ReformerConfig.Builder small() {
        return ReformerConfig.builder().vocabSize(16).dModel(16).dFf(32).heads(2).layers(2)
                .attention(AttentionType.LOCAL, AttentionType.LSH).maxLength(64)
                .lshHashes(2).lshBuckets(4).lshChunkLength(8).localChunkLength(8).seed(3);
    }

    private static Tensor tokens(long seed, int batch, int length) {
        Generator g = new Generator(seed);
        long[] ids = new long[batch * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = g.nextInt(16);
        }
        return Tensor.of(ids, batch, length);
    }

    @Test
    void anyLengthWorksWithAutoPaddingAndLogitsKeepTheInputLength() {
        ReformerLM model = new ReformerLM(small().build());
        Variable logits = model.forward(tokens(1, 2, 21), null, new Generator(1));
        assertThat(logits.shape()).containsExactly(2, 21, 16);
        assertThat(model.paddedLength(21)).isEqualTo(24);
    }

    @Test
    void withoutAutoPaddingAnOddLengthIsRefusedWithTheFix() {
        ReformerLM model = new ReformerLM(small().lshChunkLength(64).localChunkLength(64).maxLength(1024)
                .axialShape(32, 32).autoPad(false).build());
        assertThatThrownBy(() -> model.forward(tokens(1, 1, 1000), null, new Generator(1)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("length 1000 is not a multiple of chunk length 64: pad to 1024 or enable auto-padding");
    }

    @Test
    void paddedTailDoesNotChangePredictionsAtRealPositionsUnderLocalAndFullAttention() {
        // Not causal, so every real position could see the tail if the padding mask were ignored.
        ReformerLM model = new ReformerLM(small().causal(false).attention(AttentionType.LOCAL, AttentionType.FULL)
                .localChunksAfter(1).build());
        Tensor a = tokens(2, 1, 24);
        Tensor b = Tensor.concat(1, a.slice(1, 0, 20), tokens(3, 1, 4));
        Tensor padding = Tensor.concat(1, Tensor.zeros(DType.BOOL, 1, 20), Tensor.ones(DType.BOOL, 1, 4));
        double[] la = model.forward(a, padding, new Generator(4)).data().slice(1, 0, 20).toDoubleArray();
        double[] lb = model.forward(b, padding, new Generator(4)).data().slice(1, 0, 20).toDoubleArray();
        assertThat(lb).containsExactly(la, org.assertj.core.api.Assertions.within(1e-5));
        double[] unmasked = model.forward(b, null, new Generator(4)).data().slice(1, 0, 20).toDoubleArray();
        assertThat(unmasked).as("without the mask the tail does change them").isNotEqualTo(la);
    }

    @Test
    void sameSeedSameModelSameNumbers() {
        Tensor t = tokens(5, 2, 16);
        double[] a = new ReformerLM(small().build()).forward(t, null, new Generator(6)).data().toDoubleArray();
        double[] b = new ReformerLM(small().build()).forward(t, null, new Generator(6)).data().toDoubleArray();
        assertThat(a).containsExactly(b);
    }

    @Test
    void aFewStepsOfAdamLowerTheLossOnAFixedBatch() {
        ReformerLM model = new ReformerLM(small().dropout(0.0).build());
        Tensor input = tokens(7, 4, 16);
        Tensor targets = Tensor.concat(1, input.slice(1, 1, 16), Tensor.full(DType.INT64, -100, 4, 1));
        Adam adam = new Adam(model.parameters(), 3e-3, 0.9, 0.98, 1e-9);
        double first = 0;
        double last = 0;
        for (int step = 0; step < 25; step++) {
            Variable loss = model.loss(input, targets, -100, new Generator(step));
            loss.backward();
            adam.step();
            adam.zeroGrad();
            if (step == 0) {
                first = loss.data().item();
            }
            last = loss.data().item();
        }
        assertThat(first).isGreaterThan(Math.log(16) * 0.8);
        assertThat(last).isLessThan(first * 0.8);
    }

    @Test
    void configurationErrorsSayWhatToChange() {
        assertThatThrownBy(() -> small().dModel(10).heads(3).build()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("d_model 10 is not divisible by 3 heads");
        assertThatThrownBy(() -> small().lshBuckets(5).build()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("LSH bucket count 5 must be even").hasMessageContaining("use 6");
        assertThatThrownBy(() -> small().axialShape(4, 4).build()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("axial shape 4x4 = 16 positions cannot cover max length 64");
        assertThatThrownBy(() -> small().axialShape(8, 8).axialDims(4, 4).build()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("axial dims 4+4 must be positive and add up to d_model 16");
        assertThatThrownBy(() -> small().maxLength(60).autoPad(false).build()).isInstanceOf(ConfigException.class)
                .hasMessage("max length 60 is not a multiple of chunk length 8: use 64 or enable auto-padding");
        assertThatThrownBy(() -> small().lshChunksBefore(-1).build()).isInstanceOf(ConfigException.class)
                .hasMessage("LSH chunks before is -1 but must be at least 0");
        assertThatThrownBy(() -> ReformerConfig.AttentionType.parse("sparse")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("use lsh, local or full");
        ReformerLM model = new ReformerLM(small().build());
        assertThatThrownBy(() -> model.forward(tokens(1, 1, 65), null, new Generator(1)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("exceeds the 64 positions of this model");
    }
}
