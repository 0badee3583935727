package dev.reformer.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;

/**
 * The GPU as the kernels see it: whether one is usable here (and if not, why), the kernel module
 * loaded from the packaged fatbin, launches, and timing with events. One device (ordinal 0), its
 * primary context made current on the calling thread; calls are synchronous unless named otherwise.
 *
 * <pre>{@code
 * Cuda.Availability a = Cuda.availability();
 * if (!a.usable()) System.out.println("no GPU: " + a.reason());
 * try (DeviceBuffer x = DeviceBuffer.of(floats)) { Cuda.launch("kernel", grid, block, 0, x.arg(), ...); }
 * }</pre>
 */
public final class Cuda {
    /** Where the build puts the kernels: src/main/cuda compiled by build-fatbin.sh. */
    static final String FATBIN = "reformer_kernels.fatbin";

    /** Whether the kernels can run here; if not, {@code reason} says which piece is missing. */
    public record Availability(boolean usable, String reason, String device) {
        /**
         * Whether the "device" is the CPU emulator of the CUDA driver (src/test/emulator, opened
         * through the environment variable REFORMER_CUDA_DRIVER): right answers, slowly, so tests
         * there use small shapes and benchmarks mean nothing.
         */
        public boolean emulated() {
            return isEmulator(device);
        }
    }

    private static boolean isEmulator(String device) {
        return device.startsWith("CPU emulator");
    }

    private static Availability availability;
    private static long module;
    private static final Map<String, Long> FUNCTIONS = new HashMap<>();
    /** Whether this thread has made the device's context current (the driver keeps one per thread). */
    private static final ThreadLocal<Boolean> CURRENT = ThreadLocal.withInitial(() -> false);

    private Cuda() {
    }

    /** Checks, once: the JNI library, the CUDA driver, a device, the fatbin and its module. */
    public static synchronized Availability availability() {
        if (availability == null) {
            availability = probe();
        }
        return availability;
    }

    private static Availability probe() {
        try {
            Class.forName(CudaDriver.class.getName());
        } catch (Throwable e) {
            return new Availability(false, "the JNI library of CudaDriver is not built here (JavaCPP needs g++ at build time): "
                    + e, "");
        }
        int[] count = new int[1];
        int r = CudaDriver.rc_device_count(count);
        if (r != 0) {
            return new Availability(false, "no GPU: " + CudaDriver.rc_error_string(r), "");
        }
        if (count[0] == 0) {
            return new Availability(false, "no GPU: the CUDA driver sees no device", "");
        }
        byte[] name = new byte[256];
        r = CudaDriver.rc_use_device(0, name, name.length);
        if (r != 0) {
            return new Availability(false, "device 0 cannot be used: " + CudaDriver.rc_error_string(r), "");
        }
        String device = new String(name, java.nio.charset.StandardCharsets.US_ASCII).replaceAll("\0.*", "");
        byte[] image;
        try (InputStream in = Cuda.class.getResourceAsStream(FATBIN)) {
            if (in == null && isEmulator(device)) {
                // the emulator has the kernels compiled in: a build without nvcc still tests them there
                image = "reformer: no fatbin\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            } else if (in == null) {
                return new Availability(false, FATBIN + " is not packaged (nvcc was not found at build time)", device);
            } else {
                image = in.readAllBytes();
            }
        } catch (IOException e) {
            return new Availability(false, FATBIN + " cannot be read: " + e.getMessage(), device);
        }
        long[] m = new long[1];
        try (BytePointer bytes = new BytePointer(image)) {
            r = CudaDriver.rc_load_module(bytes, m);
        }
        if (r != 0) {
            return new Availability(false, "the kernels do not load on " + device + ": " + CudaDriver.rc_error_string(r),
                    device);
        }
        module = m[0];
        return new Availability(true, "", device);
    }

    /** Throws unless a GPU is usable, with the reason. */
    static void require() {
        Availability a = availability();
        if (!a.usable()) {
            throw new CudaException("CUDA kernels unavailable: " + a.reason());
        }
        if (!CURRENT.get()) {
            check(CudaDriver.rc_make_current(), "making the GPU's context current on thread " + Thread.currentThread().getName());
            CURRENT.set(true);
        }
    }

    /** Throws a {@link CudaException} naming {@code call} when {@code result} is not success. */
    static void check(int result, String call) {
        if (result != 0) {
            throw new CudaException(call + " failed: " + CudaDriver.rc_error_string(result) + " (code " + result + ")");
        }
    }

    /**
     * The kernel {@code name}, allowed {@code sharedBytes} of dynamic shared memory. The allowance
     * above 48 KiB is an attribute of the one function handle, so it is set again on every such
     * call rather than cached with the handle.
     */
    static synchronized long function(String name, int sharedBytes) {
        require();
        Long f = FUNCTIONS.get(name);
        if (f == null || sharedBytes > 48 * 1024) {
            long[] out = new long[1];
            check(CudaDriver.rc_function_of(module, name, sharedBytes, out), "loading kernel " + name);
            f = out[0];
            FUNCTIONS.put(name, f);
        }
        return f;
    }

    /** A kernel argument: a device pointer, an int or a float. */
    record Arg(long value, int kind) {
        static Arg of(int v) {
            return new Arg(v, CudaDriver.ARG_INT);
        }

        static Arg of(float v) {
            return new Arg(Float.floatToRawIntBits(v) & 0xffffffffL, CudaDriver.ARG_FLOAT);
        }

        static Arg of(boolean v) {
            return of(v ? 1 : 0);
        }

        /** A null device pointer (an absent optional input). */
        static Arg none() {
            return new Arg(0, CudaDriver.ARG_POINTER);
        }
    }

    /** Launches {@code kernel} on grid {@code (gx, gy)} of blocks of {@code threads}, asynchronously. */
    static void launch(String kernel, int gx, int gy, int threads, int sharedBytes, Arg... args) {
        long f = function(kernel, sharedBytes);
        long[] values = new long[args.length];
        int[] kinds = new int[args.length];
        for (int i = 0; i < args.length; i++) {
            values[i] = args[i].value();
            kinds[i] = args[i].kind();
        }
        check(CudaDriver.rc_launch(f, gx, gy, 1, threads, 1, 1, sharedBytes, values, kinds, args.length), "launching " + kernel);
    }

    /** Waits for every launch so far; a kernel's own failure surfaces here. */
    public static void synchronize() {
        check(CudaDriver.rc_synchronize(), "synchronizing");
    }

    /** Milliseconds {@code work} takes on the GPU, between two events around it. */
    public static float time(Runnable work) {
        require();
        long[] start = new long[1];
        long[] end = new long[1];
        check(CudaDriver.rc_event_create(start), "creating an event");
        check(CudaDriver.rc_event_create(end), "creating an event");
        try {
            check(CudaDriver.rc_event_record(start[0]), "recording an event");
            work.run();
            check(CudaDriver.rc_event_record(end[0]), "recording an event");
            float[] ms = new float[1];
            check(CudaDriver.rc_event_elapsed_ms(start[0], end[0], ms), "timing");
            return ms[0];
        } finally {
            CudaDriver.rc_event_destroy(start[0]);
            CudaDriver.rc_event_destroy(end[0]);
        }
    }
}
