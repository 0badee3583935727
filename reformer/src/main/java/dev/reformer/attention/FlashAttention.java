package dev.reformer.attention;

import dev.reformer.autograd.CustomFunction;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/**
 * Full attention as one op, forward and backward, that never holds an L x L matrix: the fast path
 * beside {@link FullAttention#attendStageByStage}, which it is tested equal to. Float32 runs the
 * tiled float kernel ({@link FlashAttentionKernel}); float64 the plain reference
 * ({@link ChunkedAttentionReference}) on one chunk spanning the sequence. It saves its inputs, its
 * output and per query the maximum logit and the log of the softmax's sum; the backward
 * recomputes the weights from them. Inputs (N, L, D): {@code (qk, v)} for shared queries and keys,
 * else {@code (q, k, v)}; output (N, L, D).
 */
final class FlashAttention extends CustomFunction {
    private final ChunkedAttentionProblem problem;

    private FlashAttention(ChunkedAttentionProblem problem) {
        this.problem = problem;
    }

    /** The full-attention problem: one round, one chunk of the whole sequence, no neighbours. */
    static ChunkedAttentionProblem problem(int rows, int length, int dim, boolean causal, double scale,
            double selfMaskValue, boolean[] padding) {
        ChunkedAttentionSpec spec = new ChunkedAttentionSpec(1, length, 0, 0, false, causal, scale, selfMaskValue, false);
        return new ChunkedAttentionProblem(spec, rows, length, dim, null, padding);
    }

    static Variable apply(ChunkedAttentionProblem problem, Variable... qkv) {
        return new FlashAttention(problem).apply(qkv);
    }

    private static boolean floatKernel(DType dtype) {
        return dtype == DType.FLOAT32;
    }

    @Override
    protected Tensor forward(Tensor... x) {
        Tensor q = x[0];
        Tensor k = problem.spec().sharedQk() ? null : x[1];
        Tensor v = x[x.length - 1];
        saveForBackward(x);
        long[] shape = q.shape();
        if (floatKernel(q.dtype())) {
            Tensor y = Tensor.empty(q.dtype(), shape);
            FlashAttentionKernel.Stats stats = FlashAttentionKernel.forward(problem, q, k, v, y);
            saveForBackward(y);
            saveOwnedForBackward(Tensor.of(stats.max(), problem.rows(), problem.length()),
                    Tensor.of(stats.logSum(), problem.rows(), problem.length()));
            return y;
        }
        ChunkedAttentionReference.Forward f = ChunkedAttentionReference.forward(problem, q.toDoubleArray(),
                k == null ? null : k.toDoubleArray(), v.toDoubleArray());
        Tensor y = Tensor.of(f.out(), shape).cast(q.dtype());
        saveForBackward(y);
        saveOwnedForBackward(Tensor.of(f.lse(), problem.rows(), problem.length()), null);
        return y;
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        // with p = softmax(logits): d logit_ij = p_ij (dOut_i . v_j - dOut_i . out_i), d v_j += p_ij dOut_i,
        // d q_i += scale d logit_ij k_j, d k_j += scale d logit_ij q_i
        boolean shared = problem.spec().sharedQk();
        int inputs = shared ? 2 : 3;
        Tensor q = saved(0);
        Tensor k = shared ? null : saved(1);
        Tensor v = saved(inputs - 1);
        Tensor y = saved(inputs);
        long[] shape = q.shape();
        if (floatKernel(q.dtype())) {
            FlashAttentionKernel.Stats stats = new FlashAttentionKernel.Stats(saved(inputs + 1).toFloatArray(),
                    saved(inputs + 2).toFloatArray());
            Tensor dq = Tensor.empty(q.dtype(), shape);
            Tensor dk = shared ? null : Tensor.empty(q.dtype(), shape);
            Tensor dv = Tensor.empty(q.dtype(), shape);
            FlashAttentionKernel.backward(problem, q, k, v, y, g, stats, dq, dk, dv);
            return grads(dq, dk, dv);
        }
        ChunkedAttentionReference.Grads grads = ChunkedAttentionReference.backward(problem, q.toDoubleArray(),
                k == null ? null : k.toDoubleArray(), v.toDoubleArray(),
                new ChunkedAttentionReference.Forward(y.toDoubleArray(), saved(inputs + 1).toDoubleArray()),
                g.toDoubleArray(), new double[problem.rows() * problem.length()]);
        DType dtype = q.dtype();
        return grads(Tensor.of(grads.dq(), shape).cast(dtype), grads.dk() == null ? null : Tensor.of(grads.dk(), shape).cast(dtype),
                Tensor.of(grads.dv(), shape).cast(dtype));
    }

    private Tensor[] grads(Tensor dq, Tensor dk, Tensor dv) {
        return problem.spec().sharedQk() ? new Tensor[] {needsGrad(0) ? dq : null, needsGrad(1) ? dv : null}
                : new Tensor[] {needsGrad(0) ? dq : null, needsGrad(1) ? dk : null, needsGrad(2) ? dv : null};
    }
}
