package dev.reformer.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A central-difference gradient check per primitive op, and a check that no op is left out. */
class OpGradientTest {
    static List<OpCases.Case> cases() {
        return OpCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void analyticGradientMatchesCentralDifference(OpCases.Case c) {
        GradientCheck.Result result = c.run();
        assertThat(result.elementsChecked()).isPositive();
    }

    @Test
    void everyPrimitiveOpHasAGradientCheck() {
        Set<Class<?>> primitives = new HashSet<>(List.of(Function.class.getPermittedSubclasses()));
        primitives.remove(CustomFunction.class);
        Set<Class<?>> checked = new HashSet<>();
        for (OpCases.Case c : OpCases.all()) {
            checked.addAll(c.run().ops());
        }
        Set<Class<?>> unchecked = new HashSet<>(primitives);
        unchecked.removeAll(checked);
        assertThat(unchecked)
                .as("ops with no gradient check: add a case to OpCases for each")
                .isEmpty();
    }
}
