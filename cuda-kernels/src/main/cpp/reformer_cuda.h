// reformer_cuda.h: the few CUDA driver API calls the kernels need, reached through dlopen so that
// the JNI library JavaCPP builds from it (dev.reformer.cuda.CudaDriver) has no link-time CUDA
// dependency: it loads on any machine and reports "no driver" where libcuda.so.1 is missing.
// The environment variable REFORMER_CUDA_DRIVER, where set, names another library to open instead:
// the build's CPU emulator of the driver (src/test/emulator) for the emulated GPU tests.
//
// Every function returns a CUresult-style code (0 = success; RC_NO_DRIVER when libcuda.so.1 or a
// symbol is missing) and writes results through pointers. Device pointers travel as long long.
#ifndef REFORMER_CUDA_H
#define REFORMER_CUDA_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RC_NO_DRIVER 100000
#define RC_ARG_POINTER 0
#define RC_ARG_INT 1
#define RC_ARG_FLOAT 2
#define RC_MAX_ARGS 32

typedef int rc_result;
typedef int rc_device;
typedef void* rc_context;
typedef void* rc_module;
typedef void* rc_function;
typedef void* rc_event;
typedef unsigned long long rc_deviceptr;

struct rc_api {
    void* lib;
    rc_result (*cuInit)(unsigned int);
    rc_result (*cuDeviceGetCount)(int*);
    rc_result (*cuDeviceGet)(rc_device*, int);
    rc_result (*cuDeviceGetName)(char*, int, rc_device);
    rc_result (*cuDeviceGetAttribute)(int*, int, rc_device);
    rc_result (*cuDevicePrimaryCtxRetain)(rc_context*, rc_device);
    rc_result (*cuCtxSetCurrent)(rc_context);
    rc_result (*cuCtxSynchronize)(void);
    rc_result (*cuModuleLoadData)(rc_module*, const void*);
    rc_result (*cuModuleGetFunction)(rc_function*, rc_module, const char*);
    rc_result (*cuFuncSetAttribute)(rc_function, int, int);
    rc_result (*cuMemAlloc)(rc_deviceptr*, size_t);
    rc_result (*cuMemFree)(rc_deviceptr);
    rc_result (*cuMemcpyHtoD)(rc_deviceptr, const void*, size_t);
    rc_result (*cuMemcpyDtoH)(void*, rc_deviceptr, size_t);
    rc_result (*cuMemsetD8)(rc_deviceptr, unsigned char, size_t);
    rc_result (*cuLaunchKernel)(rc_function, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*,
                                void**, void**);
    rc_result (*cuEventCreate)(rc_event*, unsigned int);
    rc_result (*cuEventRecord)(rc_event, void*);
    rc_result (*cuEventSynchronize)(rc_event);
    rc_result (*cuEventElapsedTime)(float*, rc_event, rc_event);
    rc_result (*cuEventDestroy)(rc_event);
    rc_result (*cuGetErrorString)(rc_result, const char**);
};

static struct rc_api rc_driver;
static rc_context rc_primary = 0;
static char rc_open_failure[512];

#define RC_SYMBOL(name, symbol)                                                                          \
    if (!(*(void**)(&rc_driver.name) = dlsym(rc_driver.lib, symbol))) {                                         \
        snprintf(rc_open_failure, sizeof rc_open_failure, "no CUDA driver (the driver library lacks %s)", symbol); \
        return RC_NO_DRIVER;                                                                                     \
    }

static inline int rc_resolve();

/** Opens libcuda.so.1, resolves the calls and initialises the driver. */
static inline int rc_open() {
    if (rc_driver.lib) {
        return 0;
    }
    const char* path = getenv("REFORMER_CUDA_DRIVER");
    void* lib = dlopen(path && *path ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        if (path && *path) {
            const char* why = dlerror();
            snprintf(rc_open_failure, sizeof rc_open_failure, "no CUDA driver (REFORMER_CUDA_DRIVER=%s does not load: %s)",
                     path, why ? why : "unknown");
        }
        return RC_NO_DRIVER;
    }
    rc_driver.lib = lib;
    int r = rc_resolve();
    if (r) {
        dlclose(lib);
        rc_driver.lib = 0;  /* a later call tries again from the start */
        return r;
    }
    return rc_driver.cuInit(0);
}

