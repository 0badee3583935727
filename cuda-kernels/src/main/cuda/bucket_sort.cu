// bucket_sort.cu: LSH attention's sort of the K*L hashed items of each (batch x head) row.
//
// Contract (plain-Java reference: dev.reformer.cuda.BucketSortReference):
//   in   buckets     int32 [N, K, L]   bucket of position t in round r, 0 <= bucket < NB
//   out  sorted      int32 [N, K*L]    the item r*L + t at each sorted slot
//   out  undo        int32 [N, K*L]    the slot of each item: undo[sorted[s]] = s
// Items are ordered by the key r*NB + bucket, and by position t within a key (a stable counting
// sort over items taken in the order r*L + t): the same order as sorting by L*(r*NB + bucket) + t,
// the key the paper's code sorts by.
//
// Versions:
//   v1  one warp per row. The warp walks the row's items 32 at a time; lanes holding the same key
//       find each other with __match_any_sync, rank themselves by the lanes below them, and the
//       highest lane of each group advances that key's running count in shared memory. Two
//       passes: a histogram, then an exclusive scan of it by the warp, then the stable scatter.
//       Simple and obviously stable; one warp per row leaves most of the GPU idle when N is small.
//   v2  many blocks per row (tiles of 32 * warps items). Pass 1: each tile's histogram of keys,
//       written key-major. Pass 2: one block per row scans the [keys x tiles] counts into each
//       tile's first slot per key. Pass 3: each tile scatters its items: warps one after another,
//       each ranking its lanes as in v1, so the order inside a tile is the item order. Every pass
//       reads or writes each item a bounded number of times: memory-bound by construction. But
//       its per-tile counters (K*NB per tile, 4M ints per row at K=4, L=64K, NB=1024) outnumber
//       the items, and one block per row scans them all.
//   v3  one block per (row, round): a round's L items are a segment of their own, since every key
//       of round r sorts before every key of round r+1. Each warp counts a contiguous stretch of
//       the segment in its own row of shared counters, the block turns the counters into each
//       warp's first slot per bucket, and each warp scatters its stretch in order. No global
//       scratch, no atomics. One block per segment leaves SMs idle when N*K is small.
//
// Keys live in shared memory: v1 K*NB ints (<= 12288, 48 KiB), v2 a tile's K*NB ints (<= 58112,
// 227 KiB; the tiles' counts are in global memory), v3 (W + 1) * NB ints, with W warps chosen so
// that this stays within 96 KiB (NB <= 12288).

#include <cstdint>

namespace {

constexpr unsigned FULL_MASK = 0xffffffffu;

__device__ __forceinline__ unsigned lanes_below() {
    unsigned lane = threadIdx.x & 31u;
    return (1u << lane) - 1u;
}

/** The sum of v over lanes 0..lane of the (full) warp, by shuffles: a warp's inclusive scan. */
__device__ __forceinline__ int warp_inclusive_scan(int v) {
    const int lane = threadIdx.x & 31;
    for (int o = 1; o < 32; o <<= 1) {
        int up = __shfl_up_sync(FULL_MASK, v, o);
        if (lane >= o) {
            v += up;
        }
    }
    return v;
}

/**
 * Exclusive prefix sums of data[0..n) in place, by the whole block (blockDim.x a multiple of 32):
 * blockDim.x values at a time, each stretch scanned by warp shuffles and the warps' totals, with the
 * running total carried between stretches. Adds `offset` to every result.
 */
__device__ void block_exclusive_scan(int32_t* data, int n, int offset) {
    __shared__ int32_t warp_sums[32];
    __shared__ int32_t carry;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    if (threadIdx.x == 0) {
        carry = offset;
    }
    __syncthreads();
    for (int base = 0; base < n; base += blockDim.x) {
        int i = base + threadIdx.x;
        int v = i < n ? data[i] : 0;
        int inclusive = warp_inclusive_scan(v);
        if (lane == 31) {
            warp_sums[warp] = inclusive;
        }
        __syncthreads();
        if (warp == 0) {
            int w = lane < warps ? warp_sums[lane] : 0;
            int winc = warp_inclusive_scan(w);
            if (lane < warps) {
                warp_sums[lane] = winc - w;
            }
        }
        __syncthreads();
        int before = carry + warp_sums[warp];
        if (i < n) {
            data[i] = before + inclusive - v;
        }
        __syncthreads();
        if (threadIdx.x == blockDim.x - 1) {
            carry = before + inclusive;
        }
        __syncthreads();
    }
}

}  // namespace

