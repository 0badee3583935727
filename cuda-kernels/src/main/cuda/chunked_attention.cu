// chunked_attention.cu: LSH (and local) attention inside sorted chunks, forward and backward,
// and the combination of the hash rounds. Float32 throughout.
//
// Contract: dev.reformer.attention.ChunkedAttentionSpec and ChunkedAttentionReference (plain Java,
// double precision), the same the engine's fused CPU kernel is held to. N rows (batch x head),
// L positions, D = 64 or 128 per head, K rounds, chunk C, n = K*L/C chunks; chunk c attends to
// chunks c - before .. c + after, wrapping around the K*L sorted items when cyclic (LSH), with
// the chunks past either end masked when not (local attention). For query item i at position t
// and key slot j at position p:
//     logit = self_mask            if shared QK and p == t
//             FORBIDDEN (-1e9)     else if causal and p > t, or p is padding, or the chunk is past an end
//             scale * q_t . k_p    otherwise (k_p = q_p / |q_p| for shared QK: see normalize_rows)
// Per item: lse = logsumexp(logits), out = softmax(logits) . v, written in item order (r*L + t).
// Rounds combine as final_t = sum_r softmax_r(lse_{r,t}) out_{r,t} (combine_rounds).
// Not on the GPU: paper eq. 16's duplicate counts (dedupe); the engine keeps those on the CPU.
// Precision: lse is stored in float32. Where a query sees only masked logits (its own position at
// the self-mask value -5e4, say, with the rest forbidden), lse = -5e4 + log(count) is rounded to
// floats 0.004 apart, so the backward's weights exp(logit - lse) are off by up to 0.2% there
// (exact when the count is 1, as at position 0 of causal attention unless the window holds a
// chunk twice).
//
// Versions:
//   v1  one block per (row, chunk), one thread per query of the chunk; the window's keys and
//       values pass through shared memory in tiles of 32 keys; online softmax (running max and
//       sum, rescaled accumulator) in registers. The backward recomputes the logits from the
//       saved logsumexp and adds the gradients of keys and values with global atomics, so its
//       sums are not bit-reproducible run to run (within float32 rounding of each other).
//       Launch: grid (n, N), block (C), dynamic shared memory 2*32*D floats + 64 ints.
//   v2  D/32 threads per query (each owns 32 of its numbers, read from shared memory as float4s),
//       so registers hold a thread's part of q and its accumulators without spilling; dot products
//       add up across those threads with shuffles. The backward has no atomics: a query-side
//       kernel writes dq per item (and delta = dOut . out per item), a key-side kernel, one
//       thread group per key slot looping over the queries whose window holds it, writes dk and dv
//       per item, and sum_rounds adds the K rounds of each position in a fixed order. So v2's
//       gradients are the same bits every run. v1's backward made 2*D same-address atomics per
//       (query, key) pair.
//       Launch: grid (n, N), block (C * D/32) <= 256 threads (a block's last warp may be partial:
//       a query's D/32 threads never straddle two warps); dynamic shared memory 2*32*D floats + 64
//       ints (forward, query side) or + 128 words (key side).

#include <cmath>
#include <cstdint>

namespace {

constexpr float FORBIDDEN = -1e9f;
constexpr int TILE = 32;

struct Window {
    int rounds, length, chunk, before, after, cyclic, causal, shared;
    float scale, self_mask;

    __device__ int items() const { return rounds * length; }
    __device__ int chunks() const { return items() / chunk; }
    __device__ int size() const { return (before + 1 + after) * chunk; }
};

__device__ __forceinline__ int item_at(const int32_t* sorted, int row, int items, int slot) {
    return sorted ? sorted[(size_t)row * items + slot] : slot;
}

/** The dynamic shared memory of a block: one tile of window keys, values, positions and past-an-end flags. */
template <int D>
struct Tile {
    float* ks;
    float* vs;
    int* ps;
    int* outside;

    __device__ explicit Tile(float* smem)
        : ks(smem), vs(smem + TILE * D), ps(reinterpret_cast<int*>(smem + 2 * TILE * D)), outside(ps + TILE) {}
};

/** The query (or key) item this thread handles: block (chunk, row), the chunk's slots shared out among its threads. */
struct Query {
    int slot, part, row, chunk, item, t;

