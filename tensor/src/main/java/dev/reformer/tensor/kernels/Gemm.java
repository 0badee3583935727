package dev.reformer.tensor.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small float32 matrix products inside the fused attention kernels and the LSH hash,
 * {@code C (+)= alpha A B} over heap arrays, with A read through row and column strides (so
 * {@code A^T} costs nothing) and B and C row-major:
 * {@code C[i][j] = (accumulate ? C[i][j] : 0) + alpha * sum_p A(i, p) B[p][j]}. Without
 * {@code accumulate} C is first set to 0. Each element's sum runs along p in order with fused
 * multiply-adds, starting from 0, then {@code C += alpha * sum}; both loops below do exactly that,
 * so they give the same bits.
 *
 * <p>Vector kernel: register-blocked. A block of {@link Vector#ROWS} rows of C (six where vectors
 * are 256 bits wide and 16 registers exist, eight with 512 bits and 32 registers) by two vectors
 * of columns: one step of the inner loop broadcasts {@code ROWS} values of A, reads two vectors of
 * one row of B, and updates {@code ROWS x 2} vectors of C held in registers. A is read in place,
 * or from a copy of the block's rows laid out p-major: for a short last block (padded with rows of
 * zeros), and for products of many column panels ({@link Vector#PACK_PANELS}) unless A is
 * transposed (its block's values for one p then lie side by side already). Measured on one core of the project's AVX2 machine at 48x96x64: 29
 * GFLOP/s for four rows unpacked, 34 for six rows packed on JDK 17, 82 on JDK 25, whose compiler
 * allocates the twelve accumulators to registers where JDK 17's spills some.
 *
 * <p>Plain loop: B's rows are first copied into arrays of their own and each row of C is summed in
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

    /** Products up to this many multiply-adds run here rather than in BLAS, whose call costs tens of microseconds. */
    static final long SMALL = 1 << 20;

    /**
     * Whether {@code (m, k) x (k, n)} is small enough for {@link #product}: one generated token's
     * projections (m = 1) spent two thirds of their time in ND4J's call overhead.
     */
    public static boolean small(long m, long k, long n) {
        return m <= 64 && m * k * n <= SMALL;
    }

    /** B's rows read by small products, kept while B lives: a model's weights, read once per generated token. */
    private static final java.util.Map<dev.reformer.tensor.Tensor, float[]> WEIGHTS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /**
     * {@code out = a b} for float32 {@code a} (m, k), {@code b} (k, n), {@code out} (m, n), all
     * small ({@link #small}), on one thread. B's elements are copied to the heap once per tensor
     * (tensors do not change once an op has read them) and kept while the tensor lives.
     */
    public static void product(dev.reformer.tensor.Tensor a, dev.reformer.tensor.Tensor b, dev.reformer.tensor.Tensor out) {
        int m = Math.toIntExact(a.size(0));
        int k = Math.toIntExact(a.size(1));
        int n = Math.toIntExact(b.size(1));
        float[] x = new float[m * k];
        a.floats().get(0, x);
        float[] w = WEIGHTS.get(b);
        if (w == null) {
            w = new float[k * n];
            b.floats().get(0, w);
            WEIGHTS.put(b, w);
        }
        float[] c = new float[m * n];
        gemm(m, n, k, 1f, x, 0, k, 1, w, 0, n, c, 0, n, false);
        out.writableFloats().put(0, c);
    }

    /**
     * {@code C[i][j] = (accumulate ? C[i][j] : 0) + alpha * sum_p A(i, p) B[p][j]} for i < m, j < n, p < k,
     * with {@code A(i, p) = a[aOff + i*aRow + p*aCol]}, {@code B[p][j] = b[bOff + p*bRow + j]},
     * {@code C[i][j] = c[cOff + i*cRow + j]}.
     */
    public static void gemm(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
            int bRow, float[] c, int cOff, int cRow, boolean accumulate) {
        gemm(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, c, cOff, cRow, accumulate, SCRATCH.get());
    }

    /**
     * {@link #gemm(int, int, int, float, float[], int, int, int, float[], int, int, float[], int, int, boolean)}
     * with the caller's own working arrays, for code that runs many small products on one thread:
     * looking up this thread's arrays cost 9% of the chunked attention kernel's products.
     */
    public static void gemm(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
            int bRow, float[] c, int cOff, int cRow, boolean accumulate, Workspace scratch) {
        if (!accumulate) {
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, cOff + i * cRow, cOff + i * cRow + n, 0f);
            }
        }
        if (Kernels.vector()) {
            Vector.gemm(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, c, cOff, cRow, scratch);
        } else {
            plain(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, c, cOff, cRow, scratch);
        }
    }

    /** One thread's working arrays for the products: packed A, copies of B's rows, one row of sums and one of C. */
    public static final class Workspace {
        float[] packedA = new float[0];
        float[][] rows = new float[0][];
        float[] acc = new float[0];
        float[] row = new float[0];

        float[] packedA(int size) {
            if (packedA.length < size) {
                packedA = new float[size];
            }
            return packedA;
        }

        float[][] rows(int k, int n) {
            if (rows.length < k || (k > 0 && rows[0].length < n)) {
                rows = new float[Math.max(k, rows.length)][Math.max(n, rows.length == 0 ? 0 : rows[0].length)];
            }
            return rows;
        }

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

    private static final ThreadLocal<Workspace> SCRATCH = ThreadLocal.withInitial(Workspace::new);

    // ------------------------------------------------------------------ plain loop

    static void plain(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
            int bRow, float[] c, int cOff, int cRow, Workspace scratch) {
        float[][] bp = scratch.rows(k, n);
        for (int p = 0; p < k; p++) {
            System.arraycopy(b, bOff + p * bRow, bp[p], 0, n);
        }
        float[] acc = scratch.acc(n);
        float[] row = scratch.row(n);
        for (int i = 0; i < m; i++) {
            Arrays.fill(acc, 0, n, 0f);
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
            // C's row += alpha acc, through a copy so that every array is read at index j
            int ci = cOff + i * cRow;
            System.arraycopy(c, ci, row, 0, n);
            for (int j = 0; j < n; j++) {
                row[j] = acc[j] * alpha + row[j];
            }
            System.arraycopy(row, 0, c, ci, n);
        }
    }

    // ------------------------------------------------------------------ vector kernel

    /** The vector kernel, in a class of its own so that nothing touches the vector module where it is absent. */
    static final class Vector {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        /** Columns of C one register block covers: two vectors. */
        static final int PANEL = 2 * F.length();
        /**
         * Column panels from which a block copies A p-major first; narrower products read A in
         * place. Measured on the AMD EPYC (AVX-512, JDK 17, one thread; bench/results/
         * kernels-2026-12-02-pm.txt): the attention kernels' products (32x64x32, 32x32x64, 64x32x32
         * with A transposed) ran at 111-137 GFLOP/s in place against 34-50 with the copy (with
         * -XX:UseAVX=2: 49-72 against 33-46, the transposed one 29-40 against 29), and products of
         * 8 and more panels within the run-to-run spread either way.
         */
        static final int PACK_PANELS = 8;
        /** Rows of C per register block: 6 with 256-bit vectors (16 registers), 8 with 512 bits (32 registers). */
        static final int ROWS = F.length() >= 16 ? 8 : 6;

        private Vector() {
        }

        static void gemm(int m, int n, int k, float alpha, float[] a, int aOff, int aRow, int aCol, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow, Workspace scratch) {
            int vl = F.length();
            int fullColumns = n - n % (2 * vl);
            float[] packed = scratch.packedA(ROWS * k);
            float[] tile = scratch.row(ROWS * PANEL);
            float[] tail = scratch.acc(vl);
            for (int i = 0; i < m; i += ROWS) {
                int rows = Math.min(ROWS, m - i);
                if (rows <= ROWS / 2) {
                    // a few rows (a generated token's one): a row at a time, not a mostly empty block
                    for (int r = 0; r < rows; r++) {
                        int j = 0;
                        for (; j + 4 * vl <= n; j += 4 * vl) {
                            row4(k, alpha, a, aOff + (i + r) * aRow, aCol, b, bOff + j, bRow, c, cOff + (i + r) * cRow + j);
                        }
                        for (; j < n; j += vl) {
                            row1(k, alpha, a, aOff + (i + r) * aRow, aCol, b, bOff + j, bRow, c, cOff + (i + r) * cRow + j,
                                    Math.min(vl, n - j), tail);
                        }
                    }
                    continue;
                }
                // The block reads A(i + r, p) at aBlock[base + r * rowStep + p * pStep]: in place, or
                // from a p-major copy where a wide product repays it (PACK_PANELS) or a short block
                // needs rows of zeros.
                float[] aBlock = a;
                int base = aOff + i * aRow;
                int rowStep = aRow;
                int pStep = aCol;
                if (rows < ROWS || (aRow != 1 && fullColumns >= PACK_PANELS * PANEL)) {
                    for (int p = 0; p < k; p++) {
                        for (int r = 0; r < ROWS; r++) {
                            packed[p * ROWS + r] = r < rows ? a[aOff + (i + r) * aRow + p * aCol] : 0f;
                        }
                    }
                    aBlock = packed;
                    base = 0;
                    rowStep = 1;
                    pStep = ROWS;
                }
                for (int j = 0; j < fullColumns; j += 2 * vl) {
                    if (rows == ROWS) {
                        block(k, alpha, aBlock, base, rowStep, pStep, b, bOff + j, bRow, c, cOff + i * cRow + j, cRow);
                    } else {
                        // the last, short panel: its rows of C through a full-height tile
                        Arrays.fill(tile, 0, ROWS * PANEL, 0f);
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(c, cOff + (i + r) * cRow + j, tile, r * PANEL, PANEL);
                        }
                        block(k, alpha, aBlock, base, rowStep, pStep, b, bOff + j, bRow, tile, 0, PANEL);
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(tile, r * PANEL, c, cOff + (i + r) * cRow + j, PANEL);
                        }
                    }
                }
                for (int j = fullColumns; j < n; j += vl) {
                    int cols = Math.min(vl, n - j);
                    for (int r = 0; r < rows; r++) {
                        row1(k, alpha, a, aOff + (i + r) * aRow, aCol, b, bOff + j, bRow, c, cOff + (i + r) * cRow + j, cols, tail);
                    }
                }
            }
        }

        /** One register block; A(r, p) is {@code a[base + r * rowStep + p * pStep]}. */
        private static void block(int k, float alpha, float[] a, int base, int rowStep, int pStep, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow) {
            if (ROWS == 8) {
                block8x2(k, alpha, a, base, rowStep, pStep, b, bOff, bRow, c, cOff, cRow);
            } else {
                block6x2(k, alpha, a, base, rowStep, pStep, b, bOff, bRow, c, cOff, cRow);
            }
        }

        /** Six rows of C by two vectors of columns: 12 accumulators, 2 loads of B and 6 broadcasts of A per step. */
        private static void block6x2(int k, float alpha, float[] a, int base, int rowStep, int pStep, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow) {
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
            for (int p = 0; p < k; p++) {
                FloatVector b0 = FloatVector.fromArray(F, b, bOff + p * bRow);
                FloatVector b1 = FloatVector.fromArray(F, b, bOff + p * bRow + vl);
                int ap = base + p * pStep;
                FloatVector a0 = FloatVector.broadcast(F, a[ap]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                FloatVector a1 = FloatVector.broadcast(F, a[ap + rowStep]);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * rowStep]);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * rowStep]);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
                FloatVector a4 = FloatVector.broadcast(F, a[ap + 4 * rowStep]);
                c40 = a4.fma(b0, c40);
                c41 = a4.fma(b1, c41);
                FloatVector a5 = FloatVector.broadcast(F, a[ap + 5 * rowStep]);
                c50 = a5.fma(b0, c50);
                c51 = a5.fma(b1, c51);
            }
            // C += alpha * sum, as the plain loop does
            FloatVector.fromArray(F, c, cOff).add(c00.mul(alpha)).intoArray(c, cOff);
            FloatVector.fromArray(F, c, cOff + vl).add(c01.mul(alpha)).intoArray(c, cOff + vl);
            FloatVector.fromArray(F, c, cOff + cRow).add(c10.mul(alpha)).intoArray(c, cOff + cRow);
            FloatVector.fromArray(F, c, cOff + cRow + vl).add(c11.mul(alpha)).intoArray(c, cOff + cRow + vl);
            FloatVector.fromArray(F, c, cOff + 2 * cRow).add(c20.mul(alpha)).intoArray(c, cOff + 2 * cRow);
            FloatVector.fromArray(F, c, cOff + 2 * cRow + vl).add(c21.mul(alpha)).intoArray(c, cOff + 2 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 3 * cRow).add(c30.mul(alpha)).intoArray(c, cOff + 3 * cRow);
            FloatVector.fromArray(F, c, cOff + 3 * cRow + vl).add(c31.mul(alpha)).intoArray(c, cOff + 3 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 4 * cRow).add(c40.mul(alpha)).intoArray(c, cOff + 4 * cRow);
            FloatVector.fromArray(F, c, cOff + 4 * cRow + vl).add(c41.mul(alpha)).intoArray(c, cOff + 4 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 5 * cRow).add(c50.mul(alpha)).intoArray(c, cOff + 5 * cRow);
            FloatVector.fromArray(F, c, cOff + 5 * cRow + vl).add(c51.mul(alpha)).intoArray(c, cOff + 5 * cRow + vl);
        }

        /** Eight rows of C by two vectors of columns: 16 accumulators, for 512-bit vectors and 32 registers. */
        private static void block8x2(int k, float alpha, float[] a, int base, int rowStep, int pStep, float[] b, int bOff,
                int bRow, float[] c, int cOff, int cRow) {
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
                int ap = base + p * pStep;
                FloatVector a0 = FloatVector.broadcast(F, a[ap]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                FloatVector a1 = FloatVector.broadcast(F, a[ap + rowStep]);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                FloatVector a2 = FloatVector.broadcast(F, a[ap + 2 * rowStep]);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                FloatVector a3 = FloatVector.broadcast(F, a[ap + 3 * rowStep]);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
                FloatVector a4 = FloatVector.broadcast(F, a[ap + 4 * rowStep]);
                c40 = a4.fma(b0, c40);
                c41 = a4.fma(b1, c41);
                FloatVector a5 = FloatVector.broadcast(F, a[ap + 5 * rowStep]);
                c50 = a5.fma(b0, c50);
                c51 = a5.fma(b1, c51);
                FloatVector a6 = FloatVector.broadcast(F, a[ap + 6 * rowStep]);
                c60 = a6.fma(b0, c60);
                c61 = a6.fma(b1, c61);
                FloatVector a7 = FloatVector.broadcast(F, a[ap + 7 * rowStep]);
                c70 = a7.fma(b0, c70);
                c71 = a7.fma(b1, c71);
            }
            FloatVector.fromArray(F, c, cOff).add(c00.mul(alpha)).intoArray(c, cOff);
            FloatVector.fromArray(F, c, cOff + vl).add(c01.mul(alpha)).intoArray(c, cOff + vl);
            FloatVector.fromArray(F, c, cOff + cRow).add(c10.mul(alpha)).intoArray(c, cOff + cRow);
            FloatVector.fromArray(F, c, cOff + cRow + vl).add(c11.mul(alpha)).intoArray(c, cOff + cRow + vl);
            FloatVector.fromArray(F, c, cOff + 2 * cRow).add(c20.mul(alpha)).intoArray(c, cOff + 2 * cRow);
            FloatVector.fromArray(F, c, cOff + 2 * cRow + vl).add(c21.mul(alpha)).intoArray(c, cOff + 2 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 3 * cRow).add(c30.mul(alpha)).intoArray(c, cOff + 3 * cRow);
            FloatVector.fromArray(F, c, cOff + 3 * cRow + vl).add(c31.mul(alpha)).intoArray(c, cOff + 3 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 4 * cRow).add(c40.mul(alpha)).intoArray(c, cOff + 4 * cRow);
            FloatVector.fromArray(F, c, cOff + 4 * cRow + vl).add(c41.mul(alpha)).intoArray(c, cOff + 4 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 5 * cRow).add(c50.mul(alpha)).intoArray(c, cOff + 5 * cRow);
            FloatVector.fromArray(F, c, cOff + 5 * cRow + vl).add(c51.mul(alpha)).intoArray(c, cOff + 5 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 6 * cRow).add(c60.mul(alpha)).intoArray(c, cOff + 6 * cRow);
            FloatVector.fromArray(F, c, cOff + 6 * cRow + vl).add(c61.mul(alpha)).intoArray(c, cOff + 6 * cRow + vl);
            FloatVector.fromArray(F, c, cOff + 7 * cRow).add(c70.mul(alpha)).intoArray(c, cOff + 7 * cRow);
            FloatVector.fromArray(F, c, cOff + 7 * cRow + vl).add(c71.mul(alpha)).intoArray(c, cOff + 7 * cRow + vl);
        }

        /** One row of C by four vectors of columns: four sums in flight, A read in place. */
        private static void row4(int k, float alpha, float[] a, int aOff, int aCol, float[] b, int bOff, int bRow, float[] c,
                int cOff) {
            int vl = F.length();
            FloatVector c0 = FloatVector.zero(F);
            FloatVector c1 = c0;
            FloatVector c2 = c0;
            FloatVector c3 = c0;
            for (int p = 0; p < k; p++) {
                FloatVector ap = FloatVector.broadcast(F, a[aOff + p * aCol]);
                int bp = bOff + p * bRow;
                c0 = ap.fma(FloatVector.fromArray(F, b, bp), c0);
                c1 = ap.fma(FloatVector.fromArray(F, b, bp + vl), c1);
                c2 = ap.fma(FloatVector.fromArray(F, b, bp + 2 * vl), c2);
                c3 = ap.fma(FloatVector.fromArray(F, b, bp + 3 * vl), c3);
            }
            FloatVector.fromArray(F, c, cOff).add(c0.mul(alpha)).intoArray(c, cOff);
            FloatVector.fromArray(F, c, cOff + vl).add(c1.mul(alpha)).intoArray(c, cOff + vl);
            FloatVector.fromArray(F, c, cOff + 2 * vl).add(c2.mul(alpha)).intoArray(c, cOff + 2 * vl);
            FloatVector.fromArray(F, c, cOff + 3 * vl).add(c3.mul(alpha)).intoArray(c, cOff + 3 * vl);
        }

        /**
         * One row of C by {@code cols} columns, at most one vector, A read in place ({@code acc}: scratch of a vector's length). A whole vector
         * runs in vector registers; a shorter tail runs as scalar multiply-adds, each column's sum
         * along p as in the vector lanes: JDK 17 compiles masked loads and stores to a scalar
         * fallback that cost 4% of a training step.
         */
        private static void row1(int k, float alpha, float[] a, int aOff, int aCol, float[] b, int bOff, int bRow, float[] c,
                int cOff, int cols, float[] acc) {
            if (cols == F.length()) {
                FloatVector sum = FloatVector.zero(F);
                for (int p = 0; p < k; p++) {
                    sum = FloatVector.broadcast(F, a[aOff + p * aCol]).fma(FloatVector.fromArray(F, b, bOff + p * bRow), sum);
                }
                FloatVector.fromArray(F, c, cOff).add(sum.mul(alpha)).intoArray(c, cOff);
                return;
            }
            Arrays.fill(acc, 0, cols, 0f);
            for (int p = 0; p < k; p++) {
                float ap = a[aOff + p * aCol];
                int bp = bOff + p * bRow;
                for (int j = 0; j < cols; j++) {
                    acc[j] = Math.fma(ap, b[bp + j], acc[j]);
                }
            }
            for (int j = 0; j < cols; j++) {
                c[cOff + j] += acc[j] * alpha;
            }
        }
    }
}
