package dev.reformer.attention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.kernels.Kernels;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused op ({@link ChunkedAttention}) against the stage-by-stage composition it replaces:
 * outputs and the gradients of qk and v (or q, k, v) for a random upstream gradient, over every
 * setting the LSH tests cover, with and without padding, for local attention, and on a sequence
 * long enough to span several of the kernel's segments.
 *
 * <p>Float64 runs the plain reference and must match the float64 composition to 1e-10. Float32
 * runs the vector kernel and must match the composition evaluated in float64 on the very same
 * values to 1e-5 + 1e-5 |reference|: the float32 composition is itself off by up to 1e-3 where
 * logits sit near the -1e5 self-mask value, because its logsumexp rounds to 0.008 there, which is
 * the error the fused op exists to remove.
 */
class FusedAttentionTest {
    /** hashes, buckets, chunk, before, after, causal, scale, self mask, dedupe; and whether to pad. */
    static Stream<Arguments> lshSettings() {
        List<Arguments> out = new ArrayList<>();
        ReferenceLsh.Settings[] settings = {
            new ReferenceLsh.Settings(1, 4, 4, 1, 0, false, 1.0, -1e5, false),
            new ReferenceLsh.Settings(2, 4, 4, 1, 0, true, 1.0, -1e5, false),
            new ReferenceLsh.Settings(3, 6, 3, 1, 0, false, 0.5, -5e4, false),
            new ReferenceLsh.Settings(2, 4, 4, 1, 1, true, 1.0, -1e5, false),
            new ReferenceLsh.Settings(2, 2, 8, 0, 0, false, 1.0, -1e5, false),
            new ReferenceLsh.Settings(4, 4, 4, 1, 0, false, 1.0, -1e5, true),
            new ReferenceLsh.Settings(2, 8, 2, 2, 1, true, 2.0, -1e5, true),
            new ReferenceLsh.Settings(4, 8, 4, 1, 0, true, 0.125, -1e5, false)};
        for (ReferenceLsh.Settings s : settings) {
            for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                out.add(Arguments.of(s, false, dtype));
                out.add(Arguments.of(s, true, dtype));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, padded {1}, {2}")
    @MethodSource("lshSettings")
    void lshFusedEqualsStageByStage(ReferenceLsh.Settings s, boolean padded, DType dtype) {
        LshAttention lsh = LshAttention.builder().hashes(s.hashes()).buckets(s.buckets()).chunkLength(s.chunkLength())
                .chunksBefore(s.before()).chunksAfter(s.after()).causal(s.causal()).logitScale(s.scale())
                .selfMaskValue(s.selfMaskValue()).dedupeRounds(s.dedupe()).build();
        int batch = 2;
        int heads = 2;
        int length = 24;
        int dim = 5;
        Tensor rotations = draw(3, DType.FLOAT64, batch, heads, dim, s.hashes(), s.buckets() / 2);
        Tensor padding = padded ? padding(batch, length, 19, 22) : null;
        Inputs in = new Inputs(dtype, batch, heads, length, dim, true);
        Result fused = in.run(x -> lsh.attendWithRotations(x[0], x[1], padding, rotations, null));
        Result composed = in.inFloat64().run(x -> lsh.attendStageByStage(x[0], x[1], padding, rotations, null));
        fused.assertCloseTo(composed, dtype);
    }

    static Stream<Arguments> localSettings() {
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            out.add(Arguments.of(LocalAttention.separate(4, 1, 0, true, 0.5), false, dtype));
            out.add(Arguments.of(LocalAttention.separate(4, 1, 1, false, 0.5), true, dtype));
            out.add(Arguments.of(LocalAttention.separate(8, 2, 0, true, 1.0), true, dtype));
            out.add(Arguments.of(LocalAttention.sharedQk(4, 1, 0, true, 1.0, -1e5), false, dtype));
            out.add(Arguments.of(LocalAttention.sharedQk(4, 1, 2, false, 0.3, -5e4), true, dtype));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} padded, {2}, case {index}")
    @MethodSource("localSettings")
    void localFusedEqualsStageByStage(LocalAttention local, boolean padded, DType dtype) {
        int batch = 2;
        int length = 24;
        Tensor padding = padded ? padding(batch, length, 17, 20) : null;
        Inputs in = new Inputs(dtype, batch, 2, length, 6, local.sharesQueryKey());
        Result fused = in.run(x -> in.shared ? local.attend(x[0], x[0], x[1], padding, null)
                : local.attend(x[0], x[1], x[2], padding, null));
        Inputs wide = in.inFloat64();
        Result composed = wide.run(x -> wide.shared ? local.attendStageByStage(x[0], x[0], x[1], padding)
                : local.attendStageByStage(x[0], x[1], x[2], padding));
        fused.assertCloseTo(composed, dtype);
    }

    static Stream<Arguments> fullSettings() {
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            out.add(Arguments.of(FullAttention.separate(true, 0.25), false, dtype));
            out.add(Arguments.of(FullAttention.separate(false, 0.25), true, dtype));
            out.add(Arguments.of(FullAttention.separate(true, 0.25), true, dtype));
            out.add(Arguments.of(FullAttention.sharedQk(true, 1.0, -1e5), false, dtype));
            out.add(Arguments.of(FullAttention.sharedQk(false, 0.5, -5e4), true, dtype));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} padded, {2}, case {index}")
    @MethodSource("fullSettings")
    void fullFlashEqualsStageByStage(FullAttention full, boolean padded, DType dtype) {
        // 150 positions: one block of queries against every key (FlashAttentionKernel.queryBlock).
        int length = 150;
        Tensor padding = padded ? padding(2, length, 120, 140) : null;
        Inputs in = new Inputs(dtype, 2, 1, length, 8, full.sharesQueryKey());
        Result fused = in.run(x -> in.shared ? full.attend(x[0], x[0], x[1], padding, null)
                : full.attend(x[0], x[1], x[2], padding, null));
        Inputs wide = in.inFloat64();
        Result composed = wide.run(x -> wide.shared ? full.attendStageByStage(x[0], x[0], x[1], padding)
                : full.attendStageByStage(x[0], x[1], x[2], padding));
        fused.assertCloseTo(composed, dtype);
    }

    @Test
    void flashAttentionOverSeveralQueryBlocksAgrees() {
        // 1100 positions: query blocks of 1024 and 76; causal blocks stop at their last query, and
        // padding from 1000 on leaves queries of the second block whose keys are all forbidden.
        assertThat(FlashAttentionKernel.queryBlock(1100)).isEqualTo(1024);
        FullAttention full = FullAttention.sharedQk(true, 0.125, -1e5);
        Inputs in = new Inputs(DType.FLOAT32, 1, 1, 1100, 16, true);
        Result fused = in.run(x -> full.attend(x[0], x[0], x[1], null, null));
        Inputs wide = in.inFloat64();
        Result composed = wide.run(x -> full.attendStageByStage(x[0], x[0], x[1], null));
        fused.assertCloseTo(composed, DType.FLOAT32);
        FullAttention causal = FullAttention.separate(true, 0.25);
        Tensor padding = padding(2, 1100, 1000, 3);                  // example 1 padded from 1000 on
        Inputs sep = new Inputs(DType.FLOAT32, 2, 1, 1100, 16, false);
        Result blocks = sep.run(x -> causal.attend(x[0], x[1], x[2], padding, null));
        Inputs sepWide = sep.inFloat64();
        Result stages = sepWide.run(x -> causal.attendStageByStage(x[0], x[1], x[2], padding));
        blocks.assertCloseTo(stages, DType.FLOAT32);
    }

    @Test
    void theVectorKernelsAndThePlainLoopsAgree() {
        // LSH, local and full attention in float32, once as this JVM runs them and once with every
        // kernel's plain loops: the same algorithm, sums in other orders.
        org.junit.jupiter.api.Assumptions.assumeTrue(Kernels.vectorAvailable(), "the vector module is not loaded");
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(8).chunkLength(16).causal(true).build();
        Tensor rotations = draw(4, DType.FLOAT64, 1, 2, 32, 2, 4);
        FullAttention full = FullAttention.sharedQk(false, 0.25, -1e5);
        Inputs in = new Inputs(DType.FLOAT32, 2, 2, 128, 32, true);
        List<Attend> kinds = List.of(x -> lsh.attendWithRotations(x[0], x[1], null, rotations, null),
                x -> full.attend(x[0], x[0], x[1], null, null));
        for (Attend attend : kinds) {
            Result vector = in.run(attend);
            Result plain = Kernels.plainLoops(() -> in.run(attend));
            plain.assertCloseTo(vector, DType.FLOAT32);
        }
    }

    @Test
    void longSequencesSpanningManyKernelSegmentsAgree() {
        // 2 rounds of 512 positions in chunks of 8: 128 chunks, 8 of the kernel's segments, with
        // windows reaching across every segment boundary and around the end.
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(32).chunkLength(8).chunksAfter(1).causal(true).build();
        Tensor rotations = draw(4, DType.FLOAT64, 1, 1, 16, 2, 16);
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            Inputs in = new Inputs(dtype, 1, 1, 512, 16, true);
            Result fused = in.run(x -> lsh.attendWithRotations(x[0], x[1], null, rotations, null));
            Result composed = in.inFloat64().run(x -> lsh.attendStageByStage(x[0], x[1], null, rotations, null));
            fused.assertCloseTo(composed, dtype);
        }
    }

    @Test
    void aCausalFirstPositionGetsExactlyItsOwnValueInFloat32() {
        // Position 0 of a causal LSH call can see only itself, in every round: its weights must sum
        // to exactly 1 and its output be exactly its value (the composed path gave 0.99913 of it).
        LshAttention lsh = LshAttention.builder().hashes(4).buckets(8).chunkLength(8).causal(true).build();
        Tensor qk = draw(5, DType.FLOAT32, 1, 1, 64, 8);
        Tensor v = draw(6, DType.FLOAT32, 1, 1, 64, 8);
        Variable shared = Variable.constant(qk);
        Tensor out = lsh.attend(shared, shared, Variable.constant(v), null, new Generator(7)).data();
        assertThat(out.slice(2, 0, 1).toFloatArray()).containsExactly(v.slice(2, 0, 1).toFloatArray());
    }

    @Test
    void queriesThatSeeOnlyForbiddenKeysSpreadOverAllOfThemInTheFlashKernelToo() {
        // Causal, separate keys, positions 0-3 of example 0 padded: queries 0-3 see only padded
        // keys, all at FORBIDDEN, and the composition averages over every key. The tiled kernel
        // must visit the key blocks it skips for causality for those queries (its second pass).
        FullAttention full = FullAttention.separate(true, 0.25);
        long[] values = new long[2 * 200];
        for (int t = 0; t < 4; t++) {
            values[t] = 1;
        }
        Tensor padding = Tensor.of(values, 2, 200).cast(DType.BOOL);
        for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            Inputs in = new Inputs(dtype, 2, 1, 200, 8, false);
            Result fused = in.run(x -> full.attend(x[0], x[1], x[2], padding, null));
            Inputs wide = in.inFloat64();
            Result composed = wide.run(x -> full.attendStageByStage(x[0], x[1], x[2], padding));
            fused.assertCloseTo(composed, dtype);
        }
    }

