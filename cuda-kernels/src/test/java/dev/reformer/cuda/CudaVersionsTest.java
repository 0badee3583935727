package dev.reformer.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reformer.attention.ChunkedAttentionSpec;
import org.junit.jupiter.api.Test;

/** Which kernel version covers which problem: plain Java, so it runs everywhere. */
class CudaVersionsTest {
    /** v2 refuses what its blocks cannot hold, naming the limit; the engine's device then uses v1. */
    @Test
    void v2NamesTheChunksItCannotRun() {
        ChunkedAttentionSpec longChunks = new ChunkedAttentionSpec(2, 128, 1, 0, true, true, 0.125, -5e4, false);
        assertThat(CudaChunkedAttention.unsupported(CudaChunkedAttention.Version.V2, longChunks, 128))
                .isEqualTo("chunk length 128 at D = 128: v2 gives each query D/32 threads and a block at most 256, so the chunk"
                        + " is at most 64");
        assertThat(CudaChunkedAttention.unsupported(CudaChunkedAttention.Version.V1, longChunks, 128)).isNull();
        assertThat(CudaAttentionDevice.versionFor(longChunks, 128)).isEqualTo(CudaChunkedAttention.Version.V1);
        assertThat(CudaAttentionDevice.versionFor(longChunks, 64)).isEqualTo(CudaChunkedAttention.Version.V2);
    }

    /** Each sort version names the bucket counts its shared memory cannot hold. */
    @Test
    void sortVersionsNameTheBucketCountsTheyCannotHold() {
        assertThat(CudaBucketSort.unsupported(CudaBucketSort.Version.V1, 4, 4096))
                .isEqualTo("bucket_sort_v1 keeps K*NB = 16384 counts in shared memory (at most 12288): use V2 or V3");
        assertThat(CudaBucketSort.unsupported(CudaBucketSort.Version.V3, 4, 4096)).isNull();
        assertThat(CudaBucketSort.unsupported(CudaBucketSort.Version.V3, 1, 16384))
                .isEqualTo("bucket_sort_v3 keeps at least 2*NB = 32768 counts in shared memory (NB at most 12288): use V2");
        assertThat(CudaBucketSort.unsupported(CudaBucketSort.Version.V2, 8, 4096)).isNull();
        assertThat(CudaBucketSort.unsupported(CudaBucketSort.Version.V2, 8, 65536))
                .isEqualTo("bucket_sort_v2 keeps K*NB = 524288 counts of a tile in shared memory (at most 58112, 227 KiB)");
        assertThat(CudaBucketSort.v3Warps(1024)).isEqualTo(23);
        assertThat(CudaBucketSort.v3Warps(16)).isEqualTo(32);
        assertThat(4 * (CudaBucketSort.v3Warps(12288) + 1) * 12288).isLessThanOrEqualTo(96 * 1024);
    }
}
