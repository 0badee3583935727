// driver.cpp: the CPU emulator of the CUDA driver. Built by build-emulator.sh into
// libcuda-emulator.so, which exports the driver API calls reformer_cuda.h opens (cuInit,
// cuMemAlloc_v2, cuLaunchKernel, ...), so that the whole Java path (Cuda, DeviceBuffer,
// CudaBucketSort, CudaChunkedAttention, the engine's device("cuda")) runs unchanged on a machine
// without a GPU when REFORMER_CUDA_DRIVER names this library. The kernels are the sources of
// src/main/cuda compiled by g++ against cuda_emulator.h; a launch runs every block of the grid, one
// block at a time, each CUDA thread a fiber (see cuda_emulator.h).
//
// Checks a GPU would make (and reports with CUDA's error codes): the fatbin's magic number, kernel
// names, block size (<= 1024 threads), grid size (y and z <= 65535), dynamic shared memory (<= 48 KiB
// unless the function's attribute allows more, <= 227 KiB), copies within an allocation. Checks a
// GPU would not make: a guard page after every allocation and after each block's dynamic shared
// memory (an access past the end stops the process there), fresh memory filled with 0xff bytes, warp collectives whose mask
// names lanes that are gone, and deadlocks (named, thread by thread).
#include "cuda_emulator.h"

// The kernels, and the emulator's own checks, as build-emulator.sh rewrote them into its output
// folder (only `extern __shared__` arrays change); <> so that the rewritten copies are the ones found.
#include <kernels.cu>
#include <selftest.cu>

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace {

enum Result : int {
    SUCCESS = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    INVALID_HANDLE = 400,
    NOT_FOUND = 500,
    LAUNCH_OUT_OF_RESOURCES = 701,
    LAUNCH_FAILED = 719,
};

constexpr const char* DEVICE_NAME = "CPU emulator of CUDA (cuda-kernels/src/test/emulator, not a GPU)";
constexpr size_t DEFAULT_SHARED = 48 * 1024;
constexpr size_t MAX_SHARED = 227 * 1024;  // an H100's opt-in limit per block

/** A kernel: its name, its address, a call that unpacks cuLaunchKernel's argument pointers, its limits. */
struct Kernel {
    const char* name;
    void* address;
    void (*call)(void* address, void** params);
    unsigned max_threads;  // its __launch_bounds__, or 1024
    size_t max_dynamic_shared;
};

template <class... A, size_t... I>
void call_indexed(void (*f)(A...), void** params, std::index_sequence<I...>) {
    f(*static_cast<std::decay_t<A>*>(params[I])...);
}

template <class... A>
void call_with(void* address, void** params) {
    call_indexed(reinterpret_cast<void (*)(A...)>(address), params, std::index_sequence_for<A...>{});
}

template <class... A>
Kernel kernel(const char* name, void (*f)(A...), unsigned max_threads) {
    return {name, reinterpret_cast<void*>(f), &call_with<A...>, max_threads, DEFAULT_SHARED};
}

#define KERNEL(name, max_threads) kernel(#name, &name, max_threads),
Kernel kernels[] = {
// every `extern "C" __global__` function of the sources, listed by build-emulator.sh
#include <kernel_list.inc>
};

/** An allocation: what was mapped, and the bytes handed out, which end where the guard page starts. */
struct Allocation {
    unsigned char* mapping;
    size_t mapped;
    size_t bytes;
};

std::mutex lock;  // one launch or copy at a time
std::map<uintptr_t, Allocation> allocations;
int last_code = SUCCESS;  // the last failure, and its message for cuGetErrorString
std::string last_error;
bool initialised = false;
int context_tag;  // the primary context's handle: its address

size_t page() { return size_t(sysconf(_SC_PAGESIZE)); }

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/**
 * `bytes` of fresh memory (0xff bytes) ending 16-byte aligned at most 15 bytes before a page that
 * cannot be touched, so that running past the end stops the process at the faulting access (the
 * JVM's crash report then names the kernel's frame). Null when the mapping fails.
 */
unsigned char* guarded(size_t bytes, Allocation* allocation) {
    size_t usable = round_up(std::max<size_t>(bytes, 1), page());
    size_t mapped = usable + page();
    void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        return nullptr;
    }
    auto* base = static_cast<unsigned char*>(m);
    mprotect(base + usable, page(), PROT_NONE);
    unsigned char* p = base + usable - round_up(bytes, 16);
    std::memset(p, 0xff, round_up(bytes, 16));
    *allocation = {base, mapped, bytes};
    return p;
}

