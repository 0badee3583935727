package dev.reformer.probe;

import dev.reformer.attention.FullAttention;
import dev.reformer.attention.LshAttention;
import dev.reformer.attention.Trace;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;

/**
 * Runs one probe case: a single attention call on the given tensors (one head), the backward of
 * {@code loss = sum(output * upstream_grad)}, and the hash buckets.
 */
public final class Probe {
    private Probe() {
    }

    /** What the probe reports, (B, L, D) tensors in the case's dtype; buckets and trace for LSH only. */
    public record Result(ProbeCase probeCase, Tensor output, Tensor gradQk, Tensor gradV, double loss, Tensor buckets,
            Trace trace) {
    }

    public static Result run(ProbeCase c) {
        DType dtype = c.dtype();
        long b = c.batch();
        long l = c.length();
        long d = c.dim();
        Variable qk = Variable.parameter(c.qk().cast(dtype).reshape(b, 1, l, d));       // (B, H=1, L, D)
        Variable v = Variable.parameter(c.v().cast(dtype).reshape(b, 1, l, d));
        Variable output;
        Trace trace = null;
        if (c.isLsh()) {
            LshAttention lsh = LshAttention.builder()
                    .hashes(c.hashes()).buckets(c.buckets()).chunkLength(c.chunkLength())
                    .chunksBefore(c.chunksBefore()).chunksAfter(c.chunksAfter()).causal(c.causal())
                    .selfMaskValue(c.selfMaskValue()).logitScale(c.logitScale()).dedupeRounds(c.dedupeRounds())
                    .build();
            trace = new Trace();
            output = lsh.attendWithRotations(qk, v, null, rotations(c, lsh), trace);
        } else {
            output = FullAttention.sharedQk(c.causal(), c.logitScale(), c.selfMaskValue())
                    .attend(qk, qk, v, null, new Generator(0));
        }
        Variable loss = output.mul(Variable.constant(c.upstreamGrad().cast(dtype).reshape(b, 1, l, d))).sum();
        loss.backward();
        Tensor buckets = trace == null ? null : bucketsOf(trace, b);
        return new Result(c, output.data().reshape(b, l, d), qk.grad().reshape(b, l, d), v.grad().reshape(b, l, d),
                loss.data().item(), buckets, trace);
    }

    /** The case's rotations as (R, H=1, D, K, NB/2), or ones drawn from its seed (shared by the batch). */
    private static Tensor rotations(ProbeCase c, LshAttention lsh) {
        if (c.rotations() != null) {
            long[] r = c.rotations().shape();
            return c.rotations().cast(c.dtype()).reshape(r[0], 1, r[1], r[2], r[3]);
        }
        return new Generator(c.seed()).normal(c.dtype(), 0, 1, 1, 1, c.dim(), c.hashes(), c.buckets() / 2L);
    }

    /** (B, K*L) int64: item k*L + t holds round offset + bucket. */
    private static Tensor bucketsOf(Trace trace, long batch) {
        int items = trace.hashes() * trace.length();
        long[] out = new long[Math.toIntExact(batch * items)];
        for (int row = 0; row < batch; row++) {
            for (int item = 0; item < items; item++) {
                out[row * items + item] = trace.bucket(row, item);
            }
        }
        return Tensor.of(out, batch, items);
    }
}
