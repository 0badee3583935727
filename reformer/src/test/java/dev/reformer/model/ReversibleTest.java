package dev.reformer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reformer.attention.Attention;
import dev.reformer.attention.FullAttention;
import dev.reformer.attention.LocalAttention;
import dev.reformer.attention.LshAttention;
import dev.reformer.autograd.GradientCheck;
import dev.reformer.autograd.Graphs;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReversibleTest {
    private static final int D_MODEL = 8;

    /** Blocks cycling through LSH, local and full attention, float64, with dropout. */
    static List<ReversibleBlock> blocks(int count, double dropout, long seed) {
        return blocks(count, dropout, seed, D_MODEL, 4);
    }

    static List<ReversibleBlock> blocks(int count, double dropout, long seed, int dModel, int headDim) {
        Generator init = new Generator(seed);
        List<ReversibleBlock> blocks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Attention attention = switch (i % 3) {
                case 0 -> LshAttention.builder().hashes(2).buckets(4).chunkLength(4).causal(true).build();
                case 1 -> LocalAttention.separate(4, 1, 0, true, 0.5);
                default -> FullAttention.separate(true, 0.5);
            };
            blocks.add(new ReversibleBlock(
                    new AttentionLayer(dModel, 2, headDim, attention, dropout, DType.FLOAT64, init),
                    new FeedForward(dModel, 2 * dModel, FeedForward.Activation.GELU, dropout, 2, DType.FLOAT64, init)));
        }
        return blocks;
    }

    private static List<Variable> parameters(List<ReversibleBlock> blocks) {
        List<Variable> params = new ArrayList<>();
        blocks.forEach(b -> params.addAll(b.parameters()));
        return params;
    }

    private record Run(Tensor output, Tensor inputGrad, List<Tensor> paramGrads) {
    }

    private static Run run(BlockStack stack, Tensor input, Tensor upstream) {
        parameters(stack.blocks()).forEach(Variable::zeroGrad);
        Variable x = Variable.parameter(input);
        Variable y = stack.forward(x, null, new Generator(77));
        y.mul(Variable.constant(upstream)).sum().backward();
        List<Tensor> grads = new ArrayList<>();
        parameters(stack.blocks()).forEach(p -> grads.add(p.grad()));
        return new Run(y.data(), x.grad(), grads);
    }

    /**
     * The ordinary residual stack is the standard Transformer on the first stream: h + F(h), then
     * + G(.), block after block, its output the stream twice; it differs from the reversible
     * function, which mixes the two streams.
     */
    @Test
    void theOrdinaryResidualStackIsTheStandardTransformer() {
        List<ReversibleBlock> blocks = blocks(3, 0.0, 5);
        Generator g = new Generator(3);
        Tensor e = g.normal(DType.FLOAT64, 0, 1, 2, 8, D_MODEL);
        Variable input = Variable.constant(Tensor.concat(2, e, e));
        Variable out = new ResidualStack(blocks).forward(input, null, new Generator(77));
        long[] seeds = BlockStack.drawSeeds(new Generator(77), 3);
        Variable h = Variable.constant(e);
        for (int i = 0; i < 3; i++) { // no dropout: only the attention's generator (LSH rotations) matters
            ReversibleBlock b = blocks.get(i);
            h = h.add(b.attentionLayer().forward(h, null, ReversibleBlock.attentionGenerator(seeds[i]), null));
            h = h.add(b.feedForwardLayer().forward(h, new Generator(0)));
        }
        double[] want = Tensor.concat(2, h.data(), h.data()).toDoubleArray();
        double[] got = out.data().toDoubleArray();
        for (int i = 0; i < want.length; i++) {
            assertThat(got[i]).isCloseTo(want[i], within(1e-12));
        }
        double[] reversible = new StoredStack(blocks).forward(input, null, new Generator(77)).data().toDoubleArray();
        assertThat(Math.abs(reversible[0] - got[0]) + Math.abs(reversible[1] - got[1])).as("not the reversible function")
                .isGreaterThan(1e-6);
    }

    @Test
    void reversibleGivesTheGradientsOfStoredActivationsWithDropoutOn() {
        List<ReversibleBlock> blocks = blocks(3, 0.2, 1);
        Generator g = new Generator(2);
        Tensor input = g.normal(DType.FLOAT64, 0, 1, 2, 8, 2 * D_MODEL);
        Tensor upstream = g.normal(DType.FLOAT64, 0, 1, 2, 8, 2 * D_MODEL);
        Run stored = run(new StoredStack(blocks), input, upstream);
        Run reversible = run(new ReversibleStack(blocks), input, upstream);
        assertThat(reversible.output().toDoubleArray()).containsExactly(stored.output().toDoubleArray(), within(1e-10));
        assertThat(reversible.inputGrad().toDoubleArray()).containsExactly(stored.inputGrad().toDoubleArray(), within(1e-10));
        assertThat(stored.paramGrads()).hasSize(reversible.paramGrads().size()).doesNotContainNull();
        for (int i = 0; i < stored.paramGrads().size(); i++) {
            assertThat(reversible.paramGrads().get(i).toDoubleArray()).as("parameter %d", i)
                    .containsExactly(stored.paramGrads().get(i).toDoubleArray(), within(1e-10));
        }
    }

    @Test
    void dropoutIsReallyOnInThatComparison() {
        List<ReversibleBlock> blocks = blocks(1, 0.5, 1);
        Tensor input = new Generator(3).normal(DType.FLOAT64, 0, 1, 1, 8, 2 * D_MODEL);
        StoredStack stack = new StoredStack(blocks);
        double[] a = stack.forward(Variable.constant(input), null, new Generator(1)).data().toDoubleArray();
        double[] b = stack.forward(Variable.constant(input), null, new Generator(2)).data().toDoubleArray();
        assertThat(a).isNotEqualTo(b);
        blocks.forEach(block -> block.train(false));
        double[] c = stack.forward(Variable.constant(input), null, new Generator(1)).data().toDoubleArray();
        double[] d = stack.forward(Variable.constant(input), null, new Generator(1)).data().toDoubleArray();
        assertThat(c).containsExactly(d);
    }

    @Test
    void retainedActivationMemoryDoesNotGrowWithDepth() {
        Tensor input = new Generator(4).normal(DType.FLOAT64, 0, 1, 2, 16, 2 * D_MODEL);
        int[] depths = {1, 4, 12};
        long[] reversible = new long[3];
        long[] stored = new long[3];
        // Besides its output, a reversible stack keeps each LSH layer's bucket ids: (N, K, L) int32
        // with N = 2 examples * 2 heads, K = 2, L = 16. Every third block here is an LSH block.
        long bucketBytes = 2L * 2 * 2 * 16 * 4;
        for (int i = 0; i < depths.length; i++) {
            List<ReversibleBlock> blocks = blocks(depths[i], 0.1, 5);
            reversible[i] = Graphs.retainedBytes(
                    new ReversibleStack(blocks).forward(Variable.parameter(input), null, new Generator(6)));
            stored[i] = Graphs.retainedBytes(
                    new StoredStack(blocks).forward(Variable.parameter(input), null, new Generator(6)));
            long lshBlocks = (depths[i] + 2) / 3;
            assertThat(reversible[i] - lshBlocks * bucketBytes).as("activations at depth %d", depths[i])
                    .isEqualTo(input.bytes());
        }
        assertThat(stored[1]).isGreaterThan(3 * stored[0]);
        assertThat(stored[2]).isGreaterThan(2 * stored[1]);
        // 12 stored layers keep about 80x what the reversible stack keeps (fused GELU and layer
        // norm save far less than their compositions did, which was about 200x).
        assertThat(stored[2]).isGreaterThan(50 * reversible[2]);
    }

    @Test
    void gradientCheckOfAReversibleStack() {
        // Small, because the check runs two forwards per parameter: d = 4, two heads of 2, L = 8.
        List<ReversibleBlock> blocks = blocks(2, 0.2, 7, 4, 2);
        ReversibleStack stack = new ReversibleStack(blocks);
        Tensor input = new Generator(8).normal(DType.FLOAT64, 0, 1, 1, 8, 8);
        GradientCheck.checkWithParameters("reversible stack (LSH + local, dropout 0.2)",
                x -> stack.forward(x[0], null, new Generator(9)), parameters(blocks), input);
    }
}
