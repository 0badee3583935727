package dev.reformer.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Scoped tensors give their memory back when the scope closes, and the pool hands it out again. */
class MemoryScopeTest {
    @Test
    void aScopeReleasesItsTensorsAndTheNextOnesReuseTheMemory() {
        Tensor inside;
        long hitsBefore;
        try (MemoryScope scope = MemoryScope.open()) {
            inside = Tensor.ones(DType.FLOAT32, 1000, 37);
            assertThat(MemoryScope.stats().liveBytes()).isGreaterThanOrEqualTo(37_000 * 4L);
        }
        assertThat(inside.isReleased()).isTrue();
        assertThatThrownBy(() -> inside.sum(false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("float32(1000,37) was released");
        hitsBefore = MemoryScope.stats().hits();
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor again = Tensor.zeros(DType.FLOAT32, 37, 1000);    // same element count and dtype
            assertThat(again.sum(false).item()).isZero();
        }
        assertThat(MemoryScope.stats().hits()).isGreaterThan(hitsBefore);
    }

    @Test
    void keptAndRetainedTensorsOutliveTheScope() {
        Tensor kept;
        Tensor retained;
        Tensor view;
        try (MemoryScope outer = MemoryScope.open()) {
            try (MemoryScope inner = MemoryScope.open()) {
                kept = inner.keep(Tensor.full(DType.FLOAT64, 2.0, 3));
                retained = Tensor.full(DType.FLOAT64, 3.0, 4).retain();
                view = retained.reshape(2, 2);
            }
            assertThat(kept.sum(false).item()).isEqualTo(6.0);
            assertThat(view.sum(false).item()).isEqualTo(12.0);
        }
        assertThat(kept.isReleased()).isTrue();          // it moved to the outer scope, which closed
        assertThat(retained.isReleased()).isFalse();
        retained.release();
        assertThat(retained.isReleased()).isTrue();
        assertThat(view.isReleased()).isTrue();          // a view shares its tensor's memory
    }

    @Test
    void releaseAtScopeEndKeepsTheValueReadableUntilTheScopeCloses() {
        Tensor held;
        try (MemoryScope step = MemoryScope.open()) {
            try (MemoryScope made = MemoryScope.open()) {
                held = Tensor.full(DType.FLOAT32, 1.5f, 8).retain();
            }
            held.releaseAtScopeEnd();
            assertThat(held.sum(false).item()).isEqualTo(12.0);
        }
        assertThat(held.isReleased()).isTrue();
    }

    @Test
    void freeGivesScratchBackBeforeTheScopeEnds() {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor scratch = Tensor.zeros(DType.FLOAT32, 4096);
            long live = MemoryScope.stats().liveBytes();
            scratch.free();
            assertThat(scratch.isReleased()).isTrue();
            assertThat(MemoryScope.stats().liveBytes()).isEqualTo(live - 4096 * 4);
        }
    }

    @Test
    void tensorsOutsideAnyScopeBelongToTheGarbageCollector() {
        Tensor free = Tensor.ones(DType.FLOAT32, 10);
        free.retain();
        free.release();
        free.release();                                   // the collector's share is never given back
        assertThat(free.isReleased()).isFalse();
        assertThat(free.sum(false).item()).isEqualTo(10.0);
    }

    @Test
    void scopesCloseInnermostFirst() {
        MemoryScope outer = MemoryScope.open();
        MemoryScope inner = MemoryScope.open();
        assertThatThrownBy(outer::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("innermost first");
        inner.close();
        outer.close();
        assertThat(MemoryScope.current()).isNull();
    }

    @Test
    void emptyTensorsAreContiguousAndReadable() {
        Tensor none = Tensor.zeros(DType.FLOAT32, 0, 3);
        assertThat(none.numel()).isZero();
        assertThat(none.toFloatArray()).isEmpty();
        assertThat(none.permute(1, 0).toFloatArray()).isEmpty();
    }
}