    /** `ways` threads share each slot (v2: D/32; v1: one), thread `part` of them. */
    __device__ Query(const Window& w, const int32_t* sorted, int ways = 1)
        : slot(threadIdx.x / ways), part(threadIdx.x % ways), row(blockIdx.y), chunk(blockIdx.x),
          item(item_at(sorted, blockIdx.y, w.items(), blockIdx.x * w.chunk + slot)), t(item % w.length) {}
};

/** Loads window keys j0 .. j0+TILE-1 of chunk c: their positions, whether they lie past an end, keys and values. */
template <int D>
__device__ void load_tile(const Window& w, const float* __restrict__ keys, const float* __restrict__ v,
                          const int32_t* __restrict__ sorted, int row, int c, int j0, float* ks, float* vs, int* ps,
                          int* outside) {
    const int window = w.size();
    const int chunks = w.chunks();
    for (int idx = threadIdx.x; idx < TILE * D; idx += blockDim.x) {
        int jj = idx / D;
        int e = idx % D;
        int j = j0 + jj;
        if (j >= window) {
            continue;
        }
        int neighbour = c + j / w.chunk - w.before;
        int wc = ((neighbour % chunks) + chunks) % chunks;
        int p = item_at(sorted, row, w.items(), wc * w.chunk + j % w.chunk) % w.length;
        ks[jj * D + e] = keys[((size_t)row * w.length + p) * D + e];
        vs[jj * D + e] = v[((size_t)row * w.length + p) * D + e];
        if (e == 0) {
            ps[jj] = p;
            outside[jj] = !w.cyclic && (neighbour < 0 || neighbour >= chunks);
        }
    }
}

/** The logit of query position t against window key jj of the tile; *dot says whether it is a dot product. */
template <int D>
__device__ __forceinline__ float logit_of(const Window& w, const float* q, const float* ks, const int* ps,
                                          const int* outside, const uint8_t* __restrict__ padding, int row, int t, int jj,
                                          bool* dot) {
    int p = ps[jj];
    *dot = false;
    if (w.shared && p == t) {
        return w.self_mask;
    }
    if ((w.causal && p > t) || (padding && padding[(size_t)row * w.length + p]) || outside[jj]) {
        return FORBIDDEN;
    }
    float s = 0.f;
#pragma unroll 16
    for (int e = 0; e < D; e++) {
        s = fmaf(q[e], ks[jj * D + e], s);
    }
    *dot = true;
    return w.scale * s;
}

template <int D>
__device__ void forward_v1(Window w, const float* __restrict__ q, const float* __restrict__ keys,
                           const float* __restrict__ v, const int32_t* __restrict__ sorted,
                           const uint8_t* __restrict__ padding, float* __restrict__ out, float* __restrict__ lse) {
    extern __shared__ __align__(16) float smem[];  // 16-byte aligned for the float4 reads
    const Tile<D> tile(smem);
    float* ks = tile.ks;
    float* vs = tile.vs;
    int* ps = tile.ps;
    int* outside = tile.outside;
    const Query query(w, sorted);
    const int row = query.row;
    const int c = query.chunk;
    const int items = w.items();
    const int item = query.item;
    const int t = query.t;
    float qr[D];
    float acc[D];
    for (int e = 0; e < D; e++) {
        qr[e] = q[((size_t)row * w.length + t) * D + e];
        acc[e] = 0.f;
    }
    float m = -INFINITY;
    float l = 0.f;
    const int window = w.size();
    for (int j0 = 0; j0 < window; j0 += TILE) {
        load_tile<D>(w, keys, v, sorted, row, c, j0, ks, vs, ps, outside);
        __syncthreads();
        int count = min(TILE, window - j0);
        for (int jj = 0; jj < count; jj++) {
            bool dot;
            float logit = logit_of<D>(w, qr, ks, ps, outside, padding, row, t, jj, &dot);
            float next = fmaxf(m, logit);
            float rescale = expf(m - next);
            float p = expf(logit - next);
            l = l * rescale + p;
            for (int e = 0; e < D; e++) {
                acc[e] = fmaf(acc[e], rescale, p * vs[jj * D + e]);
            }
            m = next;
        }
        __syncthreads();
    }
    float* o = out + ((size_t)row * items + item) * D;
    for (int e = 0; e < D; e++) {
        o[e] = acc[e] / l;
    }
    lse[(size_t)row * items + item] = m + logf(l);
}

template <int D>
__device__ void backward_v1(Window w, const float* __restrict__ q, const float* __restrict__ keys,
                            const float* __restrict__ v, const int32_t* __restrict__ sorted,
                            const uint8_t* __restrict__ padding, const float* __restrict__ out,
                            const float* __restrict__ lse, const float* __restrict__ d_out,
                            const float* __restrict__ d_lse, float* __restrict__ dq, float* __restrict__ d_keys,
                            float* __restrict__ dv) {
    extern __shared__ __align__(16) float smem[];  // 16-byte aligned for the float4 reads
    const Tile<D> tile(smem);
    float* ks = tile.ks;
    float* vs = tile.vs;
    int* ps = tile.ps;
    int* outside = tile.outside;
    const Query query(w, sorted);
    const int row = query.row;
    const int c = query.chunk;
    const int items = w.items();
    const int item = query.item;
    const int t = query.t;
    const size_t io = (size_t)row * items + item;
    float qr[D];
    float g[D];
    float dqr[D];
    float delta = 0.f;  // dOut . out: the softmax Jacobian's shared term
    for (int e = 0; e < D; e++) {
        qr[e] = q[((size_t)row * w.length + t) * D + e];
        g[e] = d_out[io * D + e];
        dqr[e] = 0.f;
        delta = fmaf(g[e], out[io * D + e], delta);
    }
    const float my_lse = lse[io];
    const float my_dlse = d_lse[io];
    const int window = w.size();
    // Every logit FORBIDDEN (a padded query whose whole window is padding): the forward's
    // lse = -1e9 + log(window) rounds to -1e9 in float32 (floats there are 64 apart), so
    // exp(logit - lse) would give 1 instead of the softmax's 1/window. No logit lies strictly
    // between -1e9 and -1e9 + 64, so lse == FORBIDDEN exactly when all logits are FORBIDDEN.
    const bool all_forbidden = my_lse == FORBIDDEN;
    for (int j0 = 0; j0 < window; j0 += TILE) {
        load_tile<D>(w, keys, v, sorted, row, c, j0, ks, vs, ps, outside);
        __syncthreads();
        int count = min(TILE, window - j0);
        for (int jj = 0; jj < count; jj++) {
            bool dot;
            float logit = logit_of<D>(w, qr, ks, ps, outside, padding, row, t, jj, &dot);
            float p = all_forbidden ? 1.f / window : expf(logit - my_lse);
            size_t ko = ((size_t)row * w.length + ps[jj]) * D;
            float dp = 0.f;
            for (int e = 0; e < D; e++) {
                dp = fmaf(g[e], vs[jj * D + e], dp);
                atomicAdd(&dv[ko + e], p * g[e]);
            }
            if (!dot) {
                continue;  // a masked logit is a constant: no gradient to q or k
            }
            float d_logit = w.scale * p * (dp - delta + my_dlse);
            for (int e = 0; e < D; e++) {
                dqr[e] = fmaf(d_logit, ks[jj * D + e], dqr[e]);
                atomicAdd(&d_keys[ko + e], d_logit * qr[e]);
            }
        }
        __syncthreads();
    }
    float* dqo = dq + ((size_t)row * w.length + t) * D;
    for (int e = 0; e < D; e++) {
        atomicAdd(&dqo[e], dqr[e]);  // the position's K items (one per round) all add here
    }
}

}  // namespace

