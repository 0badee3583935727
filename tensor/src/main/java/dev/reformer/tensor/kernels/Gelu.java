package dev.reformer.tensor.kernels;

import dev.reformer.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU, tanh form, forward and backward in one pass over the elements:
 * {@code gelu(x) = 0.5 x (1 + tanh u)} with {@code u = sqrt(2/pi) (x + 0.044715 x^3)}, and
 * {@code gelu'(x) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)}.
 * The composition of primitives ({@code Functional.geluComposed}) writes ten tensors of x's size
 * and keeps them for the backward; this keeps only x.
 *
 * <p>The vector kernel uses the sigmoid form of the same function,
 * {@code 0.5 (1 + tanh u) = s = 1 / (1 + e^(-2u))}, so that {@code gelu(x) = x s} and
 * {@code gelu'(x) = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)}, on {@link Exp}'s
 * exponential.
 */
public final class Gelu {
    /** sqrt(2/pi) and the cubic coefficient of GELU's tanh form. */
    static final double C = Math.sqrt(2 / Math.PI);
    static final double A = 0.044715;

    private Gelu() {
    }

    /** {@code out = gelu(x)}; both dense, same shape. */
    public static void forward(Tensor x, Tensor out) {
        Pass.elements(x.numel()).rows(x).rowsOut(out).run(g -> {
            if (g.isFloat) {
                pass(g.f(0), null, g.f(1), g.elements(), g.floatScratch(0, g.elements()), g.vector);
            } else {
                for (int i = 0; i < g.elements(); i++) {
                    g.d(1)[i] = gelu(g.d(0)[i]);
                }
            }
        });
    }

    /** {@code out = g gelu'(x)}, the gradient of x for {@code y = gelu(x)} and y's gradient g. */
    public static void backward(Tensor x, Tensor grad, Tensor out) {
        Pass.elements(x.numel()).rows(x).rows(grad).rowsOut(out).run(g -> {
            if (g.isFloat) {
                pass(g.f(0), g.f(1), g.f(2), g.elements(), g.floatScratch(0, g.elements()), g.vector);
            } else {
                for (int i = 0; i < g.elements(); i++) {
                    g.d(2)[i] = derivative(g.d(0)[i]) * g.d(1)[i];
                }
            }
        });
    }

    // ------------------------------------------------------------------ float64: the reference

    static double gelu(double v) {
        return 0.5 * v * (1 + Math.tanh(C * (v + A * v * v * v)));
    }

    static double derivative(double v) {
        double t = Math.tanh(C * (v + A * v * v * v));
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * A * v * v);
    }

    // ------------------------------------------------------------------ float32: the sigmoid form

    /**
     * The forward where {@code grad} is null, else the backward; {@code e} is scratch for
     * {@code e^(-2u)}: its argument, then {@link Exp}'s exponential, then the output, each step a
     * loop of its own (or the vector kernel's).
     */
    static void pass(float[] x, float[] grad, float[] out, int n, float[] e, boolean vector) {
        if (vector) {
            Vector.pass(x, grad, out, n, e);
            return;
        }
        float c = (float) C;
        float a = (float) A;
        for (int i = 0; i < n; i++) {
            e[i] = Math.fma(x[i] * x[i], a, 1f) * x[i] * (-2 * c);
        }
        Exp.plain(e, 0, n, 0f, e);
        for (int i = 0; i < n; i++) {
            e[i] = 1f / (1f + e[i]);                                  // s
        }
        if (grad == null) {
            for (int i = 0; i < n; i++) {
                out[i] = x[i] * e[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                float v = x[i];
                float s = e[i];
                out[i] = Math.fma(2f * v * s * (1f - s), Math.fma(v * v, 3 * a, 1f) * c, s) * grad[i];
            }
        }
    }

    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        private Vector() {
        }

        /** The forward where {@code grad} is null, else the backward: one method each (see {@link Reductions.Vector}). */
        static void pass(float[] x, float[] grad, float[] out, int n, float[] e) {
            exponent(x, n, e);
            Exp.Vector.expShifted(e, 0, n, 0f, e);
            if (grad == null) {
                forward(x, out, n, e);
            } else {
                backward(x, grad, out, n, e);
            }
        }

        /** {@code e = -2 sqrt(2/pi) (x + 0.044715 x^3)}, the argument of e^(-2u). */
        static void exponent(float[] x, int n, float[] e) {
            float c = (float) C;
            float a = (float) A;
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, i);
                v.mul(v).fma(a, 1f).mul(v).mul(-2 * c).intoArray(e, i);
            }
            for (; i < n; i++) {
                e[i] = Math.fma(x[i] * x[i], a, 1f) * x[i] * (-2 * c);
            }
        }

        /** {@code out = x s} with {@code s = 1 / (1 + e)}. */
        static void forward(float[] x, float[] out, int n, float[] e) {
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector s = FloatVector.broadcast(F, 1f).div(FloatVector.fromArray(F, e, i).add(1f));
                FloatVector.fromArray(F, x, i).mul(s).intoArray(out, i);
            }
            for (; i < n; i++) {
                out[i] = x[i] * (1f / (1f + e[i]));
            }
        }

        /** {@code out = grad (s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2))}. */
        static void backward(float[] x, float[] grad, float[] out, int n, float[] e) {
            float c = (float) C;
            float a = (float) A;
            int i = 0;
            for (; i < F.loopBound(n); i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, i);
                FloatVector s = FloatVector.broadcast(F, 1f).div(FloatVector.fromArray(F, e, i).add(1f));
                FloatVector du = v.mul(v).fma(3 * a, 1f).mul(c);
                FloatVector dy = v.mul(2f).mul(s).mul(s.neg().add(1f)).fma(du, s);
                dy.mul(FloatVector.fromArray(F, grad, i)).intoArray(out, i);
            }
            for (; i < n; i++) {
                float v = x[i];
                float s = 1f / (1f + e[i]);
                out[i] = Math.fma(2f * v * s * (1f - s), Math.fma(v * v, 3 * a, 1f) * c, s) * grad[i];
            }
        }
    }
}
