package dev.reformer.attention;

import dev.reformer.autograd.CustomFunction;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;

/**
 * LSH and local attention as one op, forward and backward: the fast path beside the stage-by-stage
 * composition in {@link LshAttention} and {@link LocalAttention}, which it is tested equal to.
 *
 * <p>It reads queries, keys and values through the sorted order, builds each chunk's window from
 * its neighbours without copying them out, forms the masks from positions as it goes, and
 * combines the rounds: {@code out_t = sum_r softmax_r(lse_r,t) out_r,t}. It saves only its inputs,
 * the per-round outputs and logsumexps (freed as soon as the backward has run); the backward
 * recomputes every logit instead of storing the weights (see {@link ChunkedAttentionSpec}).
 *
 * <p>Float32 runs in the float kernel ({@link ChunkedAttentionKernel}: vector loops where the JDK's
 * vector module is loaded, plain loops elsewhere); float64 in the plain double-precision reference
 * ({@link ChunkedAttentionReference}). Inputs are (N, L, D): {@code (qk, v)} for shared queries
 * and keys, {@code (q, k, v)} otherwise; the output is (N, L, D).
 *
 * <pre>{@code
 * Variable out = ChunkedAttention.apply(problem, qk, v);       // (N, L, D)
 * }</pre>
 */
final class ChunkedAttention extends CustomFunction {
    private final ChunkedAttentionProblem problem;
    private final ChunkedAttentionDevice device;

    private ChunkedAttention(ChunkedAttentionProblem problem, ChunkedAttentionDevice device) {
        this.problem = problem;
        this.device = device;
    }

    /** Runs the op; {@code qkv} is {@code (qk, v)} for shared QK, else {@code (q, k, v)}, each (N, L, D). */
    static Variable apply(ChunkedAttentionProblem problem, Variable... qkv) {
        return apply(problem, null, qkv);
    }

    /**
     * Runs the op on {@code device} (null: the CPU) for float32 inputs the device supports, copying
     * inputs to it and results back; anything else runs on the CPU.
     */
    static Variable apply(ChunkedAttentionProblem problem, ChunkedAttentionDevice device, Variable... qkv) {
        int expected = problem.spec().sharedQk() ? 2 : 3;
        if (qkv.length != expected) {
            throw new IllegalArgumentException("chunked attention: " + qkv.length + " inputs given, " + expected
                    + " expected (" + (expected == 2 ? "qk, v" : "q, k, v") + ")");
        }
        boolean onDevice = device != null && qkv[0].data().dtype() == DType.FLOAT32
                && device.unsupported(problem.spec(), problem.dim()) == null;
        return new ChunkedAttention(problem, onDevice ? device : null).apply(qkv);
    }

    private boolean floatKernel(DType dtype) {
        return dtype == DType.FLOAT32;
    }

