/**
 * CUDA kernels for the two hot spots of LSH attention, each beside the plain-Java reference of its
 * contract: the bucket sort ({@code bucket_sort.cu}, {@link dev.reformer.cuda.BucketSortReference})
 * and the chunked attention forward and backward with the round combination
 * ({@code chunked_attention.cu}, the engine's {@code ChunkedAttentionReference} and
 * {@code RoundCombination}).
 *
 * <p>Layout (llm.c's dev/cuda style): each {@code .cu} source in {@code src/main/cuda} opens with
 * the list of its versions; nvcc compiles them into one fatbin during the build where it is
 * installed; Java reaches the driver through a JavaCPP-built JNI library ({@link dev.reformer.cuda.CudaDriver},
 * which opens {@code libcuda.so.1} at run time) and launches through {@link dev.reformer.cuda.Cuda};
 * device memory is a {@link dev.reformer.cuda.DeviceBuffer}, freed by try-with-resources. GPU tests
 * carry the JUnit tag {@code gpu} and skip, saying why, where no device is present;
 * {@code gpu-check.sh} runs them and {@link dev.reformer.cuda.GpuBenchmark} on a GPU machine from a
 * self-contained bundle. The engine uses the kernels through {@link dev.reformer.cuda.CudaAttentionDevice}:
 * {@code LshAttention.builder().device("cuda")}.
 */
package dev.reformer.cuda;
