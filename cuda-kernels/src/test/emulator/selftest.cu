// selftest.cu: kernels that check the emulator itself (CudaEmulatorTest launches them). Compiled
// only into libcuda-emulator.so, never into the fatbin. Three of them are wrong on purpose.

// grid (1), block (64). Per thread, six results a GPU gives for these warp operations:
// out[6*t + 0] the warp's sum of lane numbers by __shfl_xor_sync (496)
// out[6*t + 1] lane - 1 by __shfl_up_sync (lane 0 keeps its own 0)
// out[6*t + 2] lane 31's value by __shfl_sync (31 + 100 * warp)
// out[6*t + 3] __ballot_sync of the even lanes (0x55555555)
// out[6*t + 4] __match_any_sync on lane / 4: the four lanes of the caller's group
// out[6*t + 5] the block's total after shared-memory atomics and __syncthreads (64 * 65 / 2)
extern "C" __global__ void emulator_selftest_warp_ops(int* out) {
    __shared__ int total;
    const int t = threadIdx.x;
    const int lane = t & 31;
    const int warp = t >> 5;
    if (t == 0) {
        total = 0;
    }
    __syncthreads();
    int sum = lane;
    for (int offset = 16; offset > 0; offset >>= 1) {
        sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    }
    out[6 * t + 0] = sum;
    out[6 * t + 1] = __shfl_up_sync(0xffffffffu, lane, 1);
    out[6 * t + 2] = __shfl_sync(0xffffffffu, lane + 100 * warp, 31);
    out[6 * t + 3] = int(__ballot_sync(0xffffffffu, lane % 2 == 0));
    out[6 * t + 4] = int(__match_any_sync(0xffffffffu, lane / 4));
    atomicAdd(&total, t + 1);
    __syncthreads();
    out[6 * t + 5] = total;
}

// grid (1), block (32). Wrong: half the warp waits at __syncthreads, the other half at __syncwarp
// for the first half. A deadlock.
extern "C" __global__ void emulator_selftest_deadlock() {
    if (threadIdx.x < 16) {
        __syncthreads();
    } else {
        __syncwarp();
    }
}

// grid (1), block (32). Wrong: lane 5 returns, then the others' __syncwarp names it.
extern "C" __global__ void emulator_selftest_returned_lane() {
    if (threadIdx.x == 5) {
        return;
    }
    __syncwarp();
}

// grid (1), block (32). Wrong: shared memory read before any thread wrote it (the emulator fills
// it with 0xff bytes, so this reads -1; a GPU reads whatever is there).
extern "C" __global__ void emulator_selftest_unwritten_shared(int* out) {
    extern __shared__ int scratch[];
    out[threadIdx.x] = scratch[threadIdx.x];
}
