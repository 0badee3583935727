package dev.reformer.autograd;

import dev.reformer.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Questions about a recorded graph: which ops it holds and how much memory it keeps alive. */
public final class Graphs {
    private Graphs() {
    }

    /** The ops of the graph that produced {@code output}, inputs before consumers. */
    public static List<Function> ops(Variable output) {
        return output.isLeaf() ? List.of() : Backprop.topologicalOrder(output.creator());
    }

    /** The classes of the ops in the graph that produced {@code output}. */
    public static Set<Class<? extends Function>> opClasses(Variable output) {
        Set<Class<? extends Function>> classes = new LinkedHashSet<>();
        for (Function fn : ops(output)) {
            classes.add(fn.getClass());
        }
        return classes;
    }

    /**
     * Bytes of the tensors the graph keeps for its backward: every tensor an op saved, counted
     * once per underlying buffer (views of one buffer count once, at the buffer's full size).
     * Leaf values (parameters, inputs) are not counted: they live whether or not a graph exists.
     */
    public static long retainedBytes(Variable output) {
        Set<Object> buffers = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = 0;
        for (Function fn : ops(output)) {
            for (Tensor t : fn.savedTensors()) {
                if (t == null) {
                    continue;
                }
                var buffer = t.nd4j().data();
                if (buffers.add(buffer)) {
                    bytes += buffer.length() * t.dtype().bytes();
                }
            }
        }
        return bytes;
    }
}