/** Whether [p, p + n) lies inside one allocation. */
bool inside(uintptr_t p, size_t n) {
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) {
        return false;
    }
    --it;
    return p >= it->first && p + n <= it->first + it->second.bytes;
}

Result fail(Result r, std::string message) {
    last_code = r;
    last_error = std::move(message);
    return r;
}

constexpr size_t STACK = 256 * 1024;  // per fiber; the kernels' local arrays take a few KiB

/** The fibers' stacks, kept between launches, each above a guard page that stops an overflow there. */
std::vector<unsigned char*> stacks;

unsigned char* stack_of(unsigned t) {
    while (stacks.size() <= t) {
        void* m = mmap(nullptr, STACK + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            std::perror("cuda emulator: mmap of a fiber stack");
            std::abort();
        }
        mprotect(m, page(), PROT_NONE);
        stacks.push_back(static_cast<unsigned char*>(m) + page());
    }
    return stacks[t];
}

const Kernel* running_kernel;
void** running_params;

#if defined(__x86_64__)
// The fiber switch: push the callee-saved registers and the SSE and x87 control words on this
// stack, save the stack pointer through the first argument, load the second, pop the same from
// there and return into that fiber. A new fiber's stack is laid out by start_fiber so that this
// returns into fiber_entry, which calls r13 with r12 as the argument.
extern "C" void emu_switch(void** save, void* load);
extern "C" void emu_fiber_entry();
asm(R"(
    .pushsection .text
    .globl emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch

    .globl emu_fiber_entry
    .type emu_fiber_entry, @function
emu_fiber_entry:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size emu_fiber_entry, .-emu_fiber_entry
    .popsection
)");
#endif

/** A fiber's life: the kernel, once, for the block; then it counts as returned and is never resumed. */
void fiber_main(int t) {
    running_kernel->call(running_kernel->address, running_params);
    emu::block->fibers[t].state = emu::State::DONE;
#if defined(__x86_64__)
    emu::park(emu::block->fibers[t]);
#endif
}  // (elsewhere: returns to the scheduler through uc_link)

/** Makes fiber t ready to run fiber_main(t) on its own stack. */
void start_fiber(emu::Block& b, unsigned t) {
    emu::Fiber& f = b.fibers[t];
    f.state = emu::State::READY;
#if defined(__x86_64__)
    // eight words below the (16-byte aligned) top: emu_switch pops them, and fiber_entry's call
    // then enters fiber_main with the stack aligned as the ABI asks
    auto* frame = reinterpret_cast<uint64_t*>(stack_of(t) + STACK) - 8;
    const uint32_t control[2] = {0x1f80, 0x037f};            // the default MXCSR and x87 control word
    std::memcpy(&frame[0], control, 8);
    frame[1] = 0;                                            // r15
    frame[2] = 0;                                            // r14
    frame[3] = reinterpret_cast<uint64_t>(&fiber_main);      // r13: what fiber_entry calls
    frame[4] = t;                                            // r12: its argument
    frame[5] = 0;                                            // rbx
    frame[6] = 0;                                            // rbp
    frame[7] = reinterpret_cast<uint64_t>(&emu_fiber_entry); // where emu_switch returns to
    f.sp = frame;
#else
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = stack_of(t);
    f.context.uc_stack.ss_size = STACK;
    f.context.uc_link = &b.scheduler;
    makecontext(&f.context, reinterpret_cast<void (*)()>(&fiber_main), 1, int(t));
#endif
}

