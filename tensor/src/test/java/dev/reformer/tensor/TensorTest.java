package dev.reformer.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TensorTest {
    private static Tensor t(double[] values, long... shape) {
        return Tensor.of(values, shape);
    }

    private static void assertValues(Tensor x, double... expected) {
        assertThat(x.toDoubleArray()).containsExactly(expected, within(1e-12));
    }

    @Test
    void createsAndReadsBackInRowMajorOrder() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertThat(x.shape()).containsExactly(2, 3);
        assertThat(x.dtype()).isEqualTo(DType.FLOAT32);
        assertThat(x.get(1, 0)).isEqualTo(4.0);
        assertThat(x.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(Tensor.scalar(DType.FLOAT64, 2.5).rank()).isZero();
        assertThat(Tensor.scalar(DType.FLOAT64, 2.5).item()).isEqualTo(2.5);
        assertThat(Tensor.arange(DType.INT64, 4).toLongArray()).containsExactly(0, 1, 2, 3);
        assertThat(Tensor.full(DType.INT32, 7, 2).toIntArray()).containsExactly(7, 7);
    }

    @Test
    void unaryOps() {
        Tensor x = t(new double[] {-1, 0.5, 2}, 3);
        assertValues(x.neg(), 1, -0.5, -2);
        assertValues(x.exp(), Math.exp(-1), Math.exp(0.5), Math.exp(2));
        assertValues(x.relu(), 0, 0.5, 2);
        assertValues(x.tanh(), Math.tanh(-1), Math.tanh(0.5), Math.tanh(2));
        Tensor p = t(new double[] {0.25, 4}, 2);
        assertValues(p.sqrt(), 0.5, 2);
        assertValues(p.log(), Math.log(0.25), Math.log(4));
    }

    @Test
    void binaryOpsBroadcastLikeNumpy() {
        Tensor a = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor row = t(new double[] {10, 20, 30}, 3);
        Tensor col = t(new double[] {100, 200}, 2, 1);
        assertValues(a.add(row), 11, 22, 33, 14, 25, 36);
        assertValues(a.sub(col), -99, -98, -97, -196, -195, -194);
        assertValues(a.mul(row), 10, 40, 90, 40, 100, 180);
        assertValues(a.div(col), 0.01, 0.02, 0.03, 0.02, 0.025, 0.03);
        assertValues(col.add(row), 110, 120, 130, 210, 220, 230);
        assertValues(a.maximum(t(new double[] {2, 2, 5}, 3)), 2, 2, 5, 4, 5, 6);
        assertValues(a.mul(2.0), 2, 4, 6, 8, 10, 12);
    }

    @Test
    void comparisonsAndWhere() {
        Tensor a = t(new double[] {1, 5, 3}, 3);
        Tensor b = t(new double[] {2, 2, 3}, 3);
        assertThat(a.gt(b).dtype()).isEqualTo(DType.BOOL);
        assertValues(a.gt(b).cast(DType.FLOAT64), 0, 1, 0);
        assertValues(a.lt(b).cast(DType.FLOAT64), 1, 0, 0);
        assertValues(a.eq(b).cast(DType.FLOAT64), 0, 0, 1);
        Tensor picked = Tensor.where(a.gt(b), a, Tensor.scalar(DType.FLOAT64, -1));
        assertValues(picked, -1, 5, -1);
        // Both operands broadcast: (2,1) against (1,3) gives (2,3).
        Tensor col = Tensor.of(new long[] {0, 1}, 2, 1);
        Tensor row = Tensor.of(new long[] {0, 1, 2}, 1, 3);
        assertThat(col.eq(row).shape()).containsExactly(2, 3);
        assertValues(col.eq(row).cast(DType.FLOAT64), 1, 0, 0, 0, 1, 0);
        assertValues(row.gt(col).cast(DType.FLOAT64), 0, 1, 1, 0, 0, 1);
        assertValues(Tensor.of(new long[] {3}, 1).lt(row.reshape(3)).cast(DType.FLOAT64), 0, 0, 0);
    }

    @Test
    void reductionsOverAxesWithKeepDims() {
        Tensor x = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertValues(x.sum(false, 1), 6, 15);
        assertThat(x.sum(true, 1).shape()).containsExactly(2, 1);
        assertThat(x.sum(false).rank()).isZero();
        assertThat(x.sum(false).item()).isEqualTo(21.0);
        assertValues(x.max(false, 0), 4, 5, 6);
        assertValues(x.mean(true, -1), 2, 5);
        assertThat(x.mean(true, 0, 1).shape()).containsExactly(1, 1);
        assertThat(x.argmax(1, false).toLongArray()).containsExactly(2, 2);
        assertThat(x.argmax(0, true).shape()).containsExactly(1, 3);
    }

    @Test
    void argmaxTakesTheFirstOfTiedMaxima() {
        Tensor x = t(new double[] {3, 7, 7, 1}, 1, 4);
        assertThat(x.argmax(-1, false).toLongArray()).containsExactly(1);
    }

    @Test
    void matmulShapes() {
        Tensor a = t(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = t(new double[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertValues(a.matmul(b), 4, 5, 10, 11);
        Tensor batch = a.reshape(1, 2, 3).expand(2, 2, 3);
        assertThat(batch.matmul(b).shape()).containsExactly(2, 2, 2);
        assertValues(batch.matmul(b), 4, 5, 10, 11, 4, 5, 10, 11);
        Tensor bb = b.reshape(1, 3, 2).expand(2, 3, 2);
        assertValues(batch.matmul(bb), 4, 5, 10, 11, 4, 5, 10, 11);
        assertValues(a.transpose().matmul(a), 17, 22, 27, 22, 29, 36, 27, 36, 45);
    }

    @Test
    void matmulErrorNamesTheShapesAndTheRule() {
        Tensor a = Tensor.zeros(DType.FLOAT32, 2, 3);
        Tensor b = Tensor.zeros(DType.FLOAT32, 4, 5);
        assertThatThrownBy(() -> a.matmul(b))
                .isInstanceOf(IllegalArgumentException.class)
                .isInstanceOf(ShapeException.class)
                .hasMessage("matmul: a(2,3) x b(4,5): a.shape[1]=3 must equal b.shape[0]=4");
    }

    @Test
    void shapeAndDTypeMismatchesAreIllegalArguments() {
        Tensor a = Tensor.zeros(DType.FLOAT32, 2, 3);
        assertThatThrownBy(() -> a.add(Tensor.zeros(DType.FLOAT32, 4, 3)))
                .isInstanceOf(ShapeException.class)
                .hasMessageContaining("add: a(2,3) and b(4,3) do not broadcast");
        assertThatThrownBy(() -> a.add(Tensor.zeros(DType.FLOAT64, 2, 3)))
                .isInstanceOf(DTypeException.class)
                .hasMessage("add: a(2,3) is float32 but b(2,3) is float64; cast one of them");
        assertThatThrownBy(() -> a.reshape(4, 2))
                .isInstanceOf(ShapeException.class)
                .hasMessageContaining("reshape: x(2,3) has 6 elements and cannot take shape (4,2)");
        assertThatThrownBy(() -> a.sum(false, 2))
                .isInstanceOf(ShapeException.class)
                .hasMessageContaining("sum: axis 2 is out of range for a tensor of shape (2,3)");
        assertThatThrownBy(() -> Tensor.arange(DType.INT64, 3).exp())
                .isInstanceOf(DTypeException.class)
                .hasMessageContaining("exp: x(3) is int64");
    }

    @Test
    void layoutOps() {
        Tensor x = Tensor.arange(DType.FLOAT64, 24).reshape(2, 3, 4);
        Tensor p = x.permute(2, 0, 1);
        assertThat(p.shape()).containsExactly(4, 2, 3);
        assertThat(p.get(3, 1, 2)).isEqualTo(x.get(1, 2, 3));
        assertThat(p.reshape(-1).get(1)).isEqualTo(x.get(0, 1, 0));
        Tensor s = x.slice(1, 1, 3);
        assertThat(s.shape()).containsExactly(2, 2, 4);
        assertThat(s.get(1, 0, 2)).isEqualTo(x.get(1, 1, 2));
        assertValues(x.slice(2, 3, 4).reshape(-1), 3, 7, 11, 15, 19, 23);
        Tensor c = Tensor.concat(1, x.slice(1, 0, 1), x.slice(1, 2, 3));
        assertThat(c.shape()).containsExactly(2, 2, 4);
        assertThat(c.get(1, 1, 0)).isEqualTo(x.get(1, 2, 0));
        Tensor e = t(new double[] {1, 2}, 2, 1).expand(3, 2, 2);
        assertValues(e, 1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2);
        Tensor wide = Tensor.arange(DType.FLOAT64, 128).reshape(1, 8, 16);
        Tensor sliceOfSlice = wide.slice(2, 0, 8).slice(1, 4, 8);      // once returned rank 0 through ND4J's get()
        assertThat(sliceOfSlice.shape()).containsExactly(1, 4, 8);
        assertThat(sliceOfSlice.get(0, 0, 0)).isEqualTo(64.0);
        assertThat(sliceOfSlice.get(0, 3, 7)).isEqualTo(119.0);
        Tensor ofPermuted = wide.reshape(8, 16).permute(1, 0).slice(0, 2, 10).slice(1, 3, 6);
        assertThat(ofPermuted.get(1, 2)).isEqualTo(83.0);
        assertThatThrownBy(() -> x.slice(1, 2, 5)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("slice: [2, 5) along axis 1 of x(2,3,4)");
        assertThatThrownBy(() -> x.permute(0, 0, 1)).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> Tensor.concat(0, x, Tensor.zeros(DType.FLOAT64, 2, 2, 4)))
                .isInstanceOf(ShapeException.class).hasMessageContaining("concat: part 1(2,2,4)");
    }

    @Test
    void gatherPicksSlicesPerLeadingPosition() {
        Tensor x = Tensor.arange(DType.FLOAT64, 12).reshape(2, 3, 2); // x[b, n, r] = 6b + 2n + r
        Tensor index = Tensor.of(new long[] {2, 0, 1, 1}, 2, 2);
        Tensor out = x.gather(1, index);
        assertThat(out.shape()).containsExactly(2, 2, 2);
        assertValues(out, 4, 5, 0, 1, 8, 9, 8, 9);
        Tensor shared = x.gather(1, Tensor.of(new long[] {1}, 1));
        assertValues(shared, 2, 3, 8, 9);
        Tensor rows = x.reshape(6, 2).gather(0, Tensor.of(new int[] {5, 0}, 2));
        assertValues(rows, 10, 11, 0, 1);
    }

    @Test
    void gatherWorksOnStridedViews() {
        Tensor x = Tensor.arange(DType.FLOAT64, 12).reshape(3, 4).transpose(); // (4,3), strided
        assertValues(x.gather(0, Tensor.of(new long[] {3, 1}, 2)), 3, 7, 11, 1, 5, 9);
    }

    @Test
    void gatherIndexOutOfRangeNamesTheIndexAndTheBound() {
        Tensor x = Tensor.zeros(DType.FLOAT32, 2, 5);
        assertThatThrownBy(() -> x.gather(1, Tensor.of(new long[] {0, 1, 2, 7}, 2, 2)))
                .isInstanceOf(IndexRangeException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("gather: index 7 at position (1,1) is out of range for axis 1 of x(2,5): expected 0 <= index < 5");
        assertThatThrownBy(() -> x.gather(1, Tensor.of(new long[] {0, 1, 2}, 3, 1)))
                .isInstanceOf(ShapeException.class)
                .hasMessageContaining("expected index shape (2,M) or (M)");
        assertThatThrownBy(() -> x.gather(1, Tensor.of(new double[] {0}, 1)))
                .isInstanceOf(DTypeException.class);
    }

    @Test
    void scatterAddAccumulatesRepeatedIndices() {
        Tensor base = Tensor.zeros(DType.FLOAT64, 1, 3, 2);
        Tensor src = Tensor.of(new double[] {1, 2, 10, 20, 100, 200}, 1, 3, 2);
        Tensor index = Tensor.of(new long[] {2, 0, 2}, 1, 3);
        assertValues(base.scatterAdd(1, index, src), 10, 20, 0, 0, 101, 202);
        Tensor f32 = Tensor.ones(DType.FLOAT32, 3).scatterAdd(0, Tensor.of(new long[] {1, 1}, 2),
                Tensor.of(new float[] {2, 3}, 2));
        assertThat(f32.toFloatArray()).containsExactly(1, 6, 1);
    }

    @Test
    void argsortIsStableAndAlongAnyAxis() {
        Tensor x = t(new double[] {3, 1, 2, 1, 3, 0}, 6);
        assertThat(x.argsort(0).toLongArray()).containsExactly(5, 1, 3, 2, 0, 4);
        Tensor m = t(new double[] {5, 1, 4, 2, 0, 3}, 3, 2); // columns (5,4,0) and (1,2,3)
        assertThat(m.argsort(0).toLongArray()).containsExactly(2, 0, 1, 1, 0, 2);
        assertThat(m.argsort(-1).toLongArray()).containsExactly(1, 0, 1, 0, 0, 1);
    }

    @Test
    void oneHot() {
        Tensor ids = Tensor.of(new long[] {2, 0}, 2);
        Tensor h = ids.oneHot(3, DType.FLOAT32);
        assertThat(h.shape()).containsExactly(2, 3);
        assertThat(h.toFloatArray()).containsExactly(0, 0, 1, 1, 0, 0);
        assertThatThrownBy(() -> Tensor.of(new long[] {3}, 1).oneHot(3, DType.FLOAT32))
                .isInstanceOf(IndexRangeException.class).hasMessageContaining("index 3");
    }

    @Test
    void castRoundTrips() {
        Tensor x = Tensor.of(new double[] {1.5, -2}, 2);
        assertThat(x.cast(DType.FLOAT32).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(x.cast(DType.FLOAT32).cast(DType.FLOAT64).toDoubleArray()).containsExactly(1.5, -2);
        assertThat(x.cast(DType.INT64).toLongArray()).containsExactly(1, -2);
    }
}
