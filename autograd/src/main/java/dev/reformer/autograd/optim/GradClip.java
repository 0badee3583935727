package dev.reformer.autograd.optim;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.Tensor;
import java.util.List;

/** Gradient clipping by global norm. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales every gradient by {@code min(1, maxNorm / ||g||)}, with {@code ||g||} the L2 norm of
     * all gradients together, so the update keeps its direction but not an exploding length.
     *
     * @return the global norm before clipping
     */
    public static double clipGlobalNorm(List<Variable> parameters, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clipGlobalNorm: max norm " + maxNorm + " must be > 0");
        }
        double sumOfSquares = 0;
        for (Variable p : parameters) {
            if (p.grad() != null) {
                Tensor g = p.grad();
                sumOfSquares += g.mul(g).sum(false).item();
            }
        }
        double norm = Math.sqrt(sumOfSquares);
        if (norm > maxNorm) {
            double scale = maxNorm / norm;
            for (Variable p : parameters) {
                if (p.grad() != null) {
                    p.setGrad(p.grad().mul(scale));
                }
            }
        }
        return norm;
    }
}
