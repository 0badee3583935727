package dev.reformer.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The CUDA driver API calls the kernels need, as JavaCPP maps them from {@code reformer_cuda.h}
 * (built into a JNI library by the JavaCPP Maven plugin during the build). The library opens
 * {@code libcuda.so.1} itself at run time, so it loads on machines without a GPU and answers
 * {@link #NO_DRIVER} there. Every call returns the driver's result code (0 = success); use
 * {@link Cuda} rather than these raw calls.
 */
@Platform(include = "reformer_cuda.h", link = "dl")
public final class CudaDriver {
    /** The code every call returns where libcuda.so.1 (or one of its calls) is missing. */
    public static final int NO_DRIVER = 100000;
    public static final int ARG_POINTER = 0;
    public static final int ARG_INT = 1;
    public static final int ARG_FLOAT = 2;

    static {
        Loader.load();
    }

    private CudaDriver() {
    }

    public static native int rc_device_count(int[] count);

    public static native int rc_use_device(int ordinal, @Cast("char*") byte[] name, int nameLength);

    public static native int rc_make_current();

    public static native int rc_load_module(@Cast("const char*") BytePointer image, @Cast("long long*") long[] module);

    public static native int rc_function_of(@Cast("long long") long module, String name, int dynamicShared,
            @Cast("long long*") long[] function);

    public static native int rc_alloc(@Cast("long long") long bytes, @Cast("long long*") long[] pointer);

    public static native int rc_free(@Cast("long long") long pointer);

    public static native int rc_zero(@Cast("long long") long pointer, @Cast("long long") long bytes);

    public static native int rc_copy_floats_to_device(@Cast("long long") long pointer, float[] host, @Cast("long long") long count);

    public static native int rc_copy_ints_to_device(@Cast("long long") long pointer, int[] host, @Cast("long long") long count);

    public static native int rc_copy_bytes_to_device(@Cast("long long") long pointer, @Cast("const signed char*") byte[] host,
            @Cast("long long") long count);

    public static native int rc_copy_floats_to_host(float[] host, @Cast("long long") long pointer, @Cast("long long") long count);

    public static native int rc_copy_ints_to_host(int[] host, @Cast("long long") long pointer, @Cast("long long") long count);

    public static native int rc_launch(@Cast("long long") long function, int gx, int gy, int gz, int bx, int by, int bz,
            int sharedBytes, @Cast("const long long*") long[] values, @Cast("const int*") int[] kinds, int count);

    public static native int rc_synchronize();

    public static native int rc_event_create(@Cast("long long*") long[] event);

    public static native int rc_event_record(@Cast("long long") long event);

    public static native int rc_event_elapsed_ms(@Cast("long long") long start, @Cast("long long") long end, float[] ms);

    public static native int rc_event_destroy(@Cast("long long") long event);

    public static native @Cast("const char*") String rc_error_string(int code);
}
