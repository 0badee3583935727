package dev.reformer.autograd;

import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One differentiable op: its forward on tensors and its backward, side by side in one class.
 *
 * <p>For an op {@code y = f(x_1, ..., x_n)} the backward receives {@code dL/dy} and returns
 * {@code dL/dx_i = (dy/dx_i)^T dL/dy} for every input (a vector-Jacobian product), or
 * {@code null} for an input that needs no gradient. The forward caches, through
 * {@link #saveForBackward}, only what the backward needs; the engine drops that cache once the
 * backward has run, so the memory a graph holds is exactly what its ops saved.
 *
 * <p>The primitive ops form a closed list (this class is sealed), which lets a test check that
 * every one of them has a gradient check. A composite with a hand-written backward, such as a
 * reversible layer or the undo-sort of LSH attention, extends {@link CustomFunction}.
 *
 * <pre>{@code
 * Variable y = new UnaryOps.Exp().apply(x);   // what x.exp() does
 * }</pre>
 */
public abstract sealed class Function
        permits UnaryOps.Neg, UnaryOps.Exp, UnaryOps.Log, UnaryOps.Sqrt, UnaryOps.Tanh, UnaryOps.Relu,
                BinaryOps.Add, BinaryOps.Sub, BinaryOps.Mul, BinaryOps.Div, BinaryOps.Maximum, BinaryOps.Where,
                ReduceOps.Sum, ReduceOps.Max, ReduceOps.Mean,
                MatMul,
                LayoutOps.Reshape, LayoutOps.Permute, LayoutOps.Slice, LayoutOps.Concat, LayoutOps.Expand,
                IndexOps.Gather, IndexOps.ScatterAdd,
                Cast,
                FusedOps.Gelu, FusedOps.Softmax, FusedOps.LogSoftmax, FusedOps.LogSumExp, FusedOps.LayerNormalize,
                CustomFunction {

    private Function[] inputFunctions; // the op that made input i, when input i is an intermediate
    private Variable[] inputLeaves;    // input i itself, when it is a leaf that wants a gradient
    private long[][] inputShapes;
    private List<Tensor> saved = new ArrayList<>();
    private List<Tensor> owned = new ArrayList<>(); // saved tensors only this op can read
    private boolean recording;
    private boolean applied;
    private boolean released;

    /** Runs the forward on the inputs' values and, when a gradient is wanted, records this op in the graph. */
    public final Variable apply(Variable... inputs) {
        if (applied) {
            throw new IllegalStateException(name() + ": a Function instance is applied once; create a new one per call");
        }
        applied = true;
        boolean anyNeedsGrad = false;
        Tensor[] values = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            values[i] = inputs[i].data();
            anyNeedsGrad |= inputs[i].requiresGrad();
        }
        recording = (anyNeedsGrad || updatesParametersInBackward()) && GradMode.isEnabled();
        inputShapes = new long[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            inputShapes[i] = values[i].shape();
        }
        if (recording) {
            inputFunctions = new Function[inputs.length];
            inputLeaves = new Variable[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i].requiresGrad()) {
                    if (inputs[i].isLeaf()) {
                        inputLeaves[i] = inputs[i];
                    } else {
                        inputFunctions[i] = inputs[i].creator();
                    }
                }
            }
        }
        Tensor out = forward(values);
        if (!recording) {
            saved = null;
            owned = null;
            return Variable.constant(out);
        }
        return Variable.result(out, this);
    }

    /**
     * Whether this op's backward accumulates gradients into parameters it holds itself (not among
     * its inputs), as a reversible stack does: such an op is recorded even when no input needs a
     * gradient, or those parameters would never receive theirs.
     */
    protected boolean updatesParametersInBackward() {
        return false;
    }

    /** The op's value on plain tensors. */
    protected abstract Tensor forward(Tensor... inputs);

    /** {@code dL/dx_i} for each input given {@code dL/dy}; {@code null} where no gradient is needed. */
    protected abstract Tensor[] backward(Tensor gradOutput);

    /** The op's name in messages: the class name in lower case. */
    public String name() {
        return getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Keeps tensors for the backward, read back by position with {@link #saved}; a no-op when no
     * graph is being recorded. A {@code null} keeps a position for a tensor this call does not need.
     */
    protected final void saveForBackward(Tensor... tensors) {
        if (recording) {
            saved.addAll(Arrays.asList(tensors));
        }
    }

    /**
     * Like {@link #saveForBackward}, for tensors this op made for its backward alone (statistics,
     * masks, per-round outputs): nothing else can read them, so their memory goes back to the
     * pool the moment the backward has run, not when the scope closes.
     */
    protected final void saveOwnedForBackward(Tensor... tensors) {
        if (recording) {
            saved.addAll(Arrays.asList(tensors));
            owned.addAll(Arrays.asList(tensors));
        } else {
            for (Tensor t : tensors) {
                if (t != null) {
                    t.free();
                }
            }
        }
    }

    protected final Tensor saved(int i) {
        return saved.get(i);
    }

    /**
     * Whether input {@code i} wants a gradient; a backward may skip work, and a forward skip
     * saving tensors, for those that do not. Known in the forward already (false when nothing is
     * being recorded).
     */
    protected final boolean needsGrad(int i) {
        return recording && (inputFunctions[i] != null || inputLeaves[i] != null);
    }

    protected final long[] inputShape(int i) {
        return inputShapes[i];
    }

    protected final int arity() {
        return inputShapes.length;
    }

    // ---------------------------------------------------------------- used by the engine

    Function inputFunction(int i) {
        return inputFunctions[i];
    }

    Variable inputLeaf(int i) {
        return inputLeaves[i];
    }

    /** The tensors this op keeps for its backward (empty once the backward has run). */
    List<Tensor> savedTensors() {
        return released || saved == null ? List.of() : saved;
    }

    /** Runs the backward once, checks the gradients' shapes, then frees the saved tensors. */
    final Tensor[] runBackward(Tensor gradOutput) {
        if (released) {
            throw new IllegalStateException("backward: the graph through '" + name()
                    + "' was already used by a backward pass and its saved tensors freed; run the forward again");
        }
        Tensor[] grads = backward(gradOutput);
        if (grads.length != arity()) {
            throw new IllegalStateException(name() + ": backward returned " + grads.length + " gradients for "
                    + arity() + " inputs");
        }
        for (int i = 0; i < grads.length; i++) {
            if (grads[i] != null && !Arrays.equals(grads[i].shape(), inputShapes[i])) {
                throw new IllegalStateException(name() + ": backward returned a gradient of shape "
                        + grads[i].shapeString() + " for input " + i + " of shape "
                        + dev.reformer.tensor.Shapes.str(inputShapes[i]));
            }
        }
        released = true;
        saved = null;
        for (Tensor t : owned) {
            if (t != null) {
                t.free();
            }
        }
        owned = null;
        return grads;
    }
}
