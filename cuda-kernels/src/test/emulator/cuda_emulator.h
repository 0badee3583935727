// cuda_emulator.h: enough of CUDA's device side for g++ to compile the kernels of src/main/cuda and
// run them on the CPU, so that their logic is tested on machines without a GPU (driver.cpp puts
// them behind the driver API; build-emulator.sh compiles both).
//
// Every CUDA thread of a block is a fiber (its own stack; on x86-64 a dozen instructions switch
// between fibers, elsewhere ucontext, which costs a system call per switch) on one OS thread; a fiber
// runs until it reaches a barrier (__syncthreads, __syncwarp, or a warp shuffle or vote, which wait
// for their warp) or returns, and the scheduler in driver.cpp then runs the next. When every fiber
// not yet returned waits, the scheduler releases the block's barrier, or a warp's; when it can
// release none, the kernel is deadlocked and the launch fails, naming where each thread waits.
// Threads that have returned no longer count at __syncthreads, as on the GPU; a warp collective goes
// on once every lane its mask names waits in it with that mask. Blocks run one after another.
//
// So the emulator finds: wrong results (the contract tests compare with the references), missed or
// divergent barriers, warp masks naming lanes that have returned, shuffles from lanes their mask
// leaves out, reads of memory never written (fresh allocations and each block's dynamic shared
// memory hold 0xff bytes: NaN as a float, -1 as an int; static __shared__ variables, function
// statics here, start at 0 and keep the last block's values, so a read of one before any write is
// not caught),
// accesses past the end of an allocation or of a block's dynamic shared memory (driver.cpp puts a
// guard page after each, so the process stops at the access: the JVM's crash report names the
// kernel's frame) and launch
// limits (block size, grid size, shared memory, each kernel's __launch_bounds__). It does not model speed, registers, coalescing,
// or races: its schedule is fixed, so a race between threads gives the same answer every time.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)  // checked at launch instead: build-emulator.sh lists each kernel's bound
#define __align__(n) __attribute__((aligned(n)))
// Static shared variables become function statics: one block runs at a time in the whole process.
// (Dynamic `extern __shared__` arrays are rewritten by build-emulator.sh to emu::dynamic_shared.)
#define __shared__ static

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

// Set by the scheduler before it resumes each fiber.
inline dim3 threadIdx;
inline dim3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

namespace emu {

/** The first error the emulator met in the current launch; the launch then reports it. */
inline std::string error;

inline void fail(const std::string& message) {
    if (error.empty()) {
        error = "cuda emulator: " + message;
    }
}

/** What a fiber is doing: running (or ready to), waiting at the block's or its warp's barrier, or returned. */
enum class State { READY, AT_BLOCK, AT_WARP, DONE };

struct Fiber {
    void* sp = nullptr;  // its saved stack pointer while it is parked (x86-64)
    ucontext_t context;  // its saved context while it is parked (elsewhere)
    State state = State::READY;
    const char* where = "";  // the call it waits in
    unsigned mask = 0;        // the mask a warp collective named
    uint64_t posted = 0;      // the value it brought to the collective
};

/**
 * What the lanes of a warp brought to their last collective, written by the scheduler as it
 * releases them. One record per warp is enough: the scheduler releases only after every fiber
 * released before has run on (and so read its values), and lanes released together in disjoint
 * groups use disjoint entries.
 */
struct Warp {
    uint64_t brought[32];
};

/** The block running now (one at a time): its threads and its dynamic shared memory. */
struct Block {
    Fiber* fibers = nullptr;
    Warp* warps = nullptr;
    unsigned threads = 0;
    void* scheduler_sp = nullptr;
    ucontext_t scheduler;
    unsigned char* dynamic_shared = nullptr;
};

inline Block* block = nullptr;
inline unsigned linear_thread = 0;  // the fiber running now

inline unsigned lane() { return linear_thread & 31u; }

template <class T>
T* dynamic_shared() {
    return reinterpret_cast<T*>(block->dynamic_shared);
}

/** The lanes of warp w that have not returned. */
inline unsigned running_lanes(unsigned w) {
    unsigned lanes = 0;
    for (unsigned l = 0; l < 32 && 32 * w + l < block->threads; l++) {
        if (block->fibers[32 * w + l].state != State::DONE) {
            lanes |= 1u << l;
        }
    }
    return lanes;
}

/** Switches from the running fiber back to the scheduler (driver.cpp). */
void park(Fiber& f);

/** Parks the running fiber at a barrier; the scheduler resumes it once the barrier is released. */
inline void wait(State at, const char* where, unsigned mask = 0) {
    Fiber& f = block->fibers[linear_thread];
    f.state = at;
    f.where = where;
    f.mask = mask;
    park(f);
}

template <class T>
uint64_t bits_of(T v) {
    static_assert(sizeof(T) <= 8, "warp exchanges carry at most 8 bytes");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}

template <class T>
T value_of(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}

/** Every lane of `mask` brings `v`; once all have, `read` sees what each brought (the scheduler copies it). */
template <class T, class Read>
auto exchange(unsigned mask, T v, const char* what, Read read) {
    block->fibers[linear_thread].posted = bits_of(v);
    wait(State::AT_WARP, what, mask);
    return read(block->warps[linear_thread >> 5].brought);
}

template <class T>
T shuffle_from(unsigned mask, T v, int source, const char* what) {
    if (!(mask >> source & 1u)) {
        fail(std::string(what) + " reads lane " + std::to_string(source) + ", which its mask does not name");
    }
    return exchange(mask, v, what, [&](const uint64_t* slots) { return value_of<T>(slots[source]); });
}

inline unsigned segment_start(int width) { return lane() & ~unsigned(width - 1); }

}  // namespace emu

