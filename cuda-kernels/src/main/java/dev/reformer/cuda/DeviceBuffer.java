package dev.reformer.cuda;

/**
 * GPU memory, freed when closed (use try-with-resources: release is deterministic, never left to
 * a garbage collector). Copies to and from Java arrays are synchronous.
 */
public final class DeviceBuffer implements AutoCloseable {
    private long pointer;
    private final long bytes;

    private DeviceBuffer(long pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /** {@code bytes} of uninitialised memory. */
    public static DeviceBuffer allocate(long bytes) {
        Cuda.require();
        long[] p = new long[1];
        Cuda.check(CudaDriver.rc_alloc(Math.max(bytes, 4), p), "allocating " + bytes + " bytes");
        return new DeviceBuffer(p[0], bytes);
    }

    /** Sets every byte to 0 (before kernels that add into the buffer with atomics), asynchronously. */
    public void zero() {
        Cuda.check(CudaDriver.rc_zero(arg().value(), bytes), "zeroing " + bytes + " bytes");
    }

    public static DeviceBuffer of(float[] host) {
        DeviceBuffer b = allocate(4L * host.length);
        Cuda.check(CudaDriver.rc_copy_floats_to_device(b.pointer, host, host.length), "copying to the GPU");
        return b;
    }

    public static DeviceBuffer of(int[] host) {
        DeviceBuffer b = allocate(4L * host.length);
        Cuda.check(CudaDriver.rc_copy_ints_to_device(b.pointer, host, host.length), "copying to the GPU");
        return b;
    }

    /** One byte per flag: 1 where true. */
    public static DeviceBuffer of(boolean[] host) {
        byte[] bytes = new byte[host.length];
        for (int i = 0; i < host.length; i++) {
            bytes[i] = (byte) (host[i] ? 1 : 0);
        }
        DeviceBuffer b = allocate(bytes.length);
        Cuda.check(CudaDriver.rc_copy_bytes_to_device(b.pointer, bytes, bytes.length), "copying to the GPU");
        return b;
    }

    public float[] floats(int count) {
        check(4L * count);
        float[] out = new float[count];
        Cuda.check(CudaDriver.rc_copy_floats_to_host(out, pointer, count), "copying from the GPU");
        return out;
    }

    public int[] ints(int count) {
        check(4L * count);
        int[] out = new int[count];
        Cuda.check(CudaDriver.rc_copy_ints_to_host(out, pointer, count), "copying from the GPU");
        return out;
    }

    public long bytes() {
        return bytes;
    }

    /** This buffer as a kernel argument. */
    Cuda.Arg arg() {
        if (pointer == 0) {
            throw new IllegalStateException("device buffer used after close()");
        }
        return new Cuda.Arg(pointer, CudaDriver.ARG_POINTER);
    }

    private void check(long wanted) {
        if (pointer == 0) {
            throw new IllegalStateException("device buffer used after close()");
        }
        if (wanted > bytes) {
            throw new IllegalArgumentException("reading " + wanted + " bytes from a device buffer of " + bytes);
        }
    }

    @Override
    public void close() {
        if (pointer != 0) {
            CudaDriver.rc_free(pointer);
            pointer = 0;
        }
    }
}
