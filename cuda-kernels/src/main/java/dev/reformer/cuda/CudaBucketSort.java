package dev.reformer.cuda;

/**
 * {@code bucket_sort.cu} from Java: uploads the buckets, runs one version of the kernel and
 * downloads the sorted and undo-sort indices. Same contract as {@link BucketSortReference}.
 */
public final class CudaBucketSort {
    /** The kernel versions, as {@code bucket_sort.cu} lists them. */
    public enum Version { V1, V2, V3 }

    /** Threads per block of v2's passes: 8 warps, so a tile holds 256 items. */
    static final int V2_THREADS = 256;

    private CudaBucketSort() {
    }

    public static BucketSortReference.Order sort(Version version, int[] buckets, int rows, int rounds, int length, int nb) {
        int items = rounds * length;
        try (DeviceBuffer b = DeviceBuffer.of(buckets);
                DeviceBuffer sorted = DeviceBuffer.allocate(4L * rows * items);
                DeviceBuffer undo = DeviceBuffer.allocate(4L * rows * items)) {
            run(version, b, sorted, undo, rows, rounds, length, nb);
            Cuda.synchronize();
            return new BucketSortReference.Order(sorted.ints(rows * items), undo.ints(rows * items));
        }
    }

    /** The scratch memory {@link #run} needs for {@code version}: v2's per-tile counts. */
    public static long scratchBytes(Version version, int rows, int rounds, int length, int nb) {
        int tiles = (rounds * length + V2_THREADS - 1) / V2_THREADS;
        return version == Version.V2 ? 4L * rows * rounds * nb * tiles : 0;
    }

    /** v3's warps per block: as many as keep its (W + 1) * NB shared counters within 96 KiB, at most 32. */
    static int v3Warps(int nb) {
        if (nb < 1) {
            throw new IllegalArgumentException("NB = " + nb + " buckets: at least 1");
        }
        return Math.max(1, Math.min(32, 24576 / nb - 1));
    }

    /** Why {@code version} cannot sort with {@code nb} buckets (per round), or null when it can. */
    public static String unsupported(Version version, int rounds, int nb) {
        if (nb < 1 || rounds < 1) {
            return "K = " + rounds + " rounds of NB = " + nb + " buckets: both must be at least 1";
        }
        if (version == Version.V1 && rounds * nb > 12288) {
            return "bucket_sort_v1 keeps K*NB = " + rounds * nb + " counts in shared memory (at most 12288): use V2 or V3";
        }
        if (version == Version.V2 && rounds * nb > 58112) {
            return "bucket_sort_v2 keeps K*NB = " + rounds * nb + " counts of a tile in shared memory (at most 58112, 227 KiB)";
        }
        if (version == Version.V3 && nb > 12288) {
            return "bucket_sort_v3 keeps at least 2*NB = " + 2 * nb + " counts in shared memory (NB at most 12288): use V2";
        }
        return null;
    }

    /** Launches the sort on buffers already on the GPU; allocates and frees its scratch memory, and waits. */
    public static void run(Version version, DeviceBuffer buckets, DeviceBuffer sorted, DeviceBuffer undo, int rows, int rounds,
            int length, int nb) {
        try (DeviceBuffer scratch = DeviceBuffer.allocate(scratchBytes(version, rows, rounds, length, nb))) {
            run(version, buckets, sorted, undo, scratch, rows, rounds, length, nb);
            Cuda.synchronize();
        }
    }

    /** Launches the sort on buffers already on the GPU, with {@link #scratchBytes} of scratch, asynchronously. */
    public static void run(Version version, DeviceBuffer buckets, DeviceBuffer sorted, DeviceBuffer undo, DeviceBuffer scratch,
            int rows, int rounds, int length, int nb) {
        int keys = rounds * nb;
        int items = rounds * length;
        String why = unsupported(version, rounds, nb);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        if (version == Version.V3) {
            int warps = v3Warps(nb);
            Cuda.launch("bucket_sort_v3", rounds, rows, 32 * warps, 4 * (warps + 1) * nb, buckets.arg(), sorted.arg(),
                    undo.arg(), Cuda.Arg.of(rounds), Cuda.Arg.of(length), Cuda.Arg.of(nb));
            return;
        }
        if (version == Version.V1) {
            Cuda.launch("bucket_sort_v1", rows, 1, 32, 4 * keys, buckets.arg(), sorted.arg(), undo.arg(), Cuda.Arg.of(rounds),
                    Cuda.Arg.of(length), Cuda.Arg.of(nb));
            return;
        }
        int tiles = (items + V2_THREADS - 1) / V2_THREADS;
        if (scratch.bytes() < scratchBytes(version, rows, rounds, length, nb)) {
            throw new IllegalArgumentException("bucket_sort_v2 needs " + scratchBytes(version, rows, rounds, length, nb)
                    + " bytes of scratch, got " + scratch.bytes());
        }
        Cuda.launch("bucket_sort_v2_count", tiles, rows, V2_THREADS, 4 * keys, buckets.arg(), scratch.arg(),
                Cuda.Arg.of(rounds), Cuda.Arg.of(length), Cuda.Arg.of(nb), Cuda.Arg.of(tiles));
        Cuda.launch("bucket_sort_v2_scan", rows, 1, 1024, 0, scratch.arg(), Cuda.Arg.of(keys), Cuda.Arg.of(tiles));
        Cuda.launch("bucket_sort_v2_scatter", tiles, rows, V2_THREADS, 4 * keys, buckets.arg(), scratch.arg(), sorted.arg(),
                undo.arg(), Cuda.Arg.of(rounds), Cuda.Arg.of(length), Cuda.Arg.of(nb), Cuda.Arg.of(tiles));
    }
}
