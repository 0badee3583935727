package dev.reformer.tensor.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exponential over a run of values, {@code y = e^(x - shift)}, returning the sum of the
 * results: the step every softmax, logsumexp and GELU takes, and the fused attention kernels'
 * weights.
 *
 * <p>Float64 (the reference): {@code Math.exp} per element, which HotSpot computes with the same
 * code in every JIT tier.
 *
 * <p>Float32: built from additions, multiplications, fused multiply-adds and bit operations only,
 * each correctly rounded in every tier, so a result does not depend on how warm the JVM is (the
 * vector API's own {@code EXP} calls Intel's SVML once a loop is compiled but {@code Math.exp} per
 * lane before, and the two differ in the last bit: a training run's first steps gave losses that
 * differed in the seventh digit from run to run). The method: {@code x = k ln2 + r} with
 * {@code |r| <= ln2/2} (k rounded by adding and subtracting 1.5 * 2^23, ln 2 split in two so that
 * r is exact), {@code e^r} by the degree-7 minimax polynomial of Cephes' {@code expf}, times
 * {@code 2^k} built in the exponent bits, as two factors {@code 2^(k/2) 2^(k - k/2)} so that every
 * k from -159 to 128 stays in the normal range. Arguments are first clamped to [-110, 89]:
 * -infinity and a masked logit's -1e9 give exactly 0, +infinity gives infinity, results below the
 * smallest normal float come out subnormal as {@code Math.exp}'s do. Within 1 ulp of
 * {@code Math.exp} ({@code ExpTest}).
 *
 * <p>The float32 method runs as a vector kernel, or, without the vector module, as plain loops:
 * one loop per step, each short enough for the JIT to compile to SIMD code (one long loop body it
 * does not, and the bit moves never vectorise, so they get loops of their own). Both give the same
 * bits for every element.
 */
public final class Exp {
    private static final float LOG2E = 1.44269504f;
    private static final float ROUND = 12582912f;          // 1.5 * 2^23: t = x + ROUND rounds x to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f;      // ln 2 = LN2_HI + LN2_LO, LN2_HI in 9 bits
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float HIGH = 89f;                 // e^89 overflows to infinity
    private static final float LOW = -110f;                // e^-110 underflows to exactly 0
    private static final float P0 = 1.9875691500e-4f;      // e^r = 1 + r + r^2 (P5 + r (P4 + ... r P0))
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** Elements per run of the plain loops: their scratch stays in the L1 cache. */
    private static final int RUN = 512;

    private Exp() {
    }

    /** {@code y[i] = e^(x[i] - shift)} for {@code at <= i < at + n} ({@code y} may be {@code x}); returns their sum. */
    static double expShifted(double[] x, int at, int n, double shift, double[] y) {
        double sum = 0;
        for (int i = at; i < at + n; i++) {
            y[i] = Math.exp(x[i] - shift);
            sum += y[i];
        }
        return sum;
    }

    /**
     * {@code y[i] = e^(x[i] - shift)} for {@code at <= i < at + n} ({@code y} may be {@code x}), in
     * float32: the vector kernel where the vector module is loaded, else the plain loops. Returns
     * the sum of the results, added in double.
     */
    public static double expShifted(float[] x, int at, int n, float shift, float[] y) {
        return Kernels.vector() ? Vector.expShifted(x, at, n, shift, y) : plain(x, at, n, shift, y);
    }

