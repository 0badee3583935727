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
}