    @Test
    void theFusedKernelsGiveTheSameBitsOnOneThreadAsOnAll() {
        // Every work item writes its own memory and every sum runs in an order fixed by the shapes.
        LshAttention lsh = LshAttention.builder().hashes(2).buckets(32).chunkLength(8).chunksAfter(1).causal(true).build();
        Tensor rotations = draw(4, DType.FLOAT64, 1, 1, 16, 2, 16);
        Inputs in = new Inputs(DType.FLOAT32, 1, 1, 512, 16, true);
        FullAttention full = FullAttention.sharedQk(true, 0.125, -1e5);
        Inputs many = new Inputs(DType.FLOAT32, 3, 1, 300, 16, true);
        Result lshAll = in.run(x -> lsh.attendWithRotations(x[0], x[1], null, rotations, null));
        Result lshOne = dev.reformer.tensor.kernels.Parallel.withThreads(1,
                () -> in.run(x -> lsh.attendWithRotations(x[0], x[1], null, rotations, null)));
        Result fullAll = many.run(x -> full.attend(x[0], x[0], x[1], null, null));
        Result fullOne = dev.reformer.tensor.kernels.Parallel.withThreads(1, () -> many.run(x -> full.attend(x[0], x[0], x[1], null, null)));
        assertThat(lshOne.out()).containsExactly(lshAll.out());
        assertThat(fullOne.out()).containsExactly(fullAll.out());
        for (int i = 0; i < 2; i++) {
            assertThat(lshOne.grads()[i]).containsExactly(lshAll.grads()[i]);
            assertThat(fullOne.grads()[i]).containsExactly(fullAll.grads()[i]);
        }
    }

