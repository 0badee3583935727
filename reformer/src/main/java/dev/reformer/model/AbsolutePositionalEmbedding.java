package dev.reformer.model;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Embedding;
import dev.reformer.autograd.nn.Module;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;

/** One learned vector per position: a (maxLength, d) table read at positions 0..L-1. */
public final class AbsolutePositionalEmbedding extends Module implements PositionalEmbedding {
    private final long maxLength;
    private final Embedding table;

    public AbsolutePositionalEmbedding(long maxLength, long dim, DType dtype, Generator init) {
        this.maxLength = maxLength;
        this.table = child("table", new Embedding(maxLength, dim, dtype, init));
    }

    @Override
    public Variable forward(long length) {
        if (length > maxLength) {
            throw new ShapeException("positional embedding: length " + length + " exceeds the " + maxLength
                    + " positions this model was built for; raise max length (and retrain) or shorten the input");
        }
        return table.forward(Tensor.arange(DType.INT64, length));
    }

    @Override
    public long maxLength() {
        return maxLength;
    }
}
