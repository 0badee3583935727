package dev.reformer.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link Exp#expShifted}'s float form, on whichever loop this JVM runs (the vector kernel, or
 * {@code Math.exp} without the vector module): within 1 ulp of {@code Math.exp}, right at the edges
 * (0, overflow, underflow, infinities, NaN), the same in place and at an offset, and bit for bit
 * the same when the JVM only interprets the code, which is what the vector API's own EXP is not.
 */
class ExpTest {

    /** Arguments over every scale that matters: near 0, softmax logits, the overflow edges. */
    static float[] arguments(int n) {
        Random random = new Random(7);
        float[] x = new float[n];
        float[] scales = {800, 90, 12, 3, 0.6f, 0.01f};
        for (int i = 0; i < n; i++) {
            x[i] = (random.nextFloat() * 2 - 1) * scales[i % scales.length];
        }
        return x;
    }

    static float[] exp(float[] x) {
        float[] y = new float[x.length];
        Exp.expShifted(x, 0, x.length, 0f, y);
        return y;
    }

    @Test
    void expIsWithinOneUlpOfMathExp() {
        float[] x = arguments(1 << 16);
        float[] y = exp(x);
        int compared = 0;
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            if (want <= Float.MAX_VALUE) {
                assertThat((double) y[i]).as("exp(%s)", x[i]).isCloseTo(want, within((double) Math.ulp((float) want)));
                compared++;
            } else {
                assertThat(y[i]).as("exp(%s) overflows", x[i]).isEqualTo(Float.POSITIVE_INFINITY);
            }
        }
        assertThat(compared).isGreaterThan(x.length / 2);
    }

    @Test
    void edgesAreExact() {
        float[] x = {0, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -1e5f, 1e5f, 88.5f, -1e9f, -100f};
        float[] y = exp(x);
        float[] inVectors = exp(java.util.Arrays.copyOf(x, 64));   // the same edges through the vector loop
        for (float[] e : new float[][] {y, inVectors}) {
            assertThat(e[0]).isEqualTo(1f);
            assertThat(e[1]).isEqualTo(0f);
            assertThat(e[2]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(e[3]).isNaN();
            assertThat(e[4]).isEqualTo(0f);
            assertThat(e[5]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(e[6]).as("e^88.5 needs 2^128, built in two factors").isFinite().isGreaterThan(2e38f);
            assertThat(e[7]).as("a masked logit's weight").isEqualTo(0f);
            assertThat(e[8]).as("a subnormal result").isGreaterThan(0f).isLessThan(Float.MIN_NORMAL);
        }
    }

    @Test
    void shiftOffsetInPlaceAndSumAgreeWithThePlainCall() {
        float[] x = arguments(1000);
        float shift = 2.5f;
        int at = 7;
        int n = 1000 - at - 2;                        // not a multiple of any vector length
        float[] shifted = new float[n];
        for (int i = 0; i < n; i++) {
            shifted[i] = x[at + i] - shift;
        }
        float[] want = exp(shifted);
        float[] y = new float[1000];
        double total = Exp.expShifted(x, at, n, shift, y);
        float[] inPlace = x.clone();
        Exp.expShifted(inPlace, at, n, shift, inPlace);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            assertThat(y[at + i]).isEqualTo(want[i]);
            assertThat(inPlace[at + i]).isEqualTo(want[i]);
            sum += want[i];
        }
        assertThat(y[at - 1]).as("outside the range").isZero();
        assertThat(inPlace[at + n]).as("outside the range").isEqualTo(x[at + n]);
        assertThat(total).isCloseTo(sum, within(1e-6 * sum));
    }

    /** A digest of the bits of every result, the same in any JVM that computes them the same way. */
    static long digest() {
        float[] x = arguments(1 << 12);
        long h = 17;
        for (float v : exp(x)) {
            h = 31 * h + Float.floatToRawIntBits(v);
        }
        float[] y = new float[x.length];
        h = 31 * h + Double.doubleToRawLongBits(Exp.expShifted(x, 3, x.length - 9, 1.25f, y));
        for (float v : y) {
            h = 31 * h + Float.floatToRawIntBits(v);
        }
        return h;
    }

    /** Entry point of the interpreted child JVM. */
    public static void main(String[] args) {
        System.out.println(digest());
    }

    @Test
    void interpretedAndCompiledCodeGiveTheSameBits() throws IOException, InterruptedException {
        long compiled = 0;
        for (int i = 0; i < 300; i++) {                // hot enough for the JIT's top tier
            compiled = digest();
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xint"));
        command.addAll(Kernels.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ExpTest.class.getName()));
        Process child = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("the -Xint child JVM finished").isTrue();
        assertThat(child.exitValue()).as("the -Xint child JVM's exit status").isZero();
        assertThat(Long.parseLong(out)).as("digest interpreted vs compiled").isEqualTo(compiled);
    }
}
