package dev.reformer.tensor;

/**
 * The engine's tensor memory at one moment: bytes held by live scoped tensors and their peak,
 * bytes cached for reuse, the cache's bound, and how often a new tensor found a cached buffer.
 * Tensors made outside any {@link MemoryScope} belong to the garbage collector and are not counted.
 *
 * @param liveBytes     bytes of tensors made in a scope and not yet released
 * @param peakLiveBytes the most {@code liveBytes} has been since the last {@link MemoryScope#resetPeak()}
 * @param cachedBytes   bytes of released buffers kept for reuse
 * @param capacityBytes the most the cache keeps ({@code -Dreformer.poolMegabytes})
 * @param hits          new scoped tensors that reused a cached buffer
 * @param misses        new scoped tensors that needed fresh memory
 */
public record MemoryStats(long liveBytes, long peakLiveBytes, long cachedBytes, long capacityBytes, long hits,
        long misses) {
}
