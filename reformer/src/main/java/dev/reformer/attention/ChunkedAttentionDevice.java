package dev.reformer.attention;

import java.util.ServiceLoader;

/**
 * An accelerator that runs the fused chunked attention ({@link ChunkedAttentionSpec}'s contract)
 * on plain float32 arrays, forward and backward, with the rounds combined. The CUDA kernels
 * (module {@code cuda-kernels}, name {@code "cuda"}) provide one through {@link ServiceLoader};
 * {@link LshAttention.Builder#device} selects it, and {@link ChunkedAttention} then copies the
 * op's inputs to the device and its results back, giving what the CPU path gives within float32
 * rounding. A problem the device cannot run (see {@link #unsupported}) stays on the CPU.
 */
public interface ChunkedAttentionDevice {
    /** The name {@link LshAttention.Builder#device} selects it by. */
    String name();

    /** Null if the device can run now; else why not (no GPU, no driver, kernels not built). */
    String unavailable();

    /** Null if the device runs {@code spec} at head size {@code dim}; else why not. */
    String unsupported(ChunkedAttentionSpec spec, int dim);

    /** The combined output (N, L, D) for inputs (N, L, D); {@code k} is null for shared QK. */
    float[] forward(ChunkedAttentionProblem problem, float[] q, float[] k, float[] v);

    /** Gradients of q, k (null for shared QK) and v from that of the combined output. */
    float[][] backward(ChunkedAttentionProblem problem, float[] q, float[] k, float[] v, float[] dCombined);

    /**
     * The device called {@code name} on the class path, ready to run; throws with the reason when
     * there is none or it cannot run here.
     */
    static ChunkedAttentionDevice named(String name) {
        for (ChunkedAttentionDevice d : ServiceLoader.load(ChunkedAttentionDevice.class)) {
            if (d.name().equals(name)) {
                String why = d.unavailable();
                if (why != null) {
                    throw new IllegalStateException("attention device '" + name + "' cannot run here: " + why);
                }
                return d;
            }
        }
        throw new IllegalArgumentException("no attention device '" + name + "' on the class path: add the cuda-kernels"
                + " module (dev.reformer:reformer-cuda-kernels) for 'cuda', or leave the device out to run on the CPU");
    }
}
