package dev.reformer.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.reformer.attention.LshAttention;
import dev.reformer.autograd.Variable;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The engine on the kernels: {@code LshAttention} with {@code device("cuda")} gives the CPU path's
 * output and gradients. Needs ND4J (the engine's tensors), so it runs in the Maven build on a GPU
 * machine with Java, not in {@code gpu-check.sh}'s bundle. Skipped, with the reason, without a GPU.
 */
@Tag("gpu")
class CudaEngineGpuTest {
    @BeforeEach
    void needsAGpu() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.usable(), "no GPU test on this machine: " + a.reason());
    }

    @Test
    void lshAttentionOnTheDeviceGivesTheCpuResults() {
        Generator gen = new Generator(3);
        Variable qk = Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, 2, 2, 1024, 64));
        Variable v = Variable.parameter(gen.normal(DType.FLOAT32, 0, 1, 2, 2, 1024, 64));
        Tensor upstream = gen.normal(DType.FLOAT32, 0, 1, 2, 2, 1024, 64);
        LshAttention.Builder b = LshAttention.builder().hashes(4).buckets(16).chunkLength(64).causal(true)
                .logitScale(0.125).selfMaskValue(-5e4);
        float[][] cpu = run(b.build(), qk, v, upstream);
        float[][] gpu = run(b.device("cuda").build(), qk, v, upstream);
        String[] names = {"output", "d qk", "d v"};
        for (int i = 0; i < 3; i++) {
            double[] expected = new double[cpu[i].length];
            for (int j = 0; j < expected.length; j++) {
                expected[j] = cpu[i][j];
            }
            CudaKernelsGpuTest.close(names[i], gpu[i], expected, 1e-3, 1e-2);
        }
    }

    private static float[][] run(LshAttention attention, Variable qk, Variable v, Tensor upstream) {
        qk.zeroGrad();
        v.zeroGrad();
        Variable out = attention.attend(qk, qk, v, null, new Generator(5)); // the same rotations on both paths
        out.backward(upstream);
        return new float[][] {out.data().toFloatArray(), qk.grad().toFloatArray(), v.grad().toFloatArray()};
    }
}