static inline int rc_resolve() {
    RC_SYMBOL(cuInit, "cuInit")
    RC_SYMBOL(cuDeviceGetCount, "cuDeviceGetCount")
    RC_SYMBOL(cuDeviceGet, "cuDeviceGet")
    RC_SYMBOL(cuDeviceGetName, "cuDeviceGetName")
    RC_SYMBOL(cuDeviceGetAttribute, "cuDeviceGetAttribute")
    RC_SYMBOL(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
    RC_SYMBOL(cuCtxSetCurrent, "cuCtxSetCurrent")
    RC_SYMBOL(cuCtxSynchronize, "cuCtxSynchronize")
    RC_SYMBOL(cuModuleLoadData, "cuModuleLoadData")
    RC_SYMBOL(cuModuleGetFunction, "cuModuleGetFunction")
    RC_SYMBOL(cuFuncSetAttribute, "cuFuncSetAttribute")
    RC_SYMBOL(cuMemAlloc, "cuMemAlloc_v2")
    RC_SYMBOL(cuMemFree, "cuMemFree_v2")
    RC_SYMBOL(cuMemcpyHtoD, "cuMemcpyHtoD_v2")
    RC_SYMBOL(cuMemcpyDtoH, "cuMemcpyDtoH_v2")
    RC_SYMBOL(cuMemsetD8, "cuMemsetD8_v2")
    RC_SYMBOL(cuLaunchKernel, "cuLaunchKernel")
    RC_SYMBOL(cuEventCreate, "cuEventCreate")
    RC_SYMBOL(cuEventRecord, "cuEventRecord")
    RC_SYMBOL(cuEventSynchronize, "cuEventSynchronize")
    RC_SYMBOL(cuEventElapsedTime, "cuEventElapsedTime")
    RC_SYMBOL(cuEventDestroy, "cuEventDestroy_v2")
    RC_SYMBOL(cuGetErrorString, "cuGetErrorString")
    return 0;
}

/** Devices present (0 with no driver). */
static inline int rc_device_count(int* count) {
    *count = 0;
    int r = rc_open();
    return r ? r : rc_driver.cuDeviceGetCount(count);
}

/** Makes device `ordinal`'s primary context current on this thread; writes its name. */
static inline int rc_use_device(int ordinal, char* name, int name_length) {
    int r = rc_open();
    if (r) return r;
    rc_device device;
    if ((r = rc_driver.cuDeviceGet(&device, ordinal))) return r;
    if ((r = rc_driver.cuDevicePrimaryCtxRetain(&rc_primary, device))) return r;
    if ((r = rc_driver.cuCtxSetCurrent(rc_primary))) return r;
    return rc_driver.cuDeviceGetName(name, name_length, device);
}

/** Makes the device's context current on the calling thread (contexts are per thread). */
static inline int rc_make_current() {
    return rc_primary ? rc_driver.cuCtxSetCurrent(rc_primary) : 1;
}

static inline int rc_load_module(const char* image, long long* module) {
    rc_module m = 0;
    int r = rc_driver.cuModuleLoadData(&m, image);
    *module = (long long)(intptr_t)m;
    return r;
}

/** The kernel `name` of `module`, allowed `dynamic_shared` bytes of dynamic shared memory. */
static inline int rc_function_of(long long module, const char* name, int dynamic_shared, long long* function) {
    rc_function f = 0;
    int r = rc_driver.cuModuleGetFunction(&f, (rc_module)(intptr_t)module, name);
    *function = (long long)(intptr_t)f;
    if (r == 0 && dynamic_shared > 48 * 1024) {
        r = rc_driver.cuFuncSetAttribute(f, 8 /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */, dynamic_shared);
    }
    return r;
}

static inline int rc_alloc(long long bytes, long long* pointer) {
    rc_deviceptr p = 0;
    int r = rc_driver.cuMemAlloc(&p, (size_t)bytes);
    *pointer = (long long)p;
    return r;
}

static inline int rc_free(long long pointer) {
    return rc_driver.cuMemFree((rc_deviceptr)pointer);
}

static inline int rc_zero(long long pointer, long long bytes) {
    return rc_driver.cuMemsetD8((rc_deviceptr)pointer, 0, (size_t)bytes);
}

static inline int rc_copy_floats_to_device(long long pointer, const float* host, long long count) {
    return rc_driver.cuMemcpyHtoD((rc_deviceptr)pointer, host, (size_t)count * 4);
}

static inline int rc_copy_ints_to_device(long long pointer, const int* host, long long count) {
    return rc_driver.cuMemcpyHtoD((rc_deviceptr)pointer, host, (size_t)count * 4);
}

static inline int rc_copy_bytes_to_device(long long pointer, const signed char* host, long long count) {
    return rc_driver.cuMemcpyHtoD((rc_deviceptr)pointer, host, (size_t)count);
}

static inline int rc_copy_floats_to_host(float* host, long long pointer, long long count) {
    return rc_driver.cuMemcpyDtoH(host, (rc_deviceptr)pointer, (size_t)count * 4);
}

static inline int rc_copy_ints_to_host(int* host, long long pointer, long long count) {
    return rc_driver.cuMemcpyDtoH(host, (rc_deviceptr)pointer, (size_t)count * 4);
}

/**
 * Launches `function` on a grid of blocks. The kernel's arguments come as `count` 8-byte values
 * with their kinds: RC_ARG_POINTER (a device pointer), RC_ARG_INT (an int in the low 32 bits),
 * RC_ARG_FLOAT (a float's bits in the low 32 bits).
 */
static inline int rc_launch(long long function, int gx, int gy, int gz, int bx, int by, int bz, int shared_bytes,
                            const long long* values, const int* kinds, int count) {
    if (count > RC_MAX_ARGS) return 1; /* CUDA_ERROR_INVALID_VALUE */
    unsigned long long slots[RC_MAX_ARGS];
    void* params[RC_MAX_ARGS];
    for (int i = 0; i < count; i++) {
        if (kinds[i] == RC_ARG_POINTER) {
            slots[i] = (unsigned long long)values[i];
        } else {
            unsigned int low = (unsigned int)(values[i] & 0xffffffffLL);
            slots[i] = 0;
            memcpy(&slots[i], &low, 4);
        }
        params[i] = &slots[i];
    }
    return rc_driver.cuLaunchKernel((rc_function)(intptr_t)function, gx, gy, gz, bx, by, bz, shared_bytes, 0, params, 0);
}

static inline int rc_synchronize() {
    return rc_driver.cuCtxSynchronize();
}

static inline int rc_event_create(long long* event) {
    rc_event e = 0;
    int r = rc_driver.cuEventCreate(&e, 0);
    *event = (long long)(intptr_t)e;
    return r;
}

static inline int rc_event_record(long long event) {
    return rc_driver.cuEventRecord((rc_event)(intptr_t)event, 0);
}

static inline int rc_event_elapsed_ms(long long start, long long end, float* ms) {
    int r = rc_driver.cuEventSynchronize((rc_event)(intptr_t)end);
    return r ? r : rc_driver.cuEventElapsedTime(ms, (rc_event)(intptr_t)start, (rc_event)(intptr_t)end);
}

static inline int rc_event_destroy(long long event) {
    return rc_driver.cuEventDestroy((rc_event)(intptr_t)event);
}

/** The driver's name for `code`, or a fixed text where there is no driver. */
static inline const char* rc_error_string(int code) {
    if (code == RC_NO_DRIVER) return rc_open_failure[0] ? rc_open_failure : "no CUDA driver (libcuda.so.1 not found)";
    const char* s = 0;
    if (rc_driver.lib && rc_driver.cuGetErrorString && rc_driver.cuGetErrorString(code, &s) == 0 && s) return s;
    return "unknown CUDA error";
}

#endif