#define WINDOW_ARGS int rounds, int length, int chunk, int before, int after, int cyclic, int causal, int shared, \
                    float scale, float self_mask
#define WINDOW Window{rounds, length, chunk, before, after, cyclic, causal, shared, scale, self_mask}

extern "C" __global__ void chunked_attention_forward_v1_d64(const float* q, const float* keys, const float* v,
                                                            const int32_t* sorted, const uint8_t* padding, float* out,
                                                            float* lse, WINDOW_ARGS) {
    forward_v1<64>(WINDOW, q, keys, v, sorted, padding, out, lse);
}

extern "C" __global__ void chunked_attention_forward_v1_d128(const float* q, const float* keys, const float* v,
                                                             const int32_t* sorted, const uint8_t* padding, float* out,
                                                             float* lse, WINDOW_ARGS) {
    forward_v1<128>(WINDOW, q, keys, v, sorted, padding, out, lse);
}

extern "C" __global__ void chunked_attention_backward_v1_d64(const float* q, const float* keys, const float* v,
                                                             const int32_t* sorted, const uint8_t* padding,
                                                             const float* out, const float* lse, const float* d_out,
                                                             const float* d_lse, float* dq, float* d_keys, float* dv,
                                                             WINDOW_ARGS) {
    backward_v1<64>(WINDOW, q, keys, v, sorted, padding, out, lse, d_out, d_lse, dq, d_keys, dv);
}

extern "C" __global__ void chunked_attention_backward_v1_d128(const float* q, const float* keys, const float* v,
                                                              const int32_t* sorted, const uint8_t* padding,
                                                              const float* out, const float* lse, const float* d_out,
                                                              const float* d_lse, float* dq, float* d_keys, float* dv,
                                                              WINDOW_ARGS) {
    backward_v1<128>(WINDOW, q, keys, v, sorted, padding, out, lse, d_out, d_lse, dq, d_keys, dv);
}

// ---- v2 -------------------------------------------------------------------------------------------