    @Test
    void theKernelPathIsTheOneThisRunAskedFor() {
        // The test command runs these tests twice: with the vector module (the vector kernels) and
        // without it (the plain loops); each run must exercise the path it names.
        boolean expected = !"false".equals(System.getProperty("reformer.test.vector", "true"));
        assertThat(Kernels.vector()).as("float32 cases must exercise the " + (expected ? "vector kernels" : "plain loops"))
                .isEqualTo(expected);
    }

    // ------------------------------------------------------------------ fixtures

    private static Tensor draw(long seed, DType dtype, long... shape) {
        return new Generator(seed).normal(DType.FLOAT64, 0, 1, shape).cast(dtype);
    }

    /** (B, L) bool: example 0 unpadded, example 1 padded from {@code from} on (and at {@code also}). */
    private static Tensor padding(int batch, int length, int from, int also) {
        long[] values = new long[batch * length];
        for (int t = from; t < length; t++) {
            values[length + t] = 1;
        }
        values[also % length] = 1;
        return Tensor.of(values, batch, length).cast(DType.BOOL);
    }

    private interface Attend {
        Variable apply(Variable[] x);
    }

    /** Random inputs (qk, v) or (q, k, v) and an upstream gradient, in one dtype. */
    private static final class Inputs {
        final boolean shared;
        final Tensor[] values;
        final Tensor upstream;