/** Runs fiber f until it parks or returns. */
void resume(emu::Block& b, emu::Fiber& f) {
#if defined(__x86_64__)
    emu_switch(&b.scheduler_sp, f.sp);
#else
    swapcontext(&b.scheduler, &f.context);
#endif
}

/** Where a fiber stands, in words. */
std::string place(const emu::Fiber& f) {
    switch (f.state) {
        case emu::State::AT_BLOCK: return "at __syncthreads";
        case emu::State::AT_WARP: return std::string("in ") + f.where;
        case emu::State::DONE: return "returned";
        default: return "running";
    }
}

/** Where the threads of a stuck block stand, as runs of threads in the same place: "threads 0..15 at __syncthreads". */
std::string stuck(const emu::Block& b) {
    std::string text;
    int runs = 0;
    for (unsigned t = 0; t < b.threads;) {
        unsigned end = t;
        while (end + 1 < b.threads && place(b.fibers[end + 1]) == place(b.fibers[t])) {
            end++;
        }
        if (runs++ < 8) {
            text += (text.empty() ? "" : ", ") +
                    (end == t ? "thread " + std::to_string(t) : "threads " + std::to_string(t) + ".." + std::to_string(end)) +
                    " " + place(b.fibers[t]);
        } else if (runs == 9) {
            text += ", ...";
        }
        t = end + 1;
    }
    return text;
}

/**
 * Releases what can go on once every fiber waits or has returned: the block's barrier when all the
 * threads still running wait there; else, in each warp, the lanes of a collective whose mask names
 * only lanes waiting in it with that mask. False when nothing can be released: a deadlock.
 */
bool release(emu::Block& b) {
    bool all_at_block = true;
    for (unsigned t = 0; t < b.threads; t++) {
        emu::State s = b.fibers[t].state;
        all_at_block &= s == emu::State::AT_BLOCK || s == emu::State::DONE;
    }
    if (all_at_block) {
        for (unsigned t = 0; t < b.threads; t++) {
            if (b.fibers[t].state == emu::State::AT_BLOCK) {
                b.fibers[t].state = emu::State::READY;
            }
        }
        return true;
    }
    bool released = false;
    for (unsigned w = 0; 32 * w < b.threads; w++) {
        emu::Fiber* lanes = b.fibers + 32 * w;
        const unsigned count = std::min(32u, b.threads - 32 * w);
        unsigned waiting = 0;  // lanes in a collective
        for (unsigned l = 0; l < count; l++) {
            if (lanes[l].state == emu::State::AT_WARP) {
                waiting |= 1u << l;
            }
        }
        while (waiting) {
            const unsigned l = __builtin_ctz(waiting);
            const unsigned mask = lanes[l].mask;
            bool ready = (mask >> l & 1u) && (mask & ~waiting) == 0;  // every lane it names waits in a collective...
            for (unsigned rest = mask; ready && rest; rest &= rest - 1) {
                ready = lanes[__builtin_ctz(rest)].mask == mask;  // ...with the same mask
            }
            if (!ready) {
                waiting &= ~(1u << l);
                continue;
            }
            for (unsigned rest = mask; rest; rest &= rest - 1) {
                emu::Fiber& f = lanes[__builtin_ctz(rest)];
                if (std::strcmp(f.where, lanes[l].where) != 0) {
                    emu::fail(std::string("lanes of warp ") + std::to_string(w) + " meet in different collectives: " +
                              lanes[l].where + " and " + f.where);
                }
                b.warps[w].brought[__builtin_ctz(rest)] = f.posted;
                f.state = emu::State::READY;
            }
            waiting &= ~mask;
            released = true;
        }
    }
    return released;
}

