package dev.reformer.model;

import dev.reformer.autograd.Variable;

/** A learned vector per position, added to the token embeddings. */
public interface PositionalEmbedding {
    /** Embeddings of positions 0..length-1, (length, d). */
    Variable forward(long length);

    /** The longest sequence this embedding covers. */
    long maxLength();
}
