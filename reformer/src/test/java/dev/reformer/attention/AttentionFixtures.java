package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;

/** Inputs and measurements shared by the attention tests. */
final class AttentionFixtures {
    private AttentionFixtures() {
    }

    static Tensor normal(long seed, long... shape) {
        return new Generator(seed).normal(DType.FLOAT64, 0, 1, shape);
    }

    static double[][] example(Tensor t, int b, int h) {
        long[] s = t.shape();
        double[] all = t.toDoubleArray();
        double[][] out = new double[(int) s[2]][(int) s[3]];
        for (int i = 0; i < s[2]; i++) {
            for (int d = 0; d < s[3]; d++) {
                out[i][d] = all[(int) ((((long) b * s[1] + h) * s[2] + i) * s[3] + d)];
            }
        }
        return out;
    }

    /**
     * The attention weight of every query on every key, (B, H, L, L), read off gradients: with
     * {@code loss = sum_d out[b,h,t,d]}, {@code dloss/dv[b,h,k,d] = w(t, k)} for every d. Each
     * query gets its own forward, all with the same seed, so LSH hashes the same way each time.
     */
    static double[][][][] weights(Attention attention, Tensor q, Tensor k, Tensor v, Tensor padding, long seed) {
        long[] s = q.shape();
        int b = (int) s[0];
        int h = (int) s[1];
        int l = (int) s[2];
        double[][][][] w = new double[b][h][l][l];
        for (int t = 0; t < l; t++) {
            Variable qv = Variable.constant(q);
            Variable kv = attention.sharesQueryKey() ? qv : Variable.constant(k);
            Variable vv = Variable.parameter(v);
            Variable out = attention.attend(qv, kv, vv, padding, new Generator(seed));
            out.slice(2, t, t + 1).sum().backward();
            for (int bi = 0; bi < b; bi++) {
                for (int hi = 0; hi < h; hi++) {
                    double[][] grad = example(vv.grad(), bi, hi);
                    for (int key = 0; key < l; key++) {
                        w[bi][hi][t][key] = grad[key][0];
                    }
                }
            }
        }
        return w;
    }
}
