package dev.reformer.attention;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.util.OptionalDouble;

/**
 * Every query attends to every allowed key: {@code out = softmax(scale * q k^T + masks) v},
 * at O(L^2) time. The baseline LSH attention approximates. {@link #attend} runs the fused, tiled
 * op ({@link FlashAttention}), whose memory grows with L; {@link #attendStageByStage} builds the
 * L x L logits from primitives and is the reference.
 *
 * <p>Two kinds of keys:
 * <ul>
 *   <li>{@link #separate}: keys from their own projection, logits {@code scale * q . k}
 *       (scale {@code 1/sqrt(D)} as in the Transformer);</li>
 *   <li>{@link #sharedQk}: the Reformer's shared query/key, keys {@code k^ = q / ||q||}, logits
 *       {@code scale * q . k^}, and a query's own position given the self-mask value.</li>
 * </ul>
 * Causal and padding masks work the same way in both (see {@link Masks}).
 *
 * <pre>{@code
 * FullAttention full = FullAttention.sharedQk(true, 1.0, Masks.SELF_MASK_VALUE);
 * Variable out = full.attend(qk, qk, v, null, rng);     // (B, H, L, D)
 * }</pre>
 */
public final class FullAttention implements Attention {
    private final boolean causal;
    private final double logitScale;
    private final OptionalDouble selfMaskValue; // present for shared queries and keys

    private FullAttention(boolean causal, double logitScale, OptionalDouble selfMaskValue) {
        this.causal = causal;
        this.logitScale = logitScale;
        this.selfMaskValue = selfMaskValue;
    }

    /** Separate queries and keys; {@code logitScale} is usually {@code 1/sqrt(D)}. */
    public static FullAttention separate(boolean causal, double logitScale) {
        return new FullAttention(causal, logitScale, OptionalDouble.empty());
    }

    /** Shared queries and keys, keys normalised, own position at {@code selfMaskValue}. */
    public static FullAttention sharedQk(boolean causal, double logitScale, double selfMaskValue) {
        return new FullAttention(causal, logitScale, OptionalDouble.of(selfMaskValue));
    }

    @Override
    public boolean sharesQueryKey() {
        return selfMaskValue.isPresent();
    }

    @Override
    public IncrementalAttention incremental(int heads, int dim, DType dtype, Generator rng) {
        return new IncrementalAttention.Full(causal, logitScale, selfMaskValue.orElse(Double.NaN), heads, dim);
    }

    /** The fused op ({@link FlashAttention}): memory linear in L. */
    @Override
    public Variable attend(Variable q, Variable k, Variable v, Tensor padding, Generator rng) {
        AttentionShapes.check("full attention", q, k, v, padding, sharesQueryKey());
        long[] s = q.shape();
        int n = (int) (s[0] * s[1]);
        int length = (int) s[2];
        int dim = (int) s[3];
        boolean[] padded = AttentionShapes.paddingPerRow(padding, s[1]);
        ChunkedAttentionProblem problem = FlashAttention.problem(n, length, dim, causal, logitScale,
                selfMaskValue.orElse(Double.NaN), padded);
        Variable q3 = q.reshape(n, length, dim);                                         // (N, L, D)
        Variable v3 = v.reshape(n, length, dim);
        Variable out = sharesQueryKey() ? FlashAttention.apply(problem, q3, v3)
                : FlashAttention.apply(problem, q3, k.reshape(n, length, dim), v3);
        return out.reshape(s);
    }

    /** The same attention composed from primitives, with its L x L logits: the reference the fused op is tested against. */
    public Variable attendStageByStage(Variable q, Variable k, Variable v, Tensor padding) {
        AttentionShapes.check("full attention", q, k, v, padding, sharesQueryKey());
        long length = q.shape()[2];
        Variable keys = sharesQueryKey() ? Masks.normalize(q) : k;
        Variable logits = q.matmul(keys.transpose()).mul(logitScale);                // (B, H, L, L)
        Tensor queryPositions = Masks.positions(length).reshape(length, 1);
        Tensor keyPositions = Masks.positions(length).reshape(1, length);
        if (causal) {
            logits = Masks.fill(logits, Masks.causal(queryPositions, keyPositions), Masks.FORBIDDEN);
        }
        if (padding != null) {
            long batch = padding.size(0);
            logits = Masks.fill(logits, padding.reshape(batch, 1, 1, length), Masks.FORBIDDEN);
        }
        if (selfMaskValue.isPresent()) {
            logits = Masks.fill(logits, Masks.self(queryPositions, keyPositions), selfMaskValue.getAsDouble());
        }
        return Functional.softmax(logits, -1).matmul(v);                               // (B, H, L, D)
    }
}
