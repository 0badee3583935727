package dev.reformer.autograd;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.DTypeException;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Checks a function's analytic gradients against central differences in float64.
 *
 * <p>For a function {@code y = f(x_1, ..., x_n)} it builds the scalar loss
 * {@code L = sum(y * w)} with a fixed random {@code w} (so every output element matters), runs
 * the backward, and compares each {@code dL/dx_i[j]} with
 * {@code (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)}. A pair passes when
 * {@code |analytic - numeric| <= atol + rtol * |numeric|}.
 *
 * <pre>{@code
 * GradientCheck.check("tanh", x -> x[0].tanh(), gen.normal(DType.FLOAT64, 0, 1, 3, 4));
 * }</pre>
 */
public final class GradientCheck {
    /** Step of the central difference: its error is O(eps^2) from truncation plus O(1e-16 / eps) from rounding. */
    public static final double EPS = 1e-6;
    public static final double RTOL = 1e-5;
    public static final double ATOL = 1e-7;

    private GradientCheck() {
    }

    /** A function of several variables. */
    @FunctionalInterface
    public interface Fn {
        Variable apply(Variable... x);
    }

    /** What a passing check measured, and which ops the function's graph used. */
    public record Result(String name, int elementsChecked, double maxAbsError, Set<Class<? extends Function>> ops) {
    }

    public static Result check(String name, Fn f, Tensor... inputs) {
        return check(name, f, EPS, RTOL, ATOL, inputs);
    }

    /**
     * Compares analytic and numeric gradients of every floating input, with central-difference
     * step {@code eps}. Integer and bool inputs are passed as constants.
     *
     * @throws GradientCheckFailure naming the function, the input, the index and both values
     */
    public static Result check(String name, Fn f, double eps, double rtol, double atol, Tensor... inputs) {
        return check(name, f, List.of(), eps, rtol, atol, inputs);
    }

    /**
     * Like {@link #check(String, Fn, Tensor...)}, and also checks the gradients of
     * {@code parameters}: float64 leaves that {@code f} reads, such as a module's weights.
     */
    public static Result checkWithParameters(String name, Fn f, List<Variable> parameters, Tensor... inputs) {
        return check(name, f, parameters, EPS, RTOL, ATOL, inputs);
    }

    private static Result check(String name, Fn f, List<Variable> parameters, double eps, double rtol, double atol,
            Tensor... inputs) {
        for (int i = 0; i < inputs.length; i++) {
            requireFloat64(name, "input " + i, inputs[i]);
        }
        for (int p = 0; p < parameters.size(); p++) {
            requireFloat64(name, "parameter " + p, parameters.get(p).data());
            parameters.get(p).zeroGrad();
        }
        Variable[] vars = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            vars[i] = inputs[i].dtype().isFloating() ? Variable.parameter(inputs[i]) : Variable.constant(inputs[i]);
        }
        Variable y = f.apply(vars);
        Tensor weights = new Generator(1234).normal(DType.FLOAT64, 0, 1, y.shape()).cast(y.dtype());
        Variable loss = y.mul(Variable.constant(weights)).sum();
        Set<Class<? extends Function>> ops = Graphs.opClasses(y);
        loss.backward();

        // Every differentiable thing: the floating inputs, then the parameters.
        List<Variable> leaves = new ArrayList<>();
        List<Integer> inputIndex = new ArrayList<>(); // position among f's arguments, or -1 for a parameter
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].dtype().isFloating()) {
                leaves.add(vars[i]);
                inputIndex.add(i);
                labels.add("input " + i);
            }
        }
        for (int p = 0; p < parameters.size(); p++) {
            leaves.add(parameters.get(p));
            inputIndex.add(-1);
            labels.add("parameter " + p);
        }
        Variable[] evalInputs = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            evalInputs[i] = Variable.constant(inputs[i]);
        }

        int checked = 0;
        double maxAbsError = 0;
        for (int l = 0; l < leaves.size(); l++) {
            Variable leaf = leaves.get(l);
            Tensor original = leaf.data();
            double[] a = leaf.grad() == null ? new double[(int) original.numel()] : leaf.grad().toDoubleArray();
            double[] x = original.toDoubleArray();
            for (int j = 0; j < x.length; j++) {
                double plus = lossAt(f, evalInputs, weights, leaf, inputIndex.get(l), x, j, eps);
                double minus = lossAt(f, evalInputs, weights, leaf, inputIndex.get(l), x, j, -eps);
                leaf.setData(original);
                double numeric = (plus - minus) / (2 * eps);
                double error = Math.abs(a[j] - numeric);
                if (!(error <= atol + rtol * Math.abs(numeric))) {
                    throw new GradientCheckFailure(String.format(
                            "gradient check failed for '%s': %s%s at index %s: analytic=%.10g numeric=%.10g"
                                    + " (|diff|=%.3g > atol %.1g + rtol %.1g * |numeric|)",
                            name, labels.get(l), original.shapeString(), Shapes.str(unravel(j, original.shape())), a[j],
                            numeric, error, atol, rtol));
                }
                maxAbsError = Math.max(maxAbsError, error);
                checked++;
            }
        }
        return new Result(name, checked, maxAbsError, ops);
    }

    private static void requireFloat64(String name, String what, Tensor t) {
        if (t.dtype() == DType.FLOAT32) {
            throw new DTypeException("gradient check '" + name + "': " + what + t.shapeString()
                    + " is float32; gradient checks run in float64, cast it");
        }
    }

    /**
     * L with element j of one leaf moved by delta, computed without recording a graph: an input
     * is replaced among f's arguments, a parameter has its value swapped (and restored by the caller).
     */
    private static double lossAt(Fn f, Variable[] evalInputs, Tensor weights, Variable leaf, int inputIndex,
            double[] x, int j, double delta) {
        double[] moved = x.clone();
        moved[j] += delta;
        Tensor movedValue = Tensor.of(moved, leaf.shape());
        Variable[] vars = evalInputs.clone();
        if (inputIndex >= 0) {
            vars[inputIndex] = Variable.constant(movedValue);
        } else {
            leaf.setData(movedValue);
        }
        try (GradMode.Scope noGrad = GradMode.disabled()) {
            return f.apply(vars).data().mul(weights).sum(false).item();
        }
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] coord = new long[shape.length];
        for (int k = shape.length - 1; k >= 0; k--) {
            coord[k] = flat % shape[k];
            flat /= shape[k];
        }
        return coord;
    }

    /** A gradient that disagrees with its central difference. */
    public static final class GradientCheckFailure extends AssertionError {
        public GradientCheckFailure(String message) {
            super(message);
        }
    }
}
