package dev.reformer.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.reformer.attention.LshAttention;
import org.junit.jupiter.api.Test;

/**
 * Where no GPU can run the kernels, every way in says why in one line instead of failing later:
 * the availability check, device memory, and the engine's device option. (On a GPU machine these
 * are skipped; {@link CudaKernelsGpuTest} runs there.)
 */
class CudaAvailabilityTest {
    @Test
    void withoutAGpuEveryEntryNamesTheReason() {
        Cuda.Availability a = Cuda.availability();
        assumeFalse(a.usable(), "a GPU is usable here: the GPU tests cover this machine");
        assertThat(a.reason()).isNotBlank().doesNotContain("\n");
        assertThatThrownBy(() -> DeviceBuffer.allocate(1024)).isInstanceOf(CudaException.class)
                .hasMessage("CUDA kernels unavailable: " + a.reason());
        assertThatThrownBy(() -> LshAttention.builder().hashes(2).buckets(8).chunkLength(16).device("cuda").build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("attention device 'cuda' cannot run here: " + a.reason());
    }

    @Test
    void anUnknownDeviceIsRefusedByName() {
        assertThatThrownBy(() -> LshAttention.builder().hashes(2).buckets(8).chunkLength(16).device("tpu").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no attention device 'tpu' on the class path");
    }

    @Test
    void theBuildPackagedTheKernelsAndTheirLauncherWhereItCould() {
        // nvcc and g++ are on the project's machines: the fatbin and the JNI library must be there
        boolean nvcc = new java.io.File("/usr/local/bin/nvcc").exists() || new java.io.File("/usr/local/cuda/bin/nvcc").exists();
        if (nvcc) {
            assertThat(Cuda.class.getResource(Cuda.FATBIN)).as("fatbin built by nvcc").isNotNull();
        }
        if (new java.io.File("/usr/bin/g++").exists()) {
            assertThat(Cuda.availability().reason()).doesNotContain("JNI library");
        }
    }
}