namespace {

/**
 * v2's division of a query's (or key's) D numbers among WAYS = D/32 adjacent threads: each owns 32,
 * in eight groups of four interleaved with the others' (thread `part` owns dimensions 4*(g*WAYS +
 * part) .. +3 for g = 0..7), so the threads of a warp read neighbouring 16-byte words of a shared
 * row, without bank conflicts. A dot product is each thread's partial sum, added up across the WAYS
 * threads by shuffles.
 */
template <int D>
struct Split {
    static constexpr int WAYS = D / 32;
    static constexpr int GROUPS = 8;

    __device__ static int dim(int g, int part) { return 4 * (g * WAYS + part); }

    /** The sum of x over the WAYS threads of one query or key (adjacent lanes), in every one of them. */
    __device__ static float sum(float x, unsigned lanes) {
#pragma unroll
        for (int offset = 1; offset < WAYS; offset <<= 1) {
            x += __shfl_xor_sync(lanes, x, offset);
        }
        return x;
    }

    /** This thread's 32 numbers of row `row` (D floats at `base`), as eight float4s. */
    __device__ static void load(const float* __restrict__ base, int part, float4 (&out)[GROUPS]) {
#pragma unroll
        for (int g = 0; g < GROUPS; g++) {
            out[g] = *reinterpret_cast<const float4*>(base + dim(g, part));
        }
    }

    __device__ static void store(float* __restrict__ base, int part, const float4 (&in)[GROUPS]) {
#pragma unroll
        for (int g = 0; g < GROUPS; g++) {
            *reinterpret_cast<float4*>(base + dim(g, part)) = in[g];
        }
    }

    /**
     * This thread's part of a . b, with b a row of shared memory: four running sums, one per lane of
     * the float4s, so that four multiply-adds are in flight instead of a chain of 32 each waiting for
     * the last (these kernels keep few warps per SM to hide that latency with).
     */
    __device__ static float partial_dot(const float4 (&a)[GROUPS], const float* b, int part) {
        float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int g = 0; g < GROUPS; g++) {
            float4 y = *reinterpret_cast<const float4*>(b + dim(g, part));
            s.x = fmaf(a[g].x, y.x, s.x);
            s.y = fmaf(a[g].y, y.y, s.y);
            s.z = fmaf(a[g].z, y.z, s.z);
            s.w = fmaf(a[g].w, y.w, s.w);
        }
        return (s.x + s.y) + (s.z + s.w);
    }

    /** acc = acc * keep + weight * row, on this thread's numbers of a shared-memory row. */
    __device__ static void scale_add(float4 (&acc)[GROUPS], float keep, float weight, const float* row, int part) {
#pragma unroll
        for (int g = 0; g < GROUPS; g++) {
            float4 y = *reinterpret_cast<const float4*>(row + dim(g, part));
            acc[g].x = fmaf(acc[g].x, keep, weight * y.x);
            acc[g].y = fmaf(acc[g].y, keep, weight * y.y);
            acc[g].z = fmaf(acc[g].z, keep, weight * y.z);
            acc[g].w = fmaf(acc[g].w, keep, weight * y.w);
        }
    }

    __device__ static void zero(float4 (&acc)[GROUPS]) {
#pragma unroll
        for (int g = 0; g < GROUPS; g++) {
            acc[g] = make_float4(0.f, 0.f, 0.f, 0.f);
        }
    }
};

/**
 * The lanes of the calling thread's warp that exist: a block's last warp is partial when C * D/32
 * is not a multiple of 32 (D/32 divides 32, so a query's threads still share one warp).
 */
__device__ __forceinline__ unsigned warp_lanes() {
    int first = threadIdx.x & ~31;
    int count = min(32, (int)blockDim.x - first);
    return count == 32 ? 0xffffffffu : (1u << count) - 1u;
}

/** The masks of chunked_attention.cu's contract, for a logit whose dot product is already known. */
__device__ __forceinline__ float masked_logit(const Window& w, const uint8_t* __restrict__ padding, int row, int t, int p,
                                              bool outside, float dot, bool* is_dot) {
    *is_dot = false;
    if (w.shared && p == t) {
        return w.self_mask;
    }
    if ((w.causal && p > t) || (padding && padding[(size_t)row * w.length + p]) || outside) {
        return FORBIDDEN;
    }
    *is_dot = true;
    return w.scale * dot;
}

/**
 * v2 forward. Block (chunk, row) of C * WAYS threads: thread (slot, part) holds its part of one
 * query and of its output accumulator in registers; the window's keys and values pass through
 * shared memory in tiles of 32 as in v1. Every thread of a warp runs every shuffle, masked logit or
 * not, so the shuffles never diverge.
 */