// ---- v1 -----------------------------------------------------------------------------------------

// grid (N), block (32), dynamic shared memory: K*NB ints.
extern "C" __global__ void bucket_sort_v1(const int32_t* __restrict__ buckets, int32_t* __restrict__ sorted,
                                          int32_t* __restrict__ undo, int rounds, int length, int nb) {
    extern __shared__ int32_t counts[];
    const int row = blockIdx.x;
    const int lane = threadIdx.x;
    const int items = rounds * length;
    const int keys = rounds * nb;
    const int32_t* b = buckets + (size_t)row * items;
    int32_t* s = sorted + (size_t)row * items;
    int32_t* u = undo + (size_t)row * items;

    for (int k = lane; k < keys; k += 32) {
        counts[k] = 0;
    }
    __syncwarp();
    // histogram: one pass over the items, lanes of equal key add their group's size once
    for (int base = 0; base < items; base += 32) {
        int item = base + lane;
        bool live = item < items;
        int key = live ? (item / length) * nb + b[item] : -1 - lane;  // dead lanes get keys of their own
        unsigned peers = __match_any_sync(FULL_MASK, key);
        int leader = 31 - __clz(peers);  // highest lane of the group
        if (live && lane == leader) {
            counts[key] += __popc(peers);
        }
        __syncwarp();
    }
    // exclusive scan of the counts, 32 keys at a time, carrying the running total
    int carry = 0;
    for (int base = 0; base < keys; base += 32) {
        int k = base + lane;
        int c = k < keys ? counts[k] : 0;
        int inclusive = warp_inclusive_scan(c);
        if (k < keys) {
            counts[k] = carry + inclusive - c;
        }
        carry += __shfl_sync(FULL_MASK, inclusive, 31);
        __syncwarp();
    }
    // stable scatter: an item's slot is its key's next free slot plus its rank among equal keys below it
    for (int base = 0; base < items; base += 32) {
        int item = base + lane;
        bool live = item < items;
        int key = live ? (item / length) * nb + b[item] : -1 - lane;
        unsigned peers = __match_any_sync(FULL_MASK, key);
        int rank = __popc(peers & lanes_below());
        int first = live ? counts[key] : 0;
        __syncwarp();
        if (live) {
            int slot = first + rank;
            s[slot] = item;
            u[item] = slot;
            if (lane == 31 - __clz(peers)) {
                counts[key] = first + __popc(peers);
            }
        }
        __syncwarp();
    }
}

// ---- v2 -----------------------------------------------------------------------------------------

// Pass 1. grid (tiles, N), block (32 * warps). tile_counts: int32 [N, K*NB, tiles], key-major.
extern "C" __global__ void bucket_sort_v2_count(const int32_t* __restrict__ buckets, int32_t* __restrict__ tile_counts,
                                                int rounds, int length, int nb, int tiles) {
    extern __shared__ int32_t counts[];  // K*NB ints for this tile
    const int row = blockIdx.y;
    const int tile = blockIdx.x;
    const int items = rounds * length;
    const int keys = rounds * nb;
    const int32_t* b = buckets + (size_t)row * items;
    for (int k = threadIdx.x; k < keys; k += blockDim.x) {
        counts[k] = 0;
    }
    __syncthreads();
    int item = tile * blockDim.x + threadIdx.x;
    if (item < items) {
        atomicAdd(&counts[(item / length) * nb + b[item]], 1);  // a count: order does not matter here
    }
    __syncthreads();
    int32_t* out = tile_counts + (size_t)row * keys * tiles;
    for (int k = threadIdx.x; k < keys; k += blockDim.x) {
        out[(size_t)k * tiles + tile] = counts[k];
    }
}

// Pass 2. grid (N), block (1024). Exclusive scan, in place, of the row's keys*tiles counts in
// key-major order: afterwards tile_counts[k][tile] is the first slot of key k's items in that tile.
extern "C" __global__ void bucket_sort_v2_scan(int32_t* __restrict__ tile_counts, int keys, int tiles) {
    block_exclusive_scan(tile_counts + (size_t)blockIdx.x * keys * tiles, keys * tiles, 0);
}

