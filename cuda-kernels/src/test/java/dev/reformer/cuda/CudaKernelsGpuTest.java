package dev.reformer.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.reformer.attention.ChunkedAttentionProblem;
import dev.reformer.attention.ChunkedAttentionReference;
import dev.reformer.attention.ChunkedAttentionSpec;
import dev.reformer.attention.RoundCombination;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel version against its plain-Java reference, on the GPU, over the shapes the issue
 * names (L from 64 to 64K, K = 1, 2, 4, 8, causal or not, D = 64 and 128), with the tolerance
 * {@code atol + rtol * |reference|}. Skipped, with the reason, where no GPU can run them; run again,
 * on smaller shapes, against the CPU emulator of the driver in the build's emulated-gpu run. Uses no
 * ND4J, so that {@code gpu-check.sh}'s bundle (a jlink JRE, no ND4J natives) runs it.
 */
@Tag("gpu")
class CudaKernelsGpuTest {
    @BeforeEach
    void needsAGpu() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.usable(), "no GPU test on this machine: " + a.reason());
    }

    /** On the CPU emulator (the build's emulated-gpu run) the same kinds of shape, smaller. */
    static boolean emulated() {
        return Cuda.availability().emulated();
    }

    static Stream<Arguments> sortShapes() {
        if (emulated()) {
            return Stream.of(Arguments.of(2, 1, 64, 2), Arguments.of(2, 2, 1024, 16), Arguments.of(2, 3, 1000, 37),
                    Arguments.of(1, 8, 1024, 128));
        }
        return Stream.of(Arguments.of(2, 1, 64, 2), Arguments.of(2, 2, 1024, 16), Arguments.of(3, 4, 4096, 64),
                Arguments.of(1, 8, 16384, 256), Arguments.of(1, 4, 65536, 1024), Arguments.of(2, 8, 65536, 1024),
                Arguments.of(2, 3, 1000, 37));
    }

    @ParameterizedTest(name = "N={0} K={1} L={2} NB={3}")
    @MethodSource("sortShapes")
    void bucketSortMatchesItsReference(int rows, int rounds, int length, int nb) {
        int[] buckets = BucketSortReferenceTest.randomBuckets(new Random(length + rounds), rows, rounds, length, nb);
        BucketSortReference.Order expected = BucketSortReference.sort(buckets, rows, rounds, length, nb);
        for (CudaBucketSort.Version v : CudaBucketSort.Version.values()) {
            BucketSortReference.Order got = CudaBucketSort.sort(v, buckets, rows, rounds, length, nb);
            same(v + " sorted", got.sorted(), expected.sorted());
            same(v + " undo", got.undo(), expected.undo());
        }
    }

    static Stream<Arguments> hashShapes() {
        // N, L, D, K, S
        if (emulated()) {
            return Stream.of(Arguments.of(2, 256, 64, 2, 8), Arguments.of(1, 1000, 128, 4, 16), Arguments.of(1, 1000, 64, 3, 7),
                    Arguments.of(1, 130, 128, 2, 1));
        }
        return Stream.of(Arguments.of(2, 1000, 128, 4, 16), Arguments.of(2, 4096, 64, 8, 32), Arguments.of(1, 16384, 64, 4, 256),
                Arguments.of(1, 1000, 64, 3, 7), Arguments.of(1, 130, 128, 2, 1)); // last tiles of 21 and 4 columns
    }

    /** The hash against its reference, where only a near-tie (float32 against float64 sums) may differ. */
    @ParameterizedTest(name = "N={0} L={1} D={2} K={3} S={4}")
    @MethodSource("hashShapes")
    void hashMatchesItsReference(int rows, int length, int dim, int rounds, int half) {
        Random random = new Random(length + dim);
        float[] x = GpuBenchmark.normal(random, rows * length * dim);
        float[] rotations = GpuBenchmark.normal(random, rows * dim * rounds * half);
        int[] expected = LshHashReference.hash(x, rotations, rows, length, dim, rounds, half);
        int[] got = CudaLshHash.hash(x, rotations, rows, length, dim, rounds, half);
        assertThat(got).hasSize(expected.length);
        int nearTies = 0;
        for (int i = 0; i < got.length; i++) {
            if (got[i] < 0 || got[i] >= 2 * half) {
                throw new AssertionError("bucket " + i + " = " + got[i] + ": outside 0.." + (2 * half - 1)
                        + " (-1 is the emulator's mark of memory never written)");
            }
            if (got[i] != expected[i]) {
                int row = i / (rounds * length);
                int r = i / length % rounds;
                int t = i % length;
                double a = LshHashReference.valueOf(x, rotations, length, dim, rounds, half, row, r, t, got[i]);
                double b = LshHashReference.valueOf(x, rotations, length, dim, rounds, half, row, r, t, expected[i]);
                if (!(Math.abs(a - b) < 1e-4 * (1 + Math.abs(b)))) {
                    throw new AssertionError("bucket of row " + row + " round " + r + " position " + t + " = " + got[i] + " ("
                            + a + "), reference " + expected[i] + " (" + b + "): not a near-tie");
                }
                nearTies++;
            }
        }
        assertThat(nearTies).as("near-ties decided the other way").isLessThanOrEqualTo(got.length / 100);
    }

    /**
     * Exact ties, which random normal inputs never give: small integers make every projection exact
     * in float32 and float64, a column is repeated and another negated, and some positions are all
     * zero (every projection 0, so the bucket is 0). The first maximum must win, exactly.
     */
    @Test
    void hashBreaksTiesAsTheEngineDoes() {
        int rows = 2;
        int length = 300;
        int dim = 64;
        int rounds = 3;
        int half = 6;
        int columns = rounds * half;
        Random random = new Random(5);
        float[] x = new float[rows * length * dim];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i / dim) % 7 == 0 ? 0 : random.nextInt(5) - 2;
        }
        float[] rotations = new float[rows * dim * columns];
        for (int i = 0; i < rotations.length; i++) {
            rotations[i] = random.nextInt(5) - 2;
        }
        for (int row = 0; row < rows; row++) {
            for (int e = 0; e < dim; e++) {
                int at = (row * dim + e) * columns;
                rotations[at + 3] = rotations[at + 1]; // round 0: column 3 repeats column 1
                rotations[at + half + 4] = -rotations[at + half + 2]; // round 1: column 4 negates column 2
            }
        }
        int[] expected = LshHashReference.hash(x, rotations, rows, length, dim, rounds, half);
        same("buckets", CudaLshHash.hash(x, rotations, rows, length, dim, rounds, half), expected);
        assertThat(expected[0]).as("an all-zero position's bucket").isZero();
    }

    static Stream<Arguments> attentionShapes() {
        // L, K, causal, D, rows
        if (emulated()) {
            return Stream.of(Arguments.of(64, 1, false, 64, 2), Arguments.of(256, 2, true, 64, 2),
                    Arguments.of(512, 8, false, 128, 1), Arguments.of(1024, 4, true, 128, 1), Arguments.of(2048, 2, true, 64, 1));
        }
        return Stream.of(Arguments.of(64, 1, false, 64, 2), Arguments.of(1024, 2, true, 64, 2),
                Arguments.of(1024, 8, false, 128, 1), Arguments.of(4096, 4, true, 128, 1), Arguments.of(4096, 8, true, 64, 1),
                Arguments.of(16384, 4, false, 64, 1), Arguments.of(65536, 2, true, 64, 1));
    }

    @ParameterizedTest(name = "L={0} K={1} causal={2} D={3}")
    @MethodSource("attentionShapes")
    void chunkedAttentionMatchesItsReference(int length, int rounds, boolean causal, int dim, int rows) {
        ChunkedAttentionSpec spec = new ChunkedAttentionSpec(rounds, 64, 1, 0, true, causal, 1 / Math.sqrt(dim), -5e4, false);
        check(spec, length, dim, rows, true, 3);
    }

    static Stream<Arguments> windowShapes() {
        // chunk, before, after, cyclic (LSH, shared QK) or not (local, separate Q and K), causal, D, L, K
        return Stream.of(Arguments.of(16, 1, 0, true, true, 64, 256, 2), // v2: 32 threads a block
                Arguments.of(24, 1, 0, true, true, 64, 240, 2), // v2: 48 threads, a partial last warp
                Arguments.of(8, 1, 0, true, true, 128, 128, 2), // v2: 32 threads at D = 128
                Arguments.of(32, 2, 1, true, true, 64, 256, 2), // two chunks back and one ahead, wrapping around
                Arguments.of(32, 2, 1, false, true, 64, 256, 1), // the same window masked at both ends
                // two chunks in all, so the window holds one twice. Not causal: causal, position 0 would
                // see only three copies of itself at the self-mask value, where lse = -5e4 + log 3 is
                // stored in float32 0.004 apart (see chunked_attention.cu) and its dv is 0.1% off
                Arguments.of(32, 1, 1, true, false, 128, 32, 2));
    }

    /** Chunk lengths, windows and ends other than the default ones, both versions. */
    @ParameterizedTest(name = "C={0} before={1} after={2} cyclic={3} causal={4} D={5} L={6} K={7}")
    @MethodSource("windowShapes")
    void otherWindowsMatchTheirReference(int chunk, int before, int after, boolean cyclic, boolean causal, int dim, int length,
            int rounds) {
        ChunkedAttentionSpec spec = new ChunkedAttentionSpec(rounds, chunk, before, after, cyclic, causal, 1 / Math.sqrt(dim),
                cyclic ? -5e4 : Double.NaN, false);
        check(spec, length, dim, 2, cyclic, 5);
    }

    /** Local attention, separate Q and K; the rows end in 200 padded positions, so whole windows are padding. */
    @Test
    void localAttentionWithSeparateQueriesAndKeysMatchesItsReference() {
        ChunkedAttentionSpec spec = new ChunkedAttentionSpec(1, 64, 1, 1, false, true, 0.125, Double.NaN, false);
        check(spec, 1024, 64, 2, false, 200);
    }

    /** Checks forward and backward; the last {@code padded} positions of every row are padding. */
    private static void check(ChunkedAttentionSpec spec, int length, int dim, int rows, boolean hashed, int padded) {
        Random random = new Random(length * 31L + spec.rounds());
        int nb = Math.max(2, length / 64);
        int[] sorted = hashed ? BucketSortReference.sort(
                BucketSortReferenceTest.randomBuckets(random, rows, spec.rounds(), length, nb), rows, spec.rounds(), length,
                nb).sorted() : null;
        boolean[] padding = new boolean[rows * length];
        for (int row = 0; row < rows; row++) {
            for (int t = length - padded; t < length; t++) {
                padding[row * length + t] = true;
            }
        }
        ChunkedAttentionProblem pb = new ChunkedAttentionProblem(spec, rows, length, dim, sorted, padding);
        float[] q = GpuBenchmark.normal(random, rows * length * dim);
        float[] k = spec.sharedQk() ? null : GpuBenchmark.normal(random, rows * length * dim);
        float[] v = GpuBenchmark.normal(random, rows * length * dim);
        float[] g = GpuBenchmark.normal(random, rows * length * dim);

        ChunkedAttentionReference.Forward ref = ChunkedAttentionReference.forward(pb, doubles(q), k == null ? null : doubles(k),
                doubles(v));
        double[] combined = RoundCombination.combine(ref.out(), ref.lse(), pb);
        RoundCombination.Gradients dr = RoundCombination.backward(doubles(g), ref.out(), ref.lse(), pb);
        ChunkedAttentionReference.Grads refGrads = ChunkedAttentionReference.backward(pb, doubles(q),
                k == null ? null : doubles(k), doubles(v), ref, dr.dOut(), dr.dLse());
        for (CudaChunkedAttention.Version version : CudaChunkedAttention.Version.values()) {
            assertThat(CudaChunkedAttention.unsupported(version, spec, dim)).as("%s covers the shape", version).isNull();
            CudaChunkedAttention.Forward got = CudaChunkedAttention.forward(version, pb, q, k, v);
            close(version + " per-item output", got.perItem(), ref.out(), 1e-4, 1e-3);
            close(version + " logsumexp", got.lse(), ref.lse(), 1e-4, 1e-4);
            close(version + " combined output", got.combined(), combined, 1e-4, 1e-3);

            CudaChunkedAttention.Grads grads = CudaChunkedAttention.backward(version, pb, q, k, v, g);
            close(version + " dq", grads.dq(), refGrads.dq(), 1e-3, 1e-2);
            close(version + " dv", grads.dv(), refGrads.dv(), 1e-3, 1e-2);
            if (k != null) {
                close(version + " dk", grads.dk(), refGrads.dk(), 1e-3, 1e-2);
            }
        }
    }

    /**
     * v2's backward has no atomics: the same inputs give the same bits, run after run. On a GPU this
     * can fail (v1's atomics add in whatever order threads arrive); on the emulator, whose schedule
     * is fixed, it cannot.
     */
    @Test
    void v2GradientsAreTheSameBitsEveryRun() {
        ChunkedAttentionSpec spec = new ChunkedAttentionSpec(4, 64, 1, 0, true, true, 0.125, -5e4, false);
        int length = 1024;
        Random random = new Random(7);
        int[] sorted = BucketSortReference.sort(BucketSortReferenceTest.randomBuckets(random, 1, 4, length, 16), 1, 4, length,
                16).sorted();
        ChunkedAttentionProblem pb = new ChunkedAttentionProblem(spec, 1, length, 64, sorted, null);
        float[] q = GpuBenchmark.normal(random, length * 64);
        float[] v = GpuBenchmark.normal(random, length * 64);
        float[] g = GpuBenchmark.normal(random, length * 64);
        CudaChunkedAttention.Grads first = CudaChunkedAttention.backward(CudaChunkedAttention.Version.V2, pb, q, null, v, g);
        CudaChunkedAttention.Grads second = CudaChunkedAttention.backward(CudaChunkedAttention.Version.V2, pb, q, null, v, g);
        assertThat(second.dq()).isEqualTo(first.dq());
        assertThat(second.dv()).isEqualTo(first.dv());
    }

    /** Fails at the first index where {@code got} differs, naming it (the arrays are too long to print). */
    static void same(String what, int[] got, int[] expected) {
        assertThat(got).as(what).hasSize(expected.length);
        for (int i = 0; i < got.length; i++) {
            if (got[i] != expected[i]) {
                throw new AssertionError(what + "[" + i + "] = " + got[i] + ", reference " + expected[i]);
            }
        }
    }

    static void close(String what, float[] got, double[] expected, double atol, double rtol) {
        assertThat(got).as(what).hasSize(expected.length);
        for (int i = 0; i < got.length; i++) {
            double bound = atol + rtol * Math.abs(expected[i]);
            if (!(Math.abs(got[i] - expected[i]) <= bound)) {
                throw new AssertionError(what + "[" + i + "] = " + got[i] + ", reference " + expected[i] + ": off by "
                        + Math.abs(got[i] - expected[i]) + " > " + bound + " (atol " + atol + " + rtol " + rtol + " * |reference|)");
            }
        }
    }

    static double[] doubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
