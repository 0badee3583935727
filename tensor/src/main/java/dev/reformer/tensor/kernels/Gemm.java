package dev.reformer.tensor.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small float32 matrix products inside the fused attention kernels and the LSH hash,
 * {@code C (+)= alpha A B} over heap arrays, with A read through row and column strides (so
 * {@code A^T} costs nothing) and B and C row-major:
 * {@code C[i][j] = (accumulate ? C[i][j] : 0) + alpha * sum_p A(i, p) B[p][j]}. Each element's sum
 * runs along p in order with fused multiply-adds, starting from 0, and is then scaled by alpha
 * and added to C; both loops below do exactly that, so they give the same bits.
 *
 * <p>Vector kernel: register-blocked. Eight rows of C (four where vectors are 256 bits wide and
 * only 16 registers exist) times two vectors of columns stay in registers while p runs, each step
 * one broadcast of A per row and two vector loads of B.
 *
 * <p>Scalar loop: B's rows are first copied into arrays of their own and each row of C is summed in
 * an array of its own, so the innermost loop, {@code acc[j] = fma(a_p, b_p[j], acc[j])} over j,
 * reads every array at the same index, the form the JIT compiles to SIMD code; four p at a time
 * keep the row of C in registers for four multiply-adds.
 *
 * <p>For the vector kernel, B's rows should not lie a large power of two apart: 64 rows 8 KB apart
 * all fall in one set of the L1 cache, and a product over them ran at 2 GFLOP/s instead of 100.
 * Callers with wide B pack it into panels of {@link #panel()} columns first ({@code LshAttention}'s
 * hash does). The plain loop copies B's rows anyway and wants long rows: the JIT sizes its SIMD
 * loop by the row lengths it has seen, and short ones (16) slowed later long ones by a third.
 */
public final class Gemm {
    /** The widest panel of B's columns a caller should hand over at once: two vectors for the vector kernel, else 128. */
    public static int panel() {
        return Kernels.vector() ? Vector.PANEL : 128;
    }

    private Gemm() {
    }

    /**
     * {@code C[i][j] = (accumulate ? C[i][j] : 0) + alpha * sum_p A(i, p) B[p][j]} for i < m, j < n, p < k,
     * with {@code A(i, p) = a[aOff + i*aRow + p*aCol]}, {@code B[p][j] = b[bOff + p*bRow + j]},
     * {@code C[i][j] = c[cOff + i*cRow + j]}.
     */
    public static void gemm(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
            int bRow, float[] c, int cOff, int cRow, boolean accumulate) {
        if (Kernels.vector()) {
            Vector.gemm(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, c, cOff, cRow, accumulate);
        } else {
            scalar(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, c, cOff, cRow, accumulate);
        }
    }

    /** This thread's copies of B's rows, one row of sums and one of C. */
    private static final class Packed {
        float[][] rows = new float[0][];
        float[] acc = new float[0];

        float[][] rows(int k, int n) {
            if (rows.length < k || (k > 0 && rows[0].length < n)) {
                rows = new float[Math.max(k, rows.length)][Math.max(n, rows.length == 0 ? 0 : rows[0].length)];
            }
            return rows;
        }

        float[] row = new float[0];

        float[] acc(int n) {
            if (acc.length < n) {
                acc = new float[n];
            }
            return acc;
        }

        float[] row(int n) {
            if (row.length < n) {
                row = new float[n];
            }
            return row;
        }
    }

    private static final ThreadLocal<Packed> PACKED = ThreadLocal.withInitial(Packed::new);