// Pass 3. grid (tiles, N), block (32 * warps). Warps take turns so that the tile's items keep
// their order: warp w scatters after warps 0..w-1 have advanced the counts.
extern "C" __global__ void bucket_sort_v2_scatter(const int32_t* __restrict__ buckets,
                                                  const int32_t* __restrict__ tile_counts, int32_t* __restrict__ sorted,
                                                  int32_t* __restrict__ undo, int rounds, int length, int nb, int tiles) {
    extern __shared__ int32_t next[];  // K*NB ints: this tile's next free slot per key
    const int row = blockIdx.y;
    const int tile = blockIdx.x;
    const int items = rounds * length;
    const int keys = rounds * nb;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const int32_t* b = buckets + (size_t)row * items;
    const int32_t* first = tile_counts + (size_t)row * keys * tiles;
    for (int k = threadIdx.x; k < keys; k += blockDim.x) {
        next[k] = first[(size_t)k * tiles + tile];
    }
    __syncthreads();
    int item = tile * blockDim.x + threadIdx.x;
    bool live = item < items;
    int key = live ? (item / length) * nb + b[item] : -1 - lane;
    unsigned peers = __match_any_sync(FULL_MASK, key);
    int rank = __popc(peers & lanes_below());
    for (int turn = 0; turn < warps; turn++) {
        if (warp == turn && live) {
            int slot = next[key] + rank;
            sorted[(size_t)row * items + slot] = item;
            undo[(size_t)row * items + item] = slot;
        }
        __syncthreads();  // every lane has read next[] before the leaders advance it
        if (warp == turn && live && lane == 31 - __clz(peers)) {
            next[key] += __popc(peers);
        }
        __syncthreads();
    }
}

// ---- v3 -----------------------------------------------------------------------------------------

// grid (K, N), block (32 * W), dynamic shared memory (W + 1) * NB ints. One block sorts one round
// of one row: warp w owns the w-th stretch of the round's L positions and counts its buckets in
// its own row of shared counters; then, bucket by bucket, the counters become each warp's first
// slot (warps in order within a bucket, buckets in order after the round's r*L); then each warp
// scatters its stretch 32 items at a time, ranking equal buckets by lane as in v1. No global
// scratch and no atomics; every item is read twice and its two indices written once.
extern "C" __global__ void __launch_bounds__(1024) bucket_sort_v3(const int32_t* __restrict__ buckets,
                                                                  int32_t* __restrict__ sorted, int32_t* __restrict__ undo,
                                                                  int rounds, int length, int nb) {
    extern __shared__ int32_t counts[];  // [W][NB] per-warp counts, then NB totals
    const int r = blockIdx.x;
    const int row = blockIdx.y;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const int items = rounds * length;
    const int32_t* b = buckets + ((size_t)row * rounds + r) * length;
    int32_t* totals = counts + warps * nb;
    int32_t* mine = counts + warp * nb;
    const int stretch = ((length + warps - 1) / warps + 31) / 32 * 32;
    const int first = warp * stretch;
    const int last = min(length, first + stretch);

    for (int k = threadIdx.x; k < (warps + 1) * nb; k += blockDim.x) {
        counts[k] = 0;
    }
    __syncthreads();
    for (int base = first; base < last; base += 32) {  // the warp's histogram, its own row: no atomics
        int t = base + lane;
        bool live = t < last;
        int key = live ? b[t] : -1 - lane;
        unsigned peers = __match_any_sync(FULL_MASK, key);
        if (live && lane == 31 - __clz(peers)) {
            mine[key] += __popc(peers);
        }
        __syncwarp();
    }
    __syncthreads();
    for (int k = threadIdx.x; k < nb; k += blockDim.x) {  // per bucket: warps' exclusive prefix, and the total
        int run = 0;
        for (int w = 0; w < warps; w++) {
            int c = counts[w * nb + k];
            counts[w * nb + k] = run;
            run += c;
        }
        totals[k] = run;
    }
    __syncthreads();
    block_exclusive_scan(totals, nb, r * length);  // each bucket's first slot in the row
    for (int k = threadIdx.x; k < nb; k += blockDim.x) {
        for (int w = 0; w < warps; w++) {
            counts[w * nb + k] += totals[k];
        }
    }
    __syncthreads();
    for (int base = first; base < last; base += 32) {  // the stable scatter of the warp's stretch
        int t = base + lane;
        bool live = t < last;
        int key = live ? b[t] : -1 - lane;
        unsigned peers = __match_any_sync(FULL_MASK, key);
        int rank = __popc(peers & lanes_below());
        int slot = live ? mine[key] + rank : 0;
        __syncwarp();
        if (live) {
            int item = r * length + t;
            sorted[(size_t)row * items + slot] = item;
            undo[(size_t)row * items + item] = slot;
            if (lane == 31 - __clz(peers)) {
                mine[key] = slot - rank + __popc(peers);
            }
        }
        __syncwarp();
    }
}