/** A wait that can never be released: a collective's mask naming a lane that has returned or does not exist. */
std::string impossible(const emu::Block& b) {
    for (unsigned t = 0; t < b.threads; t++) {
        const emu::Fiber& f = b.fibers[t];
        if (f.state != emu::State::AT_WARP) {
            continue;
        }
        unsigned w = t / 32;
        for (unsigned m = 0; m < 32; m++) {
            if (f.mask >> m & 1u) {
                unsigned other = 32 * w + m;
                if (other >= b.threads || b.fibers[other].state == emu::State::DONE) {
                    char text[200];
                    std::snprintf(text, sizeof text, "%s with mask 0x%08x in warp %u names lane %u, which %s", f.where, f.mask,
                                  w, m, other >= b.threads ? "does not exist" : "has returned");
                    return text;
                }
            }
        }
    }
    return "";
}

/** Runs every block of the grid, one after another, each as a set of fibers on this thread. */
Result run_blocks(const Kernel& k, dim3 grid, dim3 block_size, size_t shared, void** params) {
    const unsigned threads = block_size.x * block_size.y * block_size.z;
    std::vector<emu::Fiber> fibers(threads);
    std::vector<emu::Warp> warps((threads + 31) / 32);
    Allocation dynamic;  // the block's dynamic shared memory, guarded like device memory
    unsigned char* dynamic_shared = guarded(shared, &dynamic);
    if (!dynamic_shared) {
        return fail(LAUNCH_OUT_OF_RESOURCES, "cuda emulator: cannot map " + std::to_string(shared) + " bytes of shared memory");
    }
    emu::Block b;
    b.fibers = fibers.data();
    b.warps = warps.data();
    b.threads = threads;
    b.dynamic_shared = dynamic_shared;
    emu::block = &b;
    emu::error.clear();
    running_kernel = &k;
    running_params = params;
    blockDim = block_size;
    gridDim = grid;
    const unsigned long long blocks = 1ull * grid.x * grid.y * grid.z;
    for (unsigned long long n = 0; n < blocks; n++) {
        blockIdx = {unsigned(n % grid.x), unsigned(n / grid.x % grid.y), unsigned(n / (1ull * grid.x * grid.y))};
        std::memset(dynamic_shared, 0xff, round_up(shared, 16));
        for (unsigned t = 0; t < threads; t++) {
            start_fiber(b, t);
        }
        for (;;) {
            bool any_left = false;
            for (unsigned t = 0; t < threads; t++) {
                if (fibers[t].state == emu::State::READY) {
                    emu::linear_thread = t;
                    threadIdx = {t % block_size.x, t / block_size.x % block_size.y, t / (block_size.x * block_size.y)};
                    resume(b, fibers[t]);
                }
                any_left |= fibers[t].state != emu::State::DONE;
            }
            if (!any_left) {
                break;
            }
            if (!release(b)) {
                std::string why = impossible(b);
                emu::fail(!why.empty() ? why : "deadlock in block (" + std::to_string(blockIdx.x) + ", " + std::to_string(blockIdx.y) + ", " +
                          std::to_string(blockIdx.z) + "): " + stuck(b));
                break;
            }
        }
        if (!emu::error.empty()) {
            break;
        }
    }
    emu::block = nullptr;
    munmap(dynamic.mapping, dynamic.mapped);
    return emu::error.empty() ? SUCCESS : fail(LAUNCH_FAILED, emu::error + " (kernel " + k.name + ")");
}

/** Runs the launch on a thread of its own, so that no JVM thread ever runs on a fiber's stack. */
Result run(const Kernel& k, dim3 grid, dim3 block_size, size_t shared, void** params) {
    Result r = SUCCESS;
    std::thread worker([&] { r = run_blocks(k, grid, block_size, shared, params); });
    worker.join();
    return r;
}

struct Event {
    std::chrono::steady_clock::time_point at;
};

}  // namespace

void emu::park(Fiber& f) {
#if defined(__x86_64__)
    emu_switch(&f.sp, block->scheduler_sp);
#else
    swapcontext(&f.context, &block->scheduler);
#endif
}

