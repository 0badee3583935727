package dev.reformer.cuda;

import dev.reformer.attention.ChunkedAttentionDevice;
import dev.reformer.attention.ChunkedAttentionProblem;
import dev.reformer.attention.ChunkedAttentionSpec;

/**
 * The CUDA kernels as the engine's attention device {@code "cuda"}:
 * {@code LshAttention.builder().device("cuda")} runs its chunked attention through
 * {@link CudaChunkedAttention} (the newest kernel version that covers the problem: v2, or v1 for
 * chunks too long for v2's blocks), copying inputs to the GPU and results back on each call.
 * Registered in {@code META-INF/services}.
 */
public final class CudaAttentionDevice implements ChunkedAttentionDevice {
    /** The version the engine and the benchmark's LSH row use where it can. */
    static final CudaChunkedAttention.Version VERSION = CudaChunkedAttention.Version.V2;

    static CudaChunkedAttention.Version versionFor(ChunkedAttentionSpec spec, int dim) {
        return CudaChunkedAttention.unsupported(VERSION, spec, dim) == null ? VERSION : CudaChunkedAttention.Version.V1;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String unavailable() {
        Cuda.Availability a = Cuda.availability();
        return a.usable() ? null : a.reason();
    }

    @Override
    public String unsupported(ChunkedAttentionSpec spec, int dim) {
        return CudaChunkedAttention.unsupported(versionFor(spec, dim), spec, dim);
    }

    @Override
    public float[] forward(ChunkedAttentionProblem problem, float[] q, float[] k, float[] v) {
        return CudaChunkedAttention.forward(versionFor(problem.spec(), problem.dim()), problem, q, k, v).combined();
    }

    @Override
    public float[][] backward(ChunkedAttentionProblem problem, float[] q, float[] k, float[] v, float[] dCombined) {
        CudaChunkedAttention.Grads g = CudaChunkedAttention.backward(versionFor(problem.spec(), problem.dim()), problem, q, k,
                v, dCombined);
        return new float[][] {g.dq(), g.dk(), g.dv()};
    }
}
