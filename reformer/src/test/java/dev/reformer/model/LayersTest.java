package dev.reformer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.autograd.GradientCheck;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayersTest {
    @Test
    void chunkedFeedForwardMatchesUnchunkedInValuesAndGradients() {
        FeedForward whole = new FeedForward(6, 12, FeedForward.Activation.GELU, 0.0, 1, DType.FLOAT64, new Generator(1));
        FeedForward chunked = new FeedForward(6, 12, FeedForward.Activation.GELU, 0.0, 3, DType.FLOAT64, new Generator(1));
        Tensor input = new Generator(2).normal(DType.FLOAT64, 0, 1, 2, 10, 6);
        Tensor upstream = new Generator(3).normal(DType.FLOAT64, 0, 1, 2, 10, 6);
        Variable xa = Variable.parameter(input);
        Variable xb = Variable.parameter(input);
        Variable a = whole.forward(xa, new Generator(4));
        Variable b = chunked.forward(xb, new Generator(4));
        a.mul(Variable.constant(upstream)).sum().backward();
        b.mul(Variable.constant(upstream)).sum().backward();
        assertThat(b.data().toDoubleArray()).containsExactly(a.data().toDoubleArray(), within(1e-12));
        assertThat(xb.grad().toDoubleArray()).containsExactly(xa.grad().toDoubleArray(), within(1e-12));
        List<Variable> pa = whole.parameters();
        List<Variable> pb = chunked.parameters();
        for (int i = 0; i < pa.size(); i++) {
            assertThat(pb.get(i).grad().toDoubleArray()).containsExactly(pa.get(i).grad().toDoubleArray(), within(1e-12));
        }
        GradientCheck.checkWithParameters("chunked feed-forward", x -> chunked.forward(x[0], new Generator(5)),
                chunked.parameters(), new Generator(6).normal(DType.FLOAT64, 0, 1, 1, 5, 6));
    }

    @Test
    void axialEmbeddingConcatenatesARowAndAColumnVector() {
        AxialPositionalEmbedding axial = new AxialPositionalEmbedding(3, 4, 2, 3, DType.FLOAT64, new Generator(1));
        double[] e = axial.forward(10).data().toDoubleArray();
        double[] rows = axial.namedParameters().get("rows").data().toDoubleArray();      // (3, 2)
        double[] cols = axial.namedParameters().get("columns").data().toDoubleArray();   // (4, 3)
        for (int p = 0; p < 10; p++) {
            int i = p / 4;
            int j = p % 4;
            assertThat(new double[] {e[p * 5], e[p * 5 + 1]}).containsExactly(rows[i * 2], rows[i * 2 + 1]);
            assertThat(new double[] {e[p * 5 + 2], e[p * 5 + 3], e[p * 5 + 4]})
                    .containsExactly(cols[j * 3], cols[j * 3 + 1], cols[j * 3 + 2]);
        }
        assertThatThrownBy(() -> axial.forward(13)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("length 13 exceeds the axial shape 3x4 = 12 positions");
    }

    @Test
    void gradientChecksOfThePositionalEmbeddings() {
        AxialPositionalEmbedding axial = new AxialPositionalEmbedding(3, 4, 2, 3, DType.FLOAT64, new Generator(1));
        GradientCheck.checkWithParameters("axial positional embedding", x -> axial.forward(10), axial.parameters());
        AbsolutePositionalEmbedding absolute = new AbsolutePositionalEmbedding(12, 3, DType.FLOAT64, new Generator(2));
        GradientCheck.checkWithParameters("absolute positional embedding", x -> absolute.forward(7), absolute.parameters());
    }

    @Test
    void attentionLayerGradientCheck() {
        AttentionLayer layer = new AttentionLayer(4, 2, 3,
                dev.reformer.attention.LshAttention.builder().hashes(2).buckets(4).chunkLength(4).causal(true).build(),
                0.1, DType.FLOAT64, new Generator(3));
        GradientCheck.checkWithParameters("attention layer (LSH, dropout)", x -> layer.forward(x[0], null, new Generator(4)),
                layer.parameters(), new Generator(5).normal(DType.FLOAT64, 0, 1, 1, 8, 4));
    }
}
