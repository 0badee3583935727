package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;
import dev.reformer.tensor.Tensor;
import java.util.OptionalDouble;

/**
 * Chunked attention without hashing: the sequence, in its own order, is cut into chunks of C and
 * each chunk attends to itself and {@code chunksBefore} chunks back ({@code chunksAfter} ahead),
 * at O(L * C) cost. Unlike LSH attention's cyclic windows, a window stops at the sequence's ends.
 * The reference configurations mix it with LSH layers (enwik8: three local layers to one LSH layer).
 *
 * <pre>{@code
 * LocalAttention local = LocalAttention.separate(128, 1, 0, true, 1 / Math.sqrt(64));
 * Variable out = local.attend(q, k, v, null, rng);   // (B, H, L, D), L a multiple of 128
 * }</pre>
 */
public final class LocalAttention implements Attention {
    private final int chunkLength;
    private final int chunksBefore;
    private final int chunksAfter;
    private final boolean causal;
    private final double logitScale;
    private final OptionalDouble selfMaskValue; // present for shared queries and keys

    private LocalAttention(int chunkLength, int chunksBefore, int chunksAfter, boolean causal, double logitScale,
            OptionalDouble selfMaskValue) {
        if (chunkLength < 1 || chunksBefore < 0 || chunksAfter < 0) {
            throw new IllegalArgumentException("local attention: chunk length " + chunkLength + " must be >= 1 and"
                    + " chunks before/after (" + chunksBefore + "/" + chunksAfter + ") >= 0");
        }
        this.chunkLength = chunkLength;
        this.chunksBefore = chunksBefore;
        this.chunksAfter = chunksAfter;
        this.causal = causal;
        this.logitScale = logitScale;
        this.selfMaskValue = selfMaskValue;
    }

    /** Separate queries and keys (the reference configurations' local layers). */
    public static LocalAttention separate(int chunkLength, int chunksBefore, int chunksAfter, boolean causal,
            double logitScale) {
        return new LocalAttention(chunkLength, chunksBefore, chunksAfter, causal, logitScale, OptionalDouble.empty());
    }

    /** Shared queries and keys: keys normalised, own position at {@code selfMaskValue}. */
    public static LocalAttention sharedQk(int chunkLength, int chunksBefore, int chunksAfter, boolean causal,
            double logitScale, double selfMaskValue) {
        return new LocalAttention(chunkLength, chunksBefore, chunksAfter, causal, logitScale,
                OptionalDouble.of(selfMaskValue));
    }

    public int chunkLength() {
        return chunkLength;
    }

    @Override
    public boolean sharesQueryKey() {
        return selfMaskValue.isPresent();
    }

    @Override
    public IncrementalAttention incremental(int heads, int dim, DType dtype, Generator rng) {
        return new IncrementalAttention.Windowed(new ChunkedAttentionSpec(1, chunkLength, chunksBefore, chunksAfter, false,
                causal, logitScale, selfMaskValue.orElse(Double.NaN), false), heads, dim);
    }

    /** The fused op ({@link ChunkedAttention}): one round in sequence order, windows stopping at the ends. */
    @Override
    public Variable attend(Variable q, Variable k, Variable v, Tensor padding, Generator rng) {
        check(q, k, v, padding);
        long[] s = q.shape();
        long n = s[0] * s[1];
        long length = s[2];
        long dim = s[3];
        ChunkedAttentionSpec spec = new ChunkedAttentionSpec(1, chunkLength, chunksBefore, chunksAfter, false, causal,
                logitScale, selfMaskValue.orElse(Double.NaN), false);
        boolean[] padded = AttentionShapes.paddingPerRow(padding, s[1]);
        ChunkedAttentionProblem problem = new ChunkedAttentionProblem(spec, (int) n, (int) length, (int) dim, null, padded);
        Variable q3 = q.reshape(n, length, dim);                                         // (N, L, D)
        Variable v3 = v.reshape(n, length, dim);
        Variable out = sharesQueryKey() ? ChunkedAttention.apply(problem, q3, v3)
                : ChunkedAttention.apply(problem, q3, k.reshape(n, length, dim), v3);
        return out.reshape(s);
    }

    private void check(Variable q, Variable k, Variable v, Tensor padding) {
        AttentionShapes.check("local attention", q, k, v, padding, sharesQueryKey());
        long length = q.shape()[2];
        if (length % chunkLength != 0) {
            long padded = (length + chunkLength - 1) / chunkLength * chunkLength;
            throw new ShapeException("local attention: length " + length + " is not a multiple of chunk length "
                    + chunkLength + "; pad to " + padded);
        }
    }

    /** The same attention composed stage by stage from primitives: the reference the fused op is tested against. */
    public Variable attendStageByStage(Variable q, Variable k, Variable v, Tensor padding) {
        check(q, k, v, padding);
        long[] s = q.shape();
        long batch = s[0];
        long heads = s[1];
        long length = s[2];
        long dim = s[3];
        long n = batch * heads;
        Variable keys = sharesQueryKey() ? Masks.normalize(q) : k;
        Variable queries = Chunks.chunk(q.reshape(n, length, dim), chunkLength);       // (N, n, C, D)
        Variable windowKeys = Chunks.lookAround(Chunks.chunk(keys.reshape(n, length, dim), chunkLength),
                chunksBefore, chunksAfter);                                            // (N, n, W*C, D)
        Variable windowValues = Chunks.lookAround(Chunks.chunk(v.reshape(n, length, dim), chunkLength),
                chunksBefore, chunksAfter);
        Tensor positions = Masks.positions(length).reshape(1, length);
        Tensor queryPositions = Chunks.chunk(positions, chunkLength);                  // (1, n, C)
        Tensor keyPositions = Chunks.lookAround(queryPositions, chunksBefore, chunksAfter); // (1, n, W*C)
        Tensor keyPadding = padding == null ? null : Chunks.lookAround(Chunks.chunk(
                padding.reshape(batch, 1, length).expand(batch, heads, length).reshape(n, length), chunkLength),
                chunksBefore, chunksAfter);
        Chunks.Attended attended = Chunks.attend(queries, windowKeys, windowValues,
                new Chunks.Window(queryPositions, keyPositions, keyPadding, outsideSequence(length / chunkLength)),
                new Chunks.Scoring(causal, logitScale, selfMaskValue), null);
        return attended.out().reshape(batch, heads, length, dim);
    }

    /** (n, W*C) bool: true for window slots whose chunk index j + offset falls outside 0..n-1. */
    private Tensor outsideSequence(long chunks) {
        int window = (chunksBefore + 1 + chunksAfter) * chunkLength;
        long[] outside = new long[Math.toIntExact(chunks * window)];
        for (int j = 0; j < chunks; j++) {
            for (int slot = 0; slot < window; slot++) {
                long neighbour = j + slot / chunkLength - chunksBefore;
                outside[j * window + slot] = neighbour < 0 || neighbour >= chunks ? 1 : 0;
            }
        }
        return Tensor.of(outside, chunks, window).cast(DType.BOOL);
    }
}
