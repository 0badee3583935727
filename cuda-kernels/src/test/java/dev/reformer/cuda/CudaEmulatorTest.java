package dev.reformer.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CPU emulator of the CUDA driver (src/test/emulator) checked against what a GPU does, with the
 * kernels of {@code selftest.cu}: warp shuffles, votes, matches and shared atomics give a GPU's
 * answers, and the mistakes it exists to catch (a deadlock, a warp mask naming a lane that has
 * returned, shared memory read before it is written, too much shared memory) fail the launch with a
 * message that says which. Runs only in the build's emulated-gpu run; the kernels are not in the fatbin.
 */
@Tag("gpu")
class CudaEmulatorTest {
    @BeforeEach
    void needsTheEmulator() {
        Cuda.Availability a = Cuda.availability();
        assumeTrue(a.usable() && a.emulated(), "the emulator's checks run in the emulated-gpu test run only");
    }

    @Test
    void warpOperationsGiveAGpusAnswers() {
        try (DeviceBuffer out = DeviceBuffer.allocate(4 * 6 * 64)) {
            Cuda.launch("emulator_selftest_warp_ops", 1, 1, 64, 0, out.arg());
            int[] got = out.ints(6 * 64);
            for (int t = 0; t < 64; t++) {
                int lane = t % 32;
                int warp = t / 32;
                assertThat(got[6 * t]).as("xor-shuffle sum, thread %d", t).isEqualTo(496);
                assertThat(got[6 * t + 1]).as("shuffle up, thread %d", t).isEqualTo(lane == 0 ? 0 : lane - 1);
                assertThat(got[6 * t + 2]).as("shuffle from lane 31, thread %d", t).isEqualTo(31 + 100 * warp);
                assertThat(got[6 * t + 3]).as("ballot, thread %d", t).isEqualTo(0x55555555);
                assertThat(got[6 * t + 4]).as("match, thread %d", t).isEqualTo(0xf << (4 * (lane / 4)));
                assertThat(got[6 * t + 5]).as("shared atomics, thread %d", t).isEqualTo(64 * 65 / 2);
            }
        }
    }

    @Test
    void aDeadlockFailsTheLaunchNamingWhereThreadsWait() {
        assertThatThrownBy(() -> Cuda.launch("emulator_selftest_deadlock", 1, 1, 32, 0)).isInstanceOf(CudaException.class)
                .hasMessageContaining("deadlock in block (0, 0, 0)")
                .hasMessageContaining("threads 0..15 at __syncthreads, threads 16..31 in __syncwarp");
    }

    @Test
    void aWarpMaskNamingAReturnedLaneFailsTheLaunch() {
        assertThatThrownBy(() -> Cuda.launch("emulator_selftest_returned_lane", 1, 1, 32, 0)).isInstanceOf(CudaException.class)
                .hasMessageContaining("__syncwarp with mask 0xffffffff in warp 0 names lane 5, which has returned");
    }

    @Test
    void sharedMemoryNeverWrittenReadsAsMinusOne() {
        try (DeviceBuffer out = DeviceBuffer.allocate(4 * 32)) {
            Cuda.launch("emulator_selftest_unwritten_shared", 1, 1, 32, 4 * 32, out.arg());
            assertThat(out.ints(32)).containsOnly(-1);
        }
    }

    @Test
    void launchLimitsAreAGpusLimits() {
        assertThatThrownBy(() -> Cuda.launch("emulator_selftest_deadlock", 1, 1, 2048, 0)).isInstanceOf(CudaException.class)
                .hasMessageContaining("block size 2048x1x1 (at most 1024 threads)");
        assertThatThrownBy(() -> Cuda.launch("emulator_selftest_deadlock", 1, 70000, 32, 0)).isInstanceOf(CudaException.class)
                .hasMessageContaining("y and z at most 65535");
        assertThatThrownBy(() -> Cuda.launch("chunked_attention_forward_v2_d64", 1, 1, 512, 0)).isInstanceOf(CudaException.class)
                .hasMessageContaining("512 threads per block for chunked_attention_forward_v2_d64, compiled with"
                        + " __launch_bounds__(256)");
        try (DeviceBuffer out = DeviceBuffer.allocate(4 * 32)) {
            // 64 KiB is over the 48 KiB a kernel gets without its attribute; Cuda.function sets it above 48 KiB
            Cuda.launch("emulator_selftest_unwritten_shared", 1, 1, 32, 64 * 1024, out.arg());
            assertThatThrownBy(() -> Cuda.launch("emulator_selftest_unwritten_shared", 1, 1, 32, 228 * 1024, out.arg()))
                    .isInstanceOf(CudaException.class).hasMessageContaining("233472 bytes of dynamic shared memory asked for"
                            + " emulator_selftest_unwritten_shared (at most 232448)");
        }
    }
}