template <int D>
__device__ void forward_v2(Window w, const float* __restrict__ q, const float* __restrict__ keys,
                           const float* __restrict__ v, const int32_t* __restrict__ sorted,
                           const uint8_t* __restrict__ padding, float* __restrict__ out, float* __restrict__ lse) {
    using S = Split<D>;
    extern __shared__ __align__(16) float smem[];  // 16-byte aligned for the float4 reads
    const Tile<D> tile(smem);
    const unsigned lanes = warp_lanes();
    const int items = w.items();
    const Query me(w, sorted, S::WAYS);  // this thread: its slot, its part of it, row, chunk, item, position
    float4 qr[S::GROUPS];
    float4 acc[S::GROUPS];
    S::load(q + ((size_t)me.row * w.length + me.t) * D, me.part, qr);
    S::zero(acc);
    float m = -INFINITY;
    float l = 0.f;
    const int window = w.size();
    for (int j0 = 0; j0 < window; j0 += TILE) {
        load_tile<D>(w, keys, v, sorted, me.row, me.chunk, j0, tile.ks, tile.vs, tile.ps, tile.outside);
        __syncthreads();
        const int count = min(TILE, window - j0);
        for (int jj = 0; jj < count; jj++) {
            float dot = S::sum(S::partial_dot(qr, tile.ks + jj * D, me.part), lanes);
            bool is_dot;
            float logit = masked_logit(w, padding, me.row, me.t, tile.ps[jj], tile.outside[jj], dot, &is_dot);
            float next = fmaxf(m, logit);
            float rescale = expf(m - next);
            float p = expf(logit - next);
            l = l * rescale + p;
            S::scale_add(acc, rescale, p, tile.vs + jj * D, me.part);
            m = next;
        }
        __syncthreads();
    }
    const float inv = 1.f / l;
#pragma unroll
    for (int g = 0; g < S::GROUPS; g++) {
        acc[g].x *= inv;
        acc[g].y *= inv;
        acc[g].z *= inv;
        acc[g].w *= inv;
    }
    S::store(out + ((size_t)me.row * items + me.item) * D, me.part, acc);
    if (me.part == 0) {
        lse[(size_t)me.row * items + me.item] = m + logf(l);
    }
}

/**
 * v2 backward, query side. Block (chunk, row) of C * WAYS threads, each with its part of one query,
 * of that item's output gradient and of its query gradient: dq of item i = sum over the window of
 * d_logit * k. Writes dq per item (no atomics: sum_rounds adds the rounds in a fixed order), and
 * delta = dOut . out per item, which the key side needs.
 */
template <int D>
__device__ void backward_queries_v2(Window w, const float* __restrict__ q, const float* __restrict__ keys,
                                    const float* __restrict__ v, const int32_t* __restrict__ sorted,
                                    const uint8_t* __restrict__ padding, const float* __restrict__ out,
                                    const float* __restrict__ lse, const float* __restrict__ d_out,
                                    const float* __restrict__ d_lse, float* __restrict__ dq_items,
                                    float* __restrict__ deltas) {
    using S = Split<D>;
    extern __shared__ __align__(16) float smem[];  // 16-byte aligned for the float4 reads
    const Tile<D> tile(smem);
    const unsigned lanes = warp_lanes();
    const int items = w.items();
    const Query me(w, sorted, S::WAYS);  // this thread: its slot, its part of it, row, chunk, item, position
    const size_t io = (size_t)me.row * items + me.item;
    float4 qr[S::GROUPS];
    float4 g[S::GROUPS];
    float4 o[S::GROUPS];
    float4 dqr[S::GROUPS];
    S::load(q + ((size_t)me.row * w.length + me.t) * D, me.part, qr);
    S::load(d_out + io * D, me.part, g);
    S::load(out + io * D, me.part, o);
    S::zero(dqr);
    float own = 0.f;
#pragma unroll
    for (int k = 0; k < S::GROUPS; k++) {
        own = fmaf(g[k].x, o[k].x, fmaf(g[k].y, o[k].y, fmaf(g[k].z, o[k].z, fmaf(g[k].w, o[k].w, own))));
    }
    const float delta = S::sum(own, lanes);
    if (me.part == 0) {
        deltas[io] = delta;
    }
    const float my_lse = lse[io];
    const float my_dlse = d_lse[io];
    const int window = w.size();
    const bool all_forbidden = my_lse == FORBIDDEN;  // see backward_v1
    for (int j0 = 0; j0 < window; j0 += TILE) {
        load_tile<D>(w, keys, v, sorted, me.row, me.chunk, j0, tile.ks, tile.vs, tile.ps, tile.outside);
        __syncthreads();
        const int count = min(TILE, window - j0);
        for (int jj = 0; jj < count; jj++) {
            float dot = S::sum(S::partial_dot(qr, tile.ks + jj * D, me.part), lanes);
            float dp = S::sum(S::partial_dot(g, tile.vs + jj * D, me.part), lanes);
            bool is_dot;
            float logit = masked_logit(w, padding, me.row, me.t, tile.ps[jj], tile.outside[jj], dot, &is_dot);
            float p = all_forbidden ? 1.f / window : expf(logit - my_lse);
            float d_logit = is_dot ? w.scale * p * (dp - delta + my_dlse) : 0.f;
            S::scale_add(dqr, 1.f, d_logit, tile.ks + jj * D, me.part);
        }
        __syncthreads();
    }
    S::store(dq_items + io * D, me.part, dqr);
}

