package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A building block with named parameters and named sub-modules, like {@code torch.nn.Module}.
 * Parameter names are dotted paths ({@code blocks.0.attention.wqk.weight}); they are what a
 * checkpoint stores, so a module registers its parameters and children in a fixed order.
 *
 * <pre>{@code
 * final class Mlp extends Module {
 *     final Linear hidden = child("hidden", new Linear(64, 256, true, DType.FLOAT32, gen));
 *     final Linear out = child("out", new Linear(256, 10, true, DType.FLOAT32, gen));
 *     Variable forward(Variable x) { return out.forward(hidden.forward(x).relu()); }
 * }
 * }</pre>
 */
public abstract class Module {
    private final Map<String, Variable> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Registers a trainable leaf holding {@code init}. */
    protected final Variable parameter(String name, Tensor init) {
        Variable p = Variable.parameter(init);
        if (parameters.putIfAbsent(name, p) != null || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' is registered twice");
        }
        return p;
    }

    /** Registers a sub-module, whose parameters then appear under {@code name.}. */
    protected final <M extends Module> M child(String name, M module) {
        if (children.putIfAbsent(name, module) != null || parameters.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' is registered twice");
        }
        module.train(training);
        return module;
    }

    /** Every parameter of this module and its children, by dotted name, in registration order. */
    public final Map<String, Variable> namedParameters() {
        Map<String, Variable> all = new LinkedHashMap<>(parameters);
        children.forEach((name, child) -> child.namedParameters().forEach((n, p) -> all.put(name + "." + n, p)));
        return Collections.unmodifiableMap(all);
    }

    public final List<Variable> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** The number of trainable scalars. */
    public final long parameterCount() {
        return parameters().stream().mapToLong(p -> p.data().numel()).sum();
    }

    /** Training mode (dropout active) or evaluation mode, for this module and all children. */
    public final void train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
    }

    public final boolean isTraining() {
        return training;
    }

    public final void zeroGrad() {
        parameters().forEach(Variable::zeroGrad);
    }
}