    /** One thread's scratch for the plain loops. */
    private static final class Scratch {
        final float[] t = new float[RUN];
        final float[] r = new float[RUN];
        final int[] bits = new int[RUN];
        final int[] bits2 = new int[RUN];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * The float32 method as plain loops, a run of {@link #RUN} elements at a time, copied into
     * this thread's scratch first: the JIT vectorises a loop only when every array in it is read
     * at one index, so the steps work at index 0 of the scratch and the run goes back to y at the
     * end.
     */
    static double plain(float[] x, int at, int n, float shift, float[] y) {
        Scratch s = SCRATCH.get();
        float[] t = s.t;
        float[] r = s.r;
        int[] bits = s.bits;
        int[] bits2 = s.bits2;
        double sum = 0;
        for (int start = at; start < at + n; start += RUN) {
            int len = Math.min(RUN, at + n - start);
            System.arraycopy(x, start, r, 0, len);
            // v = x - shift, clamped; t = v log2(e) + ROUND, whose low bits are k = round(v log2(e))
            for (int i = 0; i < len; i++) {
                float v = Math.min(Math.max(r[i] - shift, LOW), HIGH);
                r[i] = v;
                t[i] = Math.fma(v, LOG2E, ROUND);
            }
            // r = v - k ln2, in two exact steps
            for (int i = 0; i < len; i++) {
                float k = t[i] - ROUND;
                r[i] = Math.fma(k, -LN2_LO, Math.fma(k, -LN2_HI, r[i]));
            }
            // e^r = 1 + r + r^2 P(r)
            for (int i = 0; i < len; i++) {
                float q = r[i];
                float p = Math.fma(q, P0, P1);
                p = Math.fma(p, q, P2);
                p = Math.fma(p, q, P3);
                p = Math.fma(p, q, P4);
                p = Math.fma(p, q, P5);
                r[i] = Math.fma(p, q * q, q) + 1f;
            }
            // 2^k as 2^(k/2) 2^(k - k/2), each built in the exponent bits
            for (int i = 0; i < len; i++) {
                bits[i] = Float.floatToRawIntBits(t[i]) - ROUND_BITS;
            }
            for (int i = 0; i < len; i++) {
                int k = bits[i];
                int half = k >> 1;
                bits[i] = (half + 127) << 23;
                bits2[i] = (k - half + 127) << 23;
            }
            for (int i = 0; i < len; i++) {
                t[i] = Float.intBitsToFloat(bits[i]);
            }
            for (int i = 0; i < len; i++) {
                r[i] = r[i] * t[i];
            }
            for (int i = 0; i < len; i++) {
                t[i] = Float.intBitsToFloat(bits2[i]);
            }
            for (int i = 0; i < len; i++) {
                r[i] = r[i] * t[i];
            }
            System.arraycopy(r, 0, y, start, len);
            sum += Reductions.plainSum(r, 0, len);
        }
        return sum;
    }

    /** The vector kernel, in a class of its own so that nothing touches the vector module where it is absent. */
    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        /** As {@link Exp#expShifted(float[], int, int, float, float[])}; lanes' partial sums added in double, the tail by the plain loops. */
        static double expShifted(float[] x, int at, int n, float shift, float[] y) {
            return expShifted(x, at, n, shift, y, VectorLanes.scratch());
        }

        /** The same with the caller's {@link VectorLanes#scratch()}, for callers that run many short rows. */
        static double expShifted(float[] x, int at, int n, float shift, float[] y, float[] lanes) {
            FloatVector s = FloatVector.broadcast(F, shift);
            FloatVector low = FloatVector.broadcast(F, LOW);
            FloatVector high = FloatVector.broadcast(F, HIGH);
            FloatVector log2e = FloatVector.broadcast(F, LOG2E);
            FloatVector round = FloatVector.broadcast(F, ROUND);
            FloatVector ln2Hi = FloatVector.broadcast(F, -LN2_HI);
            FloatVector ln2Lo = FloatVector.broadcast(F, -LN2_LO);
            FloatVector p0 = FloatVector.broadcast(F, P0);
            FloatVector p1 = FloatVector.broadcast(F, P1);
            FloatVector p2 = FloatVector.broadcast(F, P2);
            FloatVector p3 = FloatVector.broadcast(F, P3);
            FloatVector p4 = FloatVector.broadcast(F, P4);
            FloatVector p5 = FloatVector.broadcast(F, P5);
            FloatVector one = FloatVector.broadcast(F, 1f);
            FloatVector sum = FloatVector.zero(F);
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                // clamped by compare and blend: what Math.max and min give for every input, NaN
                // included, in half the instructions of the vector API's max and min
                FloatVector v = FloatVector.fromArray(F, x, at + i).sub(s);
                v = v.blend(low, v.lt(low));
                v = v.blend(high, v.compare(VectorOperators.GT, high));
                FloatVector t = v.fma(log2e, round);
                FloatVector k = t.sub(round);
                FloatVector r = k.fma(ln2Hi, v);
                r = k.fma(ln2Lo, r);
                FloatVector p = r.fma(p0, p1);
                p = p.fma(r, p2);
                p = p.fma(r, p3);
                p = p.fma(r, p4);
                p = p.fma(r, p5);
                FloatVector er = p.fma(r.mul(r), r).add(one);
                IntVector kBits = t.viewAsIntegralLanes().sub(ROUND_BITS);
                IntVector half = kBits.lanewise(VectorOperators.ASHR, 1);
                FloatVector scale1 = half.add(127).lanewise(VectorOperators.LSHL, 23).viewAsFloatingLanes();
                FloatVector scale2 = kBits.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).viewAsFloatingLanes();
                FloatVector e = er.mul(scale1).mul(scale2);
                sum = sum.add(e);
                e.intoArray(y, at + i);
            }
            sum.intoArray(lanes, 0);
            return VectorLanes.sum(lanes, F.length()) + (i < n ? plain(x, at + i, n - i, shift, y) : 0);
        }
    }
}
