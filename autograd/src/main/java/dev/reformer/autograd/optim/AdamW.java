package dev.reformer.autograd.optim;

import dev.reformer.autograd.Variable;
import java.util.List;

/** Adam with decoupled weight decay: see {@link Adam} for the update, here with {@code wd > 0}. */
public final class AdamW extends Adam {
    public AdamW(List<Variable> parameters, double learningRate, double beta1, double beta2, double eps,
            double weightDecay) {
        super(parameters, learningRate, beta1, beta2, eps, weightDecay);
    }
}
