package dev.reformer.tensor.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exponential over a run of values, {@code y = e^(x - shift)} with the sum of the results:
 * the step every softmax, logsumexp and GELU takes, and the fused attention kernels' weights.
 *
 * <p>Scalar loop: {@code Math.exp} per element, in double. HotSpot computes it with the same code
 * in every JIT tier, so results do not depend on how warm the JVM is.
 *
 * <p>Vector kernel (float32): built from additions, multiplications, fused multiply-adds and bit
 * operations only. The vector API's own {@code EXP} calls Intel's SVML once a loop is compiled, but
 * {@code Math.exp} per lane while it is interpreted or C1-compiled, and the two differ in the last
 * bit, so a training run's first steps (in mixed tiers) gave losses that differed in the seventh
 * digit from run to run. Each operation used here is correctly rounded in every tier. The method:
 * {@code x = k ln2 + r} with {@code |r| <= ln2/2} (k rounded by adding and subtracting
 * 1.5 * 2^23, ln 2 split in two so that r is exact), {@code e^r} by the degree-7 minimax polynomial
 * of Cephes' {@code expf}, times {@code 2^k} built in the exponent bits, as two factors
 * {@code 2^(k/2) 2^(k - k/2)} so that every k from -159 to 128 stays in the normal range.
 * Arguments are first clamped to [-110, 89]: -infinity and a masked logit's -1e9 give exactly 0,
 * +infinity gives infinity, results below the smallest normal float come out subnormal as
 * {@code Math.exp}'s do. Measured on 2^20 arguments against {@code Math.exp}: within 1 ulp
 * ({@code ExpTest}).
 */
public final class Exp {
    private Exp() {
    }

    /**
     * {@code y[at + i] = e^(x[at + i] - shift)} for {@code i < n} ({@code y} may be {@code x}); returns
     * the sum of the results. The scalar loop.
     */
    static double expShifted(double[] x, int at, int n, double shift, double[] y) {
        double sum = 0;
        for (int i = at; i < at + n; i++) {
            y[i] = Math.exp(x[i] - shift);
            sum += y[i];
        }
        return sum;
    }

    /**
     * The float32 form for kernels that keep their values in float arrays (the fused attention
     * kernels): the vector kernel where it runs, else {@code Math.exp} per element. Returns the
     * sum of the results, added in double.
     */
    public static double expShifted(float[] x, int at, int n, float shift, float[] y) {
        if (Kernels.vector()) {
            return Vector.expShifted(x, at, n, shift, y);
        }
        double sum = 0;
        for (int i = at; i < at + n; i++) {
            y[i] = (float) Math.exp(x[i] - shift);
            sum += y[i];
        }
        return sum;
    }

    /** The vector kernel, in a class of its own so that nothing touches the vector module where it is absent. */
    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private static final float LOG2E = 1.44269504f;
        private static final float ROUND = 12582912f;          // 1.5 * 2^23: t = x + ROUND rounds x to an integer
        private static final float LN2_HI = 0.693359375f;      // ln 2 = LN2_HI + LN2_LO, LN2_HI in 9 bits
        private static final float LN2_LO = -2.12194440e-4f;
        private static final float HIGH = 89f;                 // e^89 overflows to infinity
        private static final float LOW = -110f;                // e^-110 underflows to exactly 0

        private Vector() {
        }

        /** As {@link Exp#expShifted(float[], int, int, float, float[])}, lanes' partial sums added in double. */
        static double expShifted(float[] x, int at, int n, float shift, float[] y) {
            FloatVector s = FloatVector.broadcast(F, shift);
            FloatVector sum = FloatVector.zero(F);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, at + i).sub(s).max(LOW).min(HIGH);
                // v = k ln2 + r: k rounded to an integer, r by two exact steps
                FloatVector t = v.fma(LOG2E, ROUND);
                FloatVector k = t.sub(ROUND);
                FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), v);
                r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
                // e^r = 1 + r + r^2 P(r)
                FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
                p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
                p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
                p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
                p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
                FloatVector er = p.fma(r.mul(r), r).add(1f);
                // 2^k: t's bits are ROUND's plus k; (k + 127) << 23 are the bits of 2^k
                IntVector kBits = t.viewAsIntegralLanes().reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND));
                IntVector half = kBits.lanewise(VectorOperators.ASHR, 1);
                FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector scale2 = kBits.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector e = er.mul(scale1).mul(scale2);
                sum = sum.add(e);
                e.intoArray(y, at + i);
            }
            double total = sum.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                y[at + i] = (float) Math.exp(x[at + i] - shift);
                total += y[at + i];
            }
            return total;
        }
    }
}