        private Inputs(boolean shared, Tensor[] values, Tensor upstream) {
            this.shared = shared;
            this.values = values;
            this.upstream = upstream;
        }

        /** The same values widened to float64 (exactly). */
        Inputs inFloat64() {
            Tensor[] wide = new Tensor[values.length];
            for (int i = 0; i < wide.length; i++) {
                wide[i] = values[i].cast(DType.FLOAT64);
            }
            return new Inputs(shared, wide, upstream.cast(DType.FLOAT64));
        }

        Inputs(DType dtype, int batch, int heads, int length, int dim, boolean shared) {
            this.shared = shared;
            int n = shared ? 2 : 3;
            values = new Tensor[n];
            for (int i = 0; i < n; i++) {
                values[i] = draw(10 + i, dtype, batch, heads, length, dim);
            }
            upstream = draw(20, dtype, batch, heads, length, dim);
        }

        Result run(Attend attend) {
            Variable[] x = new Variable[values.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = Variable.parameter(values[i]);
            }
            Variable out = attend.apply(x);
            out.backward(upstream);
            double[][] grads = new double[x.length][];
            for (int i = 0; i < x.length; i++) {
                grads[i] = x[i].grad().toDoubleArray();
            }
            return new Result(out.data().toDoubleArray(), grads);
        }
    }

    private record Result(double[] out, double[][] grads) {
        void assertCloseTo(Result reference, DType dtype) {
            double tol = dtype == DType.FLOAT64 ? 1e-10 : 1e-5;
            check("output", out, reference.out, tol, dtype);
            for (int i = 0; i < grads.length; i++) {
                check("gradient of input " + i, grads[i], reference.grads[i], tol, dtype);
            }
        }

        private static void check(String what, double[] actual, double[] expected, double tol, DType dtype) {
            assertThat(actual).hasSize(expected.length);
            for (int i = 0; i < actual.length; i++) {
                double allowed = dtype == DType.FLOAT64 ? tol : tol + tol * Math.abs(expected[i]);
                assertThat(Math.abs(actual[i] - expected[i])).as("%s at %d: fused %s, composed %s", what, i, actual[i],
                        expected[i]).isLessThanOrEqualTo(allowed);
            }
        }
    }
}
