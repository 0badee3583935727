package dev.reformer.autograd.nn;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.IndexRangeException;
import dev.reformer.tensor.Tensor;
import java.util.Arrays;

/**
 * A lookup table: integer ids (...) -> rows (..., dim), {@code y[i] = W[id_i]}, W drawn from
 * {@code N(0, 1/dim)} so a row has about unit length. The gradient of a row is the sum of the
 * output gradients at the positions that looked it up (the backward of a gather).
 *
 * <pre>{@code
 * Embedding tokens = new Embedding(256, 64, DType.FLOAT32, new Generator(0));
 * Variable x = tokens.forward(ids);   // ids (B, L) int64 -> (B, L, 64)
 * }</pre>
 */
public final class Embedding extends Module {
    private final long vocab;
    private final long dim;
    private final Variable weight;

    public Embedding(long vocab, long dim, DType dtype, Generator gen) {
        this.vocab = vocab;
        this.dim = dim;
        this.weight = parameter("weight", gen.normal(dtype, 0.0, 1.0 / Math.sqrt(dim), vocab, dim));
    }

    public Variable forward(Tensor ids) {
        long[] flat = ids.toLongArray();
        for (int i = 0; i < flat.length; i++) {
            if (flat[i] < 0 || flat[i] >= vocab) {
                throw new IndexRangeException("Embedding: id " + flat[i] + " at flat position " + i + " of ids"
                        + ids.shapeString() + " is out of range for a vocabulary of " + vocab + ": expected 0 <= id < " + vocab);
            }
        }
        long[] outShape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        outShape[ids.rank()] = dim;
        return weight.gather(0, ids.reshape(flat.length)).reshape(outShape);
    }

    public Variable weight() {
        return weight;
    }
}