/** v2 key side's shared tile: 32 queries of one chunk, their output gradients, and per query its
 *  position, logsumexp, its gradient and delta. */
template <int D>
struct QueryTile {
    float* qs;
    float* gs;
    int* ts;
    float* lses;
    float* dlses;
    float* deltas;

    __device__ explicit QueryTile(float* smem)
        : qs(smem), gs(smem + TILE * D), ts(reinterpret_cast<int*>(smem + 2 * TILE * D)), lses(smem + 2 * TILE * D + TILE),
          dlses(lses + TILE), deltas(dlses + TILE) {}
};

/**
 * v2 backward, key side. Block (key chunk, row) of C * WAYS threads, each with its part of one key
 * slot's key, value, and their gradients: dk = sum of d_logit * q and dv = sum of p * dOut over the
 * queries whose window holds the slot, which are those of chunks kc - after .. kc + before (with
 * the window's wrap-around). Recomputes each logit as the query side does, from the saved logsumexp,
 * and writes dk and dv per item, so no two threads write one address and no atomics are needed.
 */
template <int D>
__device__ void backward_keys_v2(Window w, const float* __restrict__ q, const float* __restrict__ keys,
                                 const float* __restrict__ v, const int32_t* __restrict__ sorted,
                                 const uint8_t* __restrict__ padding, const float* __restrict__ lse,
                                 const float* __restrict__ d_out, const float* __restrict__ d_lse,
                                 const float* __restrict__ deltas, float* __restrict__ dk_items,
                                 float* __restrict__ dv_items) {
    using S = Split<D>;
    extern __shared__ __align__(16) float smem[];  // 16-byte aligned for the float4 reads
    const QueryTile<D> tile(smem);
    const unsigned lanes = warp_lanes();
    const int items = w.items();
    const int chunks = w.chunks();
    const int window = w.size();
    const Query me(w, sorted, S::WAYS);  // this thread: its slot, its part of it, row, chunk, item, position
    const int p = me.t;  // the key's position
    float4 kr[S::GROUPS];
    float4 vr[S::GROUPS];
    float4 dk[S::GROUPS];
    float4 dv[S::GROUPS];
    S::load(keys + ((size_t)me.row * w.length + p) * D, me.part, kr);
    S::load(v + ((size_t)me.row * w.length + p) * D, me.part, vr);
    S::zero(dk);
    S::zero(dv);
    for (int o = 0; o <= w.before + w.after; o++) {
        // the query chunk whose window holds this key chunk as its neighbour number o
        const int unwrapped = me.chunk - o + w.before;
        const int qc = ((unwrapped % chunks) + chunks) % chunks;
        const int neighbour = qc + o - w.before;
        const bool outside = !w.cyclic && (neighbour < 0 || neighbour >= chunks);
        for (int i0 = 0; i0 < w.chunk; i0 += TILE) {
            const int count = min(TILE, w.chunk - i0);
            for (int idx = threadIdx.x; idx < count * D; idx += blockDim.x) {
                int ii = idx / D;
                int e = idx % D;
                int qi = item_at(sorted, me.row, items, qc * w.chunk + i0 + ii);
                int t = qi % w.length;
                size_t io = (size_t)me.row * items + qi;
                tile.qs[ii * D + e] = q[((size_t)me.row * w.length + t) * D + e];
                tile.gs[ii * D + e] = d_out[io * D + e];
                if (e == 0) {
                    tile.ts[ii] = t;
                    tile.lses[ii] = lse[io];
                    tile.dlses[ii] = d_lse[io];
                    tile.deltas[ii] = deltas[io];
                }
            }
            __syncthreads();
            for (int ii = 0; ii < count; ii++) {
                float dot = S::sum(S::partial_dot(kr, tile.qs + ii * D, me.part), lanes);
                float dp = S::sum(S::partial_dot(vr, tile.gs + ii * D, me.part), lanes);
                bool is_dot;
                float logit = masked_logit(w, padding, me.row, tile.ts[ii], p, outside, dot, &is_dot);
                float lse_i = tile.lses[ii];
                float prob = lse_i == FORBIDDEN ? 1.f / window : expf(logit - lse_i);
                float d_logit = is_dot ? w.scale * prob * (dp - tile.deltas[ii] + tile.dlses[ii]) : 0.f;
                S::scale_add(dv, 1.f, prob, tile.gs + ii * D, me.part);
                S::scale_add(dk, 1.f, d_logit, tile.qs + ii * D, me.part);
            }
            __syncthreads();
        }
    }
    const size_t io = (size_t)me.row * items + me.item;
    S::store(dk_items + io * D, me.part, dk);
    S::store(dv_items + io * D, me.part, dv);
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256) chunked_attention_forward_v2_d64(
    const float* q, const float* keys, const float* v, const int32_t* sorted, const uint8_t* padding, float* out,
    float* lse, WINDOW_ARGS) {
    forward_v2<64>(WINDOW, q, keys, v, sorted, padding, out, lse);
}