    static void scalar(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
            int bRow, float[] c, int cOff, int cRow, boolean accumulate) {
        Packed packed = PACKED.get();
        float[][] bp = packed.rows(k, n);
        for (int p = 0; p < k; p++) {
            System.arraycopy(b, bOff + p * bRow, bp[p], 0, n);
        }
        float[] acc = packed.acc(n);
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(acc, 0, n, 0f);
            int ai = aOff + i * aRow;
            int p = 0;
            for (; p + 4 <= k; p += 4) {
                float a0 = a[ai + p * aCol];
                float a1 = a[ai + (p + 1) * aCol];
                float a2 = a[ai + (p + 2) * aCol];
                float a3 = a[ai + (p + 3) * aCol];
                float[] b0 = bp[p];
                float[] b1 = bp[p + 1];
                float[] b2 = bp[p + 2];
                float[] b3 = bp[p + 3];
                for (int j = 0; j < n; j++) {
                    acc[j] = Math.fma(a3, b3[j], Math.fma(a2, b2[j], Math.fma(a1, b1[j], Math.fma(a0, b0[j], acc[j]))));
                }
            }
            for (; p < k; p++) {
                float ap = a[ai + p * aCol];
                float[] bRowP = bp[p];
                for (int j = 0; j < n; j++) {
                    acc[j] = Math.fma(ap, bRowP[j], acc[j]);
                }
            }
            // C's row = alpha acc (+ C's row), through acc so that every array is read at index j
            int ci = cOff + i * cRow;
            for (int j = 0; j < n; j++) {
                acc[j] *= alpha;
            }
            if (accumulate) {
                float[] row = packed.row(n);
                System.arraycopy(c, ci, row, 0, n);
                for (int j = 0; j < n; j++) {
                    acc[j] += row[j];
                }
            }
            System.arraycopy(acc, 0, c, ci, n);
        }
    }

    /** The vector kernel, in a class of its own so that nothing touches the vector module where it is absent. */
    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        /** Columns of C one register block covers: two vectors. */
        static final int PANEL = 2 * F.length();

        private Vector() {
        }
        /** Rows of C per register block: 8 with 512-bit vectors (32 registers), else 4. */
        private static final int ROWS = F.length() >= 16 ? 8 : 4;

        static void gemm(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow, boolean accumulate) {
            int vl = F.length();
            int fullColumns = n - n % (2 * vl);
            int i = 0;
            for (; ROWS == 8 && i + 8 <= m; i += 8) {
                for (int j = 0; j < fullColumns; j += 2 * vl) {
                    block8x2(k, alpha, a, aOff + i * aRow, aRow, aCol, b, bOff + j, bRow, c, cOff + i * cRow + j, cRow, accumulate);
                }
                for (int j = fullColumns; j < n; j += vl) {
                    VectorMask<Float> mask = F.indexInRange(j, n);
                    for (int r = 0; r < 8; r++) {
                        row1(k, alpha, a, aOff + (i + r) * aRow, aCol, b, bOff + j, bRow, c, cOff + (i + r) * cRow + j, accumulate, mask);
                    }
                }
            }
            for (; i + 4 <= m; i += 4) {
                for (int j = 0; j < fullColumns; j += 2 * vl) {
                    block4x2(k, alpha, a, aOff + i * aRow, aRow, aCol, b, bOff + j, bRow, c, cOff + i * cRow + j, cRow, accumulate);
                }
                for (int j = fullColumns; j < n; j += vl) {
                    VectorMask<Float> mask = F.indexInRange(j, n);
                    for (int r = 0; r < 4; r++) {
                        row1(k, alpha, a, aOff + (i + r) * aRow, aCol, b, bOff + j, bRow, c, cOff + (i + r) * cRow + j, accumulate, mask);
                    }
                }
            }
            for (; i < m; i++) {
                for (int j = 0; j < n; j += vl) {
                    row1(k, alpha, a, aOff + i * aRow, aCol, b, bOff + j, bRow, c, cOff + i * cRow + j, accumulate,
                            F.indexInRange(j, n));
                }
            }
        }

        /** Eight rows of C by two vectors of columns: 16 accumulators, 2 loads of B and a broadcast per step. */
        private static void block8x2(int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow, boolean accumulate) {
            int vl = F.length();
            FloatVector c00 = FloatVector.zero(F);
            FloatVector c01 = c00;
            FloatVector c10 = c00;
            FloatVector c11 = c00;
            FloatVector c20 = c00;
            FloatVector c21 = c00;
            FloatVector c30 = c00;
            FloatVector c31 = c00;
            FloatVector c40 = c00;
            FloatVector c41 = c00;
            FloatVector c50 = c00;
            FloatVector c51 = c00;
            FloatVector c60 = c00;
            FloatVector c61 = c00;
            FloatVector c70 = c00;
            FloatVector c71 = c00;
            for (int p = 0; p < k; p++) {
                FloatVector b0 = FloatVector.fromArray(F, b, bOff + p * bRow);
                FloatVector b1 = FloatVector.fromArray(F, b, bOff + p * bRow + vl);
                int ap = aOff + p * aCol;
                FloatVector a0 = FloatVector.broadcast(F, a[ap]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
                FloatVector a4 = FloatVector.broadcast(F, a[ap + 4 * aRow]);
                c40 = a4.fma(b0, c40);
                c41 = a4.fma(b1, c41);
                FloatVector a5 = FloatVector.broadcast(F, a[ap + 5 * aRow]);
                c50 = a5.fma(b0, c50);
                c51 = a5.fma(b1, c51);
                FloatVector a6 = FloatVector.broadcast(F, a[ap + 6 * aRow]);
                c60 = a6.fma(b0, c60);
                c61 = a6.fma(b1, c61);
                FloatVector a7 = FloatVector.broadcast(F, a[ap + 7 * aRow]);
                c70 = a7.fma(b0, c70);
                c71 = a7.fma(b1, c71);
            }
            store(c00, alpha, c, cOff, accumulate);
            store(c01, alpha, c, cOff + vl, accumulate);
            store(c10, alpha, c, cOff + cRow, accumulate);
            store(c11, alpha, c, cOff + cRow + vl, accumulate);
            store(c20, alpha, c, cOff + 2 * cRow, accumulate);
            store(c21, alpha, c, cOff + 2 * cRow + vl, accumulate);
            store(c30, alpha, c, cOff + 3 * cRow, accumulate);
            store(c31, alpha, c, cOff + 3 * cRow + vl, accumulate);
            store(c40, alpha, c, cOff + 4 * cRow, accumulate);
            store(c41, alpha, c, cOff + 4 * cRow + vl, accumulate);
            store(c50, alpha, c, cOff + 5 * cRow, accumulate);
            store(c51, alpha, c, cOff + 5 * cRow + vl, accumulate);
            store(c60, alpha, c, cOff + 6 * cRow, accumulate);
            store(c61, alpha, c, cOff + 6 * cRow + vl, accumulate);
            store(c70, alpha, c, cOff + 7 * cRow, accumulate);
            store(c71, alpha, c, cOff + 7 * cRow + vl, accumulate);
        }

        /** Four rows of C by two vectors of columns. */
        private static void block4x2(int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow, boolean accumulate) {
            int vl = F.length();
            FloatVector c00 = FloatVector.zero(F);
            FloatVector c01 = c00;
            FloatVector c10 = c00;
            FloatVector c11 = c00;
            FloatVector c20 = c00;
            FloatVector c21 = c00;
            FloatVector c30 = c00;
            FloatVector c31 = c00;
            for (int p = 0; p < k; p++) {
                FloatVector b0 = FloatVector.fromArray(F, b, bOff + p * bRow);
                FloatVector b1 = FloatVector.fromArray(F, b, bOff + p * bRow + vl);
                int ap = aOff + p * aCol;
                FloatVector a0 = FloatVector.broadcast(F, a[ap]);
                FloatVector a1 = FloatVector.broadcast(F, a[ap + aRow]);
                FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * aRow]);
                FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * aRow]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
            }
            store(c00, alpha, c, cOff, accumulate);
            store(c01, alpha, c, cOff + vl, accumulate);
            store(c10, alpha, c, cOff + cRow, accumulate);
            store(c11, alpha, c, cOff + cRow + vl, accumulate);
            store(c20, alpha, c, cOff + 2 * cRow, accumulate);
            store(c21, alpha, c, cOff + 2 * cRow + vl, accumulate);
            store(c30, alpha, c, cOff + 3 * cRow, accumulate);
            store(c31, alpha, c, cOff + 3 * cRow + vl, accumulate);
        }

        private static void store(FloatVector sum, float alpha, float[] c, int at, boolean accumulate) {
            FloatVector v = sum.mul(alpha);
            if (accumulate) {
                v = v.add(FloatVector.fromArray(F, c, at));
            }
            v.intoArray(c, at);
        }

        /** One row of C by one (masked) vector of columns. */
        private static void row1(int k, float alpha, float[] a, int aOff, int aCol, float[] b, int bOff, int bRow, float[] c,
                int cOff, boolean accumulate, VectorMask<Float> mask) {
            FloatVector acc = FloatVector.zero(F);
            for (int p = 0; p < k; p++) {
                acc = FloatVector.broadcast(F, a[aOff + p * aCol]).fma(FloatVector.fromArray(F, b, bOff + p * bRow, mask), acc);
            }
            acc = acc.mul(alpha);
            if (accumulate) {
                acc = acc.add(FloatVector.fromArray(F, c, cOff, mask));
            }
            acc.intoArray(c, cOff, mask);
        }
    }
}
