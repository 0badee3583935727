package dev.reformer.cuda;

import dev.reformer.attention.ChunkedAttentionDevice;
import dev.reformer.attention.ChunkedAttentionProblem;
import dev.reformer.attention.ChunkedAttentionSpec;

/**
 * The CUDA kernels as the engine's attention device {@code "cuda"}:
 * {@code LshAttention.builder().device("cuda")} runs its chunked attention through
 * {@link CudaChunkedAttention} (the newest kernel version), copying inputs to the GPU and results
 * back on each call. Registered in {@code META-INF/services}.
 */
public final class CudaAttentionDevice implements ChunkedAttentionDevice {
    static final CudaChunkedAttention.Version VERSION = CudaChunkedAttention.Version.V1;

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
        return CudaChunkedAttention.unsupported(spec, dim);
    }

    @Override
    public float[] forward(ChunkedAttentionProblem problem, float[] q, float[] k, float[] v) {
        return CudaChunkedAttention.forward(VERSION, problem, q, k, v).combined();
    }

    @Override
    public float[][] backward(ChunkedAttentionProblem problem, float[] q, float[] k, float[] v, float[] dCombined) {
        CudaChunkedAttention.Grads g = CudaChunkedAttention.backward(VERSION, problem, q, k, v, dCombined);
        return new float[][] {g.dq(), g.dk(), g.dv()};
    }
}