// ---- block and warp synchronisation ---------------------------------------------------------------

inline void __syncthreads() { emu::wait(emu::State::AT_BLOCK, "__syncthreads"); }

inline void __syncwarp(unsigned mask = 0xffffffffu) {
    emu::exchange(mask, 0, "__syncwarp", [](const uint64_t*) { return 0; });
}

// One OS thread runs every fiber: memory is always coherent, fences have nothing to order.
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    return emu::shuffle_from(mask, v, emu::segment_start(width) + (src & (width - 1)), "__shfl_sync");
}

template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    int source = int(emu::lane()) - int(delta);
    return emu::shuffle_from(mask, v, source < int(emu::segment_start(width)) ? int(emu::lane()) : source, "__shfl_up_sync");
}

template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    unsigned source = emu::lane() + delta;
    return emu::shuffle_from(mask, v, source >= emu::segment_start(width) + width ? emu::lane() : source, "__shfl_down_sync");
}

template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    unsigned source = emu::lane() ^ unsigned(lane_mask);
    return emu::shuffle_from(mask, v, source >= emu::segment_start(width) + width ? emu::lane() : source, "__shfl_xor_sync");
}

inline unsigned __ballot_sync(unsigned mask, int predicate) {
    return emu::exchange(mask, predicate != 0, "__ballot_sync", [&](const uint64_t* slots) {
        unsigned votes = 0;
        for (unsigned l = 0; l < 32; l++) {
            if ((mask >> l & 1u) && slots[l]) {
                votes |= 1u << l;
            }
        }
        return votes;
    });
}

inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == mask; }

template <class T>
unsigned __match_any_sync(unsigned mask, T value) {
    return emu::exchange(mask, value, "__match_any_sync", [&](const uint64_t* slots) {
        unsigned peers = 0;
        for (unsigned l = 0; l < 32; l++) {
            if ((mask >> l & 1u) && slots[l] == emu::bits_of(value)) {
                peers |= 1u << l;
            }
        }
        return peers;
    });
}

inline unsigned __activemask() { return emu::running_lanes(emu::linear_thread >> 5); }

// ---- atomics ---------------------------------------------------------------------------------------
// Fibers switch only at barriers, so a read-modify-write between two is atomic as written.

template <class T>
T atomicAdd(T* address, T v) {
    T old = *address;
    *address = old + v;
    return old;
}

template <class T>
T atomicSub(T* address, T v) {
    T old = *address;
    *address = old - v;
    return old;
}

template <class T>
T atomicExch(T* address, T v) {
    T old = *address;
    *address = v;
    return old;
}

template <class T>
T atomicCAS(T* address, T compare, T v) {
    T old = *address;
    if (old == compare) {
        *address = v;
    }
    return old;
}

template <class T>
T atomicMax(T* address, T v) {
    T old = *address;
    *address = old < v ? v : old;
    return old;
}

template <class T>
T atomicMin(T* address, T v) {
    T old = *address;
    *address = v < old ? v : old;
    return old;
}

// ---- integer and float intrinsics ---------------------------------------------------------------------

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(unsigned x) { return x == 0 ? 32 : __builtin_clz(x); }
inline int __ffs(unsigned x) { return __builtin_ffs(int(x)); }
inline unsigned __brev(unsigned x) {
    unsigned r = 0;
    for (int i = 0; i < 32; i++) {
        r |= (x >> i & 1u) << (31 - i);
    }
    return r;
}

inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
template <class T>
T __ldg(const T* p) {
    return *p;
}

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline size_t min(size_t a, size_t b) { return a < b ? a : b; }
inline size_t max(size_t a, size_t b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) float4 {
    float x, y, z, w;
};
struct alignas(8) int2 {
    int x, y;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