extern "C" __global__ void __launch_bounds__(256) chunked_attention_forward_v2_d128(
    const float* q, const float* keys, const float* v, const int32_t* sorted, const uint8_t* padding, float* out,
    float* lse, WINDOW_ARGS) {
    forward_v2<128>(WINDOW, q, keys, v, sorted, padding, out, lse);
}

extern "C" __global__ void __launch_bounds__(256) chunked_attention_backward_queries_v2_d64(
    const float* q, const float* keys, const float* v, const int32_t* sorted, const uint8_t* padding, const float* out,
    const float* lse, const float* d_out, const float* d_lse, float* dq_items, float* deltas, WINDOW_ARGS) {
    backward_queries_v2<64>(WINDOW, q, keys, v, sorted, padding, out, lse, d_out, d_lse, dq_items, deltas);
}

extern "C" __global__ void __launch_bounds__(256) chunked_attention_backward_queries_v2_d128(
    const float* q, const float* keys, const float* v, const int32_t* sorted, const uint8_t* padding, const float* out,
    const float* lse, const float* d_out, const float* d_lse, float* dq_items, float* deltas, WINDOW_ARGS) {
    backward_queries_v2<128>(WINDOW, q, keys, v, sorted, padding, out, lse, d_out, d_lse, dq_items, deltas);
}

extern "C" __global__ void __launch_bounds__(256) chunked_attention_backward_keys_v2_d64(
    const float* q, const float* keys, const float* v, const int32_t* sorted, const uint8_t* padding, const float* lse,
    const float* d_out, const float* d_lse, const float* deltas, float* dk_items, float* dv_items, WINDOW_ARGS) {
    backward_keys_v2<64>(WINDOW, q, keys, v, sorted, padding, lse, d_out, d_lse, deltas, dk_items, dv_items);
}

extern "C" __global__ void __launch_bounds__(256) chunked_attention_backward_keys_v2_d128(
    const float* q, const float* keys, const float* v, const int32_t* sorted, const uint8_t* padding, const float* lse,
    const float* d_out, const float* d_lse, const float* deltas, float* dk_items, float* dv_items, WINDOW_ARGS) {
    backward_keys_v2<128>(WINDOW, q, keys, v, sorted, padding, lse, d_out, d_lse, deltas, dk_items, dv_items);
}

// grid (ceil(N*L*D / 256)), block (256). total[n, t, :] = sum over r = 0..K-1, in that order, of
// items[n, r*L + t, :]: the per-item gradients of v2's backward, added up the same way every run.
extern "C" __global__ void sum_rounds(const float* __restrict__ items, float* __restrict__ total, int rows, int rounds,
                                      int length, int d) {
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    size_t per_row = (size_t)length * d;
    if (idx >= (size_t)rows * per_row) {
        return;
    }
    size_t row = idx / per_row;
    size_t within = idx % per_row;  // t * d + e
    const float* x = items + row * rounds * per_row + within;
    float s = 0.f;
    for (int r = 0; r < rounds; r++) {
        s += x[(size_t)r * per_row];
    }
    total[idx] = s;
}

// ---- shared-QK keys ------------------------------------------------------------------------------

// grid (ceil(N*L / 8)), block (256): one warp per row of D. keys = x / max(|x|, 1e-12).
extern "C" __global__ void normalize_rows(const float* __restrict__ x, float* __restrict__ keys, int rows, int d) {
    int r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (r >= rows) {
        return;
    }
    const float* xr = x + (size_t)r * d;
    float s = 0.f;
    for (int e = lane; e < d; e += 32) {
        s = fmaf(xr[e], xr[e], s);
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        s += __shfl_xor_sync(0xffffffffu, s, offset);
    }
    float norm = sqrtf(fmaxf(s, 1e-24f));
    for (int e = lane; e < d; e += 32) {
        keys[(size_t)r * d + e] = xr[e] / norm;
    }
}