extern "C" {

int cuInit(unsigned) {
    initialised = true;
    return SUCCESS;
}

int cuDeviceGetCount(int* count) {
    *count = 1;
    return initialised ? SUCCESS : fail(NOT_INITIALIZED, "cuda emulator: cuInit was not called");
}

int cuDeviceGet(int* device, int ordinal) {
    if (ordinal != 0) {
        return fail(INVALID_DEVICE, "cuda emulator: one device, ordinal 0, not " + std::to_string(ordinal));
    }
    *device = 0;
    return SUCCESS;
}

int cuDeviceGetName(char* name, int length, int) {
    std::snprintf(name, size_t(length), "%s", DEVICE_NAME);
    return SUCCESS;
}

int cuDeviceGetAttribute(int* value, int, int) {
    *value = 0;
    return SUCCESS;
}

int cuDevicePrimaryCtxRetain(void** context, int) {
    *context = &context_tag;
    return SUCCESS;
}

int cuCtxSetCurrent(void* context) {
    return context == &context_tag ? SUCCESS : fail(INVALID_VALUE, "cuda emulator: not the primary context");
}

int cuCtxSynchronize() { return SUCCESS; }  // launches run to the end before they return

int cuModuleLoadData(void** module, const void* image) {
    uint32_t magic = 0;
    if (image) {
        std::memcpy(&magic, image, 4);
    }
    // a fatbin's first word, or the text Cuda sends where the build had no nvcc to make one
    bool stand_in = image && std::strncmp(static_cast<const char*>(image), "reformer: no fatbin", 19) == 0;
    if (magic != 0xBA55ED50u && !stand_in) {
        return fail(INVALID_IMAGE, "cuda emulator: the module image is not a fatbin");
    }
    *module = kernels;
    return SUCCESS;
}

int cuModuleGetFunction(void** function, void* module, const char* name) {
    if (module != kernels) {
        return fail(INVALID_HANDLE, "cuda emulator: not this emulator's module");
    }
    for (Kernel& k : kernels) {
        if (std::strcmp(k.name, name) == 0) {
            *function = &k;
            return SUCCESS;
        }
    }
    return fail(NOT_FOUND, std::string("cuda emulator: no kernel named ") + name);
}

int cuFuncSetAttribute(void* function, int attribute, int value) {
    if (attribute == 8 /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */) {
        if (value < 0 || size_t(value) > MAX_SHARED) {
            return fail(INVALID_VALUE, "cuda emulator: " + std::to_string(value) + " bytes of dynamic shared memory asked for " +
                                           static_cast<Kernel*>(function)->name + " (at most " + std::to_string(MAX_SHARED) + ")");
        }
        static_cast<Kernel*>(function)->max_dynamic_shared = size_t(value);
    }
    return SUCCESS;
}

int cuMemAlloc_v2(unsigned long long* pointer, size_t bytes) {
    if (bytes == 0) {
        return fail(INVALID_VALUE, "cuda emulator: cuMemAlloc of 0 bytes");
    }
    Allocation a;
    unsigned char* p = guarded(bytes, &a);
    if (!p) {
        return fail(OUT_OF_MEMORY, "cuda emulator: cannot map " + std::to_string(bytes) + " bytes");
    }
    std::lock_guard<std::mutex> g(lock);
    allocations[uintptr_t(p)] = a;
    *pointer = uintptr_t(p);
    return SUCCESS;
}

int cuMemFree_v2(unsigned long long pointer) {
    std::lock_guard<std::mutex> g(lock);
    auto it = allocations.find(uintptr_t(pointer));
    if (it == allocations.end()) {
        return fail(INVALID_VALUE, "cuda emulator: cuMemFree of a pointer cuMemAlloc did not return");
    }
    munmap(it->second.mapping, it->second.mapped);
    allocations.erase(it);
    return SUCCESS;
}

int cuMemcpyHtoD_v2(unsigned long long device, const void* host, size_t bytes) {
    std::lock_guard<std::mutex> g(lock);
    if (!inside(uintptr_t(device), bytes)) {
        return fail(INVALID_VALUE, "cuda emulator: a copy to the device runs outside its allocation");
    }
    std::memcpy(reinterpret_cast<void*>(device), host, bytes);
    return SUCCESS;
}

int cuMemcpyDtoH_v2(void* host, unsigned long long device, size_t bytes) {
    std::lock_guard<std::mutex> g(lock);
    if (!inside(uintptr_t(device), bytes)) {
        return fail(INVALID_VALUE, "cuda emulator: a copy from the device runs outside its allocation");
    }
    std::memcpy(host, reinterpret_cast<const void*>(device), bytes);
    return SUCCESS;
}

int cuMemsetD8_v2(unsigned long long device, unsigned char value, size_t bytes) {
    std::lock_guard<std::mutex> g(lock);
    if (!inside(uintptr_t(device), bytes)) {
        return fail(INVALID_VALUE, "cuda emulator: a memset runs outside its allocation");
    }
    std::memset(reinterpret_cast<void*>(device), value, bytes);
    return SUCCESS;
}

int cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void* stream, void** params, void** extra) {
    const Kernel& k = *static_cast<Kernel*>(function);
    if (stream || extra || !params) {
        return fail(INVALID_VALUE, "cuda emulator: launches take the default stream and kernelParams only");
    }
    if (bx * by * bz == 0 || bx * by * bz > 1024 || bz > 64) {
        return fail(INVALID_VALUE, "cuda emulator: block size " + std::to_string(bx) + "x" + std::to_string(by) + "x" +
                                        std::to_string(bz) + " (at most 1024 threads)");
    }
    if (gx == 0 || gy == 0 || gz == 0 || gx > 2147483647u || gy > 65535 || gz > 65535) {
        return fail(INVALID_VALUE, "cuda emulator: grid " + std::to_string(gx) + "x" + std::to_string(gy) + "x" +
                                        std::to_string(gz) + " (x at most 2^31 - 1, y and z at most 65535)");
    }
    if (bx * by * bz > k.max_threads) {
        return fail(LAUNCH_OUT_OF_RESOURCES, "cuda emulator: " + std::to_string(bx * by * bz) + " threads per block for " +
                                                 k.name + ", compiled with __launch_bounds__(" +
                                                 std::to_string(k.max_threads) + ")");
    }
    if (shared > k.max_dynamic_shared) {
        return fail(LAUNCH_OUT_OF_RESOURCES, "cuda emulator: " + std::to_string(shared) + " bytes of dynamic shared memory for " +
                                                 k.name + ", allowed " + std::to_string(k.max_dynamic_shared));
    }
    std::lock_guard<std::mutex> g(lock);
    auto start = std::chrono::steady_clock::now();
    Result r = run(k, {gx, gy, gz}, {bx, by, bz}, shared, params);
    if (std::getenv("REFORMER_CUDA_EMULATOR_TRACE")) {  // one line per launch, for finding slow emulation
        std::fprintf(stderr, "cuda emulator: %s grid %ux%ux%u block %u: %.1f ms\n", k.name, gx, gy, gz, bx * by * bz,
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return r;  // unlike a GPU's, the emulator's context survives a failed kernel: tests go on
}

int cuEventCreate(void** event, unsigned) {
    *event = new Event();
    return SUCCESS;
}

int cuEventRecord(void* event, void*) {
    static_cast<Event*>(event)->at = std::chrono::steady_clock::now();
    return SUCCESS;
}

int cuEventSynchronize(void*) { return SUCCESS; }

int cuEventElapsedTime(float* ms, void* start, void* end) {
    *ms = std::chrono::duration<float, std::milli>(static_cast<Event*>(end)->at - static_cast<Event*>(start)->at).count();
    return SUCCESS;
}

int cuEventDestroy_v2(void* event) {
    delete static_cast<Event*>(event);
    return SUCCESS;
}

int cuGetErrorString(int code, const char** text) {
    static thread_local std::string message;
    {
        std::lock_guard<std::mutex> g(lock);
        message = code == last_code ? last_error : "cuda emulator: error " + std::to_string(code);
    }
    *text = message.c_str();
    return SUCCESS;
}

}  // extern "C"
