package dev.reformer.autograd;

import dev.reformer.tensor.MemoryScope;
import dev.reformer.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reverse pass: visit the ops from the output back to the leaves in reverse topological
 * order, so each op runs its backward once, after every op that consumed its output has added its
 * share to the op's output gradient (gradients of a value used twice add up).
 *
 * <p>Memory: each op's backward runs in a {@link MemoryScope} of its own, so its temporaries go
 * back to the pool as soon as it returns; the pass holds a share of every gradient still to be
 * consumed and gives it back once the op it belongs to has used it (the ops' private saved
 * tensors go at that moment too). At any time only the gradients on the frontier are alive.
 */
final class Backprop {
    private Backprop() {
    }

    static void run(Variable root, Tensor seed) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not depend on any variable that requires a "
                    + "gradient (were the parameters created with Variable.parameter, and was grad mode on?)");
        }
        if (root.isLeaf()) {
            root.accumulateGrad(seed);
            return;
        }
        List<Function> order = topologicalOrder(root.creator());
        Map<Function, Tensor> outputGrads = new IdentityHashMap<>(); // each entry holds a share of its tensor
        outputGrads.put(root.creator(), seed.retain());
        try {
            for (int i = order.size() - 1; i >= 0; i--) {
                Function fn = order.get(i);
                Tensor gradOutput = outputGrads.remove(fn);
                if (gradOutput == null) {
                    continue; // every consumer of this op's output returned no gradient for it
                }
                Tensor[] toLeaves = new Tensor[fn.arity()];
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor[] inputGrads = fn.runBackward(gradOutput);
                    for (int j = 0; j < inputGrads.length; j++) {
                        if (inputGrads[j] != null && fn.inputFunction(j) != null) {
                            pass(fn.inputFunction(j), inputGrads[j], outputGrads);
                        } else if (inputGrads[j] != null && fn.inputLeaf(j) != null) {
                            toLeaves[j] = inputGrads[j].retain(); // carried out of the op's scope
                        }
                    }
                } finally {
                    gradOutput.release();
                }
                // Leaves accumulate in the caller's scope: a gradient they replace stays readable
                // until that scope closes, as Variable.zeroGrad promises.
                for (int j = 0; j < toLeaves.length; j++) {
                    if (toLeaves[j] != null) {
                        fn.inputLeaf(j).accumulateGrad(toLeaves[j]);
                        toLeaves[j].release();
                    }
                }
            }
        } finally {
            outputGrads.values().forEach(Tensor::release); // left over only when a backward failed
        }
    }

    /** Adds a gradient to what the op that produced an input has received so far (the pass holds a share). */
    private static void pass(Function producer, Tensor grad, Map<Function, Tensor> outputGrads) {
        Tensor earlier = outputGrads.get(producer);
        outputGrads.put(producer, (earlier == null ? grad : earlier.add(grad)).retain());
        if (earlier != null) {
            earlier.release();
        }
    }

    /** Ops reachable from {@code root}, each after all the ops it reads from (iterative DFS). */
    static List<Function> topologicalOrder(Function root) {
        List<Function> order = new ArrayList<>();
        Set<Function> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Function> stack = new ArrayDeque<>();
        Deque<Integer> nextInput = new ArrayDeque<>();
        stack.push(root);
        nextInput.push(0);
        visited.add(root);
        while (!stack.isEmpty()) {
            Function fn = stack.peek();
            int i = nextInput.pop();
            if (i < fn.arity()) {
                nextInput.push(i + 1);
                Function in = fn.inputFunction(i);
                if (in != null && visited.add(in)) {
                    stack.push(in);
                    nextInput.push(0);
                }
            } else {
                stack.pop();
                order.add(fn);
            }
        }
        return order;
    }
}