// grid (ceil(N*L / 8)), block (256). dx += (dk - x (x . dk) / |x|^2) / |x|; where |x|^2 < 1e-24
// the norm is the constant 1e-12 and dx += dk / 1e-12.
extern "C" __global__ void normalize_rows_backward(const float* __restrict__ x, const float* __restrict__ dk,
                                                   float* __restrict__ dx, int rows, int d) {
    int r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (r >= rows) {
        return;
    }
    const float* xr = x + (size_t)r * d;
    const float* gr = dk + (size_t)r * d;
    float squared = 0.f;
    float along = 0.f;
    for (int e = lane; e < d; e += 32) {
        squared = fmaf(xr[e], xr[e], squared);
        along = fmaf(xr[e], gr[e], along);
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        squared += __shfl_xor_sync(0xffffffffu, squared, offset);
        along += __shfl_xor_sync(0xffffffffu, along, offset);
    }
    float norm = sqrtf(fmaxf(squared, 1e-24f));
    float a = squared >= 1e-24f ? along / (norm * norm) : 0.f;
    for (int e = lane; e < d; e += 32) {
        dx[(size_t)r * d + e] += (gr[e] - xr[e] * a) / norm;
    }
}

// ---- rounds --------------------------------------------------------------------------------------

namespace {

/** softmax_r(lse_r) over the rounds of one position, whose logsumexps sit `length` apart from `lse`. */
struct RoundWeights {
    const float* lse;
    int length;
    float max = -INFINITY;
    float sum = 0.f;

    __device__ RoundWeights(const float* lse_, int rounds, int length_) : lse(lse_), length(length_) {
        for (int r = 0; r < rounds; r++) {
            max = fmaxf(max, lse[(size_t)r * length]);
        }
        for (int r = 0; r < rounds; r++) {
            sum += expf(lse[(size_t)r * length] - max);
        }
    }

    __device__ float of(int r) const { return expf(lse[(size_t)r * length] - max) / sum; }
};

}  // namespace

// grid (ceil(N*L / 256)), block (256): one thread per position. final = sum_r softmax_r(lse) out_r.
extern "C" __global__ void combine_rounds(const float* __restrict__ out, const float* __restrict__ lse,
                                          float* __restrict__ final_out, int rows, int rounds, int length, int d) {
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (size_t)rows * length) {
        return;
    }
    int row = idx / length;
    int t = idx % length;
    size_t items = (size_t)rounds * length;
    RoundWeights weights(lse + row * items + t, rounds, length);
    float* f = final_out + idx * d;
    for (int e = 0; e < d; e++) {
        f[e] = 0.f;
    }
    for (int r = 0; r < rounds; r++) {
        size_t item = row * items + (size_t)r * length + t;
        float weight = weights.of(r);
        for (int e = 0; e < d; e++) {
            f[e] = fmaf(weight, out[item * d + e], f[e]);
        }
    }
}

// grid (ceil(N*L / 256)), block (256). With w_r = softmax_r(lse) and final = sum_r w_r out_r:
// d_out_r = w_r d_final and d_lse_r = w_r (d_final . out_r - d_final . final).
extern "C" __global__ void combine_rounds_backward(const float* __restrict__ out, const float* __restrict__ lse,
                                                   const float* __restrict__ d_final, float* __restrict__ d_out,
                                                   float* __restrict__ d_lse, int rows, int rounds, int length, int d) {
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (size_t)rows * length) {
        return;
    }
    int row = idx / length;
    int t = idx % length;
    size_t items = (size_t)rounds * length;
    RoundWeights weights(lse + row * items + t, rounds, length);
    const float* g = d_final + idx * d;
    float g_final = 0.f;  // d_final . final
    for (int r = 0; r < rounds; r++) {
        size_t item = row * items + (size_t)r * length + t;
        float weight = weights.of(r);
        for (int e = 0; e < d; e++) {
            g_final = fmaf(weight * g[e], out[item * d + e], g_final);
        }
    }
    for (int r = 0; r < rounds; r++) {
        size_t item = row * items + (size_t)r * length + t;
        float weight = weights.of(r);
        float g_out = 0.f;
        for (int e = 0; e < d; e++) {
            d_out[item * d + e] = weight * g[e];
            g_out = fmaf(g[e], out[item * d + e], g_out);
        }
        d_lse[item] = weight * (g_out - g_final);
    }
}
