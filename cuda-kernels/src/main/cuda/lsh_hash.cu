// lsh_hash.cu: LSH attention's hash of every position, on the GPU: for round r,
// bucket = argmax(concat(x R_r, -x R_r)), the first maximum winning (index j < S stands for
// +(x R_r)[j], S + j for -(x R_r)[j]), as LshAttention.hash and numpy's argmax do, for finite
// inputs (a NaN projection is skipped, where the engine refuses it and numpy picks it).
//
// Contract (plain-Java reference: dev.reformer.cuda.LshHashReference):
//   in   x          float32 [N, L, D]     the shared query-keys of each (batch x head) row
//   in   rotations  float32 [N, D, K*S]   each row's random rotations, round r in columns r*S ..
//   out  buckets    int32   [N, K, L]     0 <= bucket < NB = 2S (the sort adds the round offset)
// Not covered: factorised bucket counts and padded positions' bucket of their own (the engine's
// hash keeps those on the CPU).
//
// Versions:
//   v1  block (position tile of 64, row): one thread per position, x in registers; the row's
//       rotation columns pass through shared memory 32 at a time (D x 32 floats), and each
//       thread keeps the round's largest and smallest projection as it goes. Each projection sums
//       over D in order with fused multiply-adds, four columns at a time (one float4 read from
//       shared memory feeds four of them). At L = 64K, K = 4, S = 512, D = 64 this is
//       8.6 G multiply-adds: twice the chunked attention's forward (4.3 G).

#include <cstdint>

namespace {

constexpr int HASH_POSITIONS = 64;
constexpr int HASH_COLUMNS = 32;

template <int D>
__device__ void lsh_hash_v1(const float* __restrict__ x, const float* __restrict__ rotations,
                            int32_t* __restrict__ buckets, int length, int rounds, int half) {
    __shared__ __align__(16) float columns[D * HASH_COLUMNS];  // columns c0 .. c0+31 of the rotations, [D][32]
    const int row = blockIdx.y;
    const int t = blockIdx.x * HASH_POSITIONS + threadIdx.x;
    const bool live = t < length;
    const int total = rounds * half;
    const float* r = rotations + (size_t)row * D * total;
    float xr[D];  // fully unrolled loops index it with constants only, so it stays in registers
#pragma unroll
    for (int e = 0; e < D; e++) {
        xr[e] = live ? x[((size_t)row * length + t) * D + e] : 0.f;
    }
    float best = 0.f;   // the round's largest projection so far, and its column
    float worst = 0.f;  // the smallest, and its column
    int best_j = 0;
    int worst_j = 0;
    for (int c0 = 0; c0 < total; c0 += HASH_COLUMNS) {
        const int count = min(HASH_COLUMNS, total - c0);
        __syncthreads();
        for (int idx = threadIdx.x; idx < D * HASH_COLUMNS; idx += blockDim.x) {
            int e = idx / HASH_COLUMNS;
            int j = idx % HASH_COLUMNS;
            columns[idx] = j < count ? r[(size_t)e * total + c0 + j] : 0.f;
        }
        __syncthreads();
        for (int j = 0; j < count; j += 4) {  // four columns at a time: one float4 read per x[e]
            float s[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
            for (int e = 0; e < D; e++) {
                float4 c = *reinterpret_cast<const float4*>(&columns[e * HASH_COLUMNS + j]);
                s[0] = fmaf(xr[e], c.x, s[0]);
                s[1] = fmaf(xr[e], c.y, s[1]);
                s[2] = fmaf(xr[e], c.z, s[2]);
                s[3] = fmaf(xr[e], c.w, s[3]);
            }
#pragma unroll
            for (int u = 0; u < 4; u++) {
                if (j + u >= count) {
                    break;
                }
                const int column = c0 + j + u;
                const int within = column % half;  // the column's index within its round
                if (within == 0 || s[u] > best) {
                    best = s[u];
                    best_j = within;
                }
                if (within == 0 || s[u] < worst) {
                    worst = s[u];
                    worst_j = within;
                }
                if (within == half - 1 && live) {
                    buckets[((size_t)row * rounds + column / half) * length + t] = best >= -worst ? best_j : half + worst_j;
                }
            }
        }
    }
}

}  // namespace

// grid (ceil(L / 64), N), block (64), no dynamic shared memory.
extern "C" __global__ void lsh_hash_v1_d64(const float* x, const float* rotations, int32_t* buckets, int length, int rounds,
                                          int half) {
    lsh_hash_v1<64>(x, rotations, buckets, length, rounds, half);
}

extern "C" __global__ void lsh_hash_v1_d128(const float* x, const float* rotations, int32_t* buckets, int length,
                                           int rounds, int half) {
    lsh_hash_v1<128>(x, rotations, buckets, length, rounds, half);
}
