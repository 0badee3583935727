package dev.reformer.cuda;

/**
 * {@code lsh_hash.cu} from Java: the bucket of every position in every round, on the GPU. Same
 * contract as {@link LshHashReference}.
 */
public final class CudaLshHash {
    private static final int POSITIONS = 64;

    private CudaLshHash() {
    }

    /** Why the kernel cannot hash at head size {@code dim}, or null when it can. */
    public static String unsupported(int dim) {
        return dim == 64 || dim == 128 ? null : "head size " + dim + ": lsh_hash is compiled for D = 64 and 128";
    }

    /** Buckets (N, K, L) of x (N, L, D) under rotations (N, D, K*S); copies in and out. */
    public static int[] hash(float[] x, float[] rotations, int rows, int length, int dim, int rounds, int half) {
        try (DeviceBuffer dx = DeviceBuffer.of(x); DeviceBuffer dr = DeviceBuffer.of(rotations);
                DeviceBuffer buckets = DeviceBuffer.allocate(4L * rows * rounds * length)) {
            run(dx, dr, buckets, rows, length, dim, rounds, half);
            Cuda.synchronize();
            return buckets.ints(rows * rounds * length);
        }
    }

    /** Launches the hash on buffers already on the GPU, asynchronously. */
    public static void run(DeviceBuffer x, DeviceBuffer rotations, DeviceBuffer buckets, int rows, int length, int dim,
            int rounds, int half) {
        String why = unsupported(dim);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        Cuda.launch("lsh_hash_v1_d" + dim, (length + POSITIONS - 1) / POSITIONS, rows, POSITIONS, 0, x.arg(), rotations.arg(),
                buckets.arg(), Cuda.Arg.of(length), Cuda.Arg.of(rounds), Cuda.Arg.of(half));
    }
}