    @Override
    protected Tensor forward(Tensor... x) {
        Tensor q = x[0];
        Tensor k = problem.spec().sharedQk() ? null : x[1];
        Tensor v = x[x.length - 1];
        saveForBackward(x);
        long[] shape = q.shape();
        if (device != null) {
            // the device recomputes what its backward needs from the inputs: nothing else is saved
            float[] out = device.forward(problem, q.toFloatArray(), k == null ? null : k.toFloatArray(), v.toFloatArray());
            return Tensor.of(out, shape);
        }
        int rounds = problem.spec().rounds();
        long[] perItemShape = {problem.rows(), rounds, problem.length(), problem.dim()};
        if (floatKernel(q.dtype())) {
            Tensor perItem = Tensor.empty(q.dtype(), perItemShape);
            double[] lse = ChunkedAttentionKernel.forward(problem, q.floats(), k == null ? null : k.floats(), v.floats(),
                    perItem.writableFloats());
            if (rounds == 1) {
                Tensor y = perItem.reshape(shape); // one round: the items are the output
                saveForBackward(y, null);
                return y;
            }
            Tensor combined = Tensor.empty(q.dtype(), shape);
            RoundCombination.combine(perItem.floats(), lse, problem, combined.writableFloats());
            saveOwnedForBackward(perItem, Tensor.of(lse, problem.rows(), rounds, problem.length()));
            return combined;
        }
        ChunkedAttentionReference.Forward f = ChunkedAttentionReference.forward(problem, q.toDoubleArray(),
                k == null ? null : k.toDoubleArray(), v.toDoubleArray());
        Tensor perItem = Tensor.of(f.out(), perItemShape).cast(q.dtype());
        saveOwnedForBackward(perItem, Tensor.of(f.lse(), problem.rows(), rounds, problem.length()));
        return Tensor.of(RoundCombination.combine(f.out(), f.lse(), problem), shape).cast(q.dtype());
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        // d out / d out_r = w_r and d out / d lse_r = w_r (out_r - out); per item, with p = softmax(logits),
        // d logit_j = p_j (dOut . v_j - dOut . out_r + d lse_r), d v_j += p_j dOut, d q, d k from d logit
        boolean shared = problem.spec().sharedQk();
        Tensor q = saved(0);
        Tensor k = shared ? null : saved(1);
        Tensor v = saved(shared ? 1 : 2);
        long[] shape = q.shape();
        if (device != null) {
            float[][] d = device.backward(problem, q.toFloatArray(), k == null ? null : k.toFloatArray(), v.toFloatArray(),
                    g.toFloatArray());
            return gradients(shared, Tensor.of(d[0], shape), d[1] == null ? null : Tensor.of(d[1], shape),
                    Tensor.of(d[2], shape));
        }
        Tensor perItem = saved(shared ? 2 : 3);
        Tensor lse = saved(shared ? 3 : 4);
        if (floatKernel(q.dtype())) {
            // The kernel writes each item's query gradient over its dOut row: dOut must be ours.
            Tensor dOut = Tensor.empty(g.dtype(), perItem.shape());
            double[] dLse;
            if (lse != null) {
                dLse = RoundCombination.backward(g.floats(), perItem.floats(), lse.toDoubleArray(), problem,
                        dOut.writableFloats());
            } else {
                dLse = new double[problem.rows() * problem.items()]; // one round: lse does not reach the output
                dOut.writableFloats().put(0, g.floats(), 0, (int) g.numel());
            }
            Tensor dq = Tensor.empty(q.dtype(), shape);
            Tensor dk = shared ? null : Tensor.empty(q.dtype(), shape);
            Tensor dv = Tensor.empty(q.dtype(), shape);
            ChunkedAttentionKernel.backward(problem, q.floats(), k == null ? null : k.floats(), v.floats(),
                    perItem.floats(), dOut.writableFloats(), dLse, dq.writableFloats(), dk == null ? null : dk.writableFloats(),
                    dv.writableFloats());
            dOut.free();
            return gradients(shared, dq, dk, dv);
        }
        double[] out = perItem.toDoubleArray();
        double[] lseValues = lse.toDoubleArray();
        RoundCombination.Gradients dr = RoundCombination.backward(g.toDoubleArray(), out, lseValues, problem);
        ChunkedAttentionReference.Grads grads = ChunkedAttentionReference.backward(problem, q.toDoubleArray(),
                k == null ? null : k.toDoubleArray(), v.toDoubleArray(),
                new ChunkedAttentionReference.Forward(out, lseValues), dr.dOut(), dr.dLse());
        DType dtype = q.dtype();
        return gradients(shared, Tensor.of(grads.dq(), shape).cast(dtype),
                grads.dk() == null ? null : Tensor.of(grads.dk(), shape).cast(dtype), Tensor.of(grads.dv(), shape).cast(dtype));
    }

    private Tensor[] gradients(boolean shared, Tensor dq, Tensor dk, Tensor dv) {
        return shared ? new Tensor[] {needsGrad(0) ? dq : null, needsGrad(1) ? dv : null}
                : new Tensor[] {needsGrad(0) ? dq : null, needsGrad(1) ? dk : null, needsGrad(2) ? dv : null};
    }
}
