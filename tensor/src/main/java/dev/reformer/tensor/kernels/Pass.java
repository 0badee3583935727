package dev.reformer.tensor.kernels;

import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * One kernel call's walk over tensor memory, the only place where the kernels meet the tensors'
 * off-heap buffers. The tensors are seen as {@code (rows, n)} in row-major order ({@code n = 1}
 * for elementwise ops); whole rows are taken in groups of about {@link #GROUP} elements, the
 * groups are shared out over the threads in contiguous runs, and each group's inputs are copied
 * into heap arrays, computed by the family's loop, and its outputs copied back.
 *
 * <p>Why copy: the vector API reads heap arrays the same way on every JDK (its off-heap loads
 * changed from {@code ByteBuffer} to {@code MemorySegment} in JDK 19), and the JIT turns plain
 * loops over arrays, all indexed alike, into SIMD code, which it does not for loops over buffers.
 * A group is a few kilobytes, so the copies run in the L1 cache while each element still comes
 * from memory once.
 *
 * <p>Every operand of a group is laid out like the group's rows: input {@code i} of a group of
 * {@code r} rows is an array whose element {@code k*n + j} belongs to row k, column j (a
 * broadcast operand is expanded into that layout as it is copied), a per-row operand has one
 * element per row, and a shared operand (a layer norm's gamma) is the whole tensor. So a family's
 * loop reads its operands at one index, which is what the JIT needs to vectorise it.
 *
 * <p>Float32 tensors are copied into {@code float[]} arrays, for the vector kernel where the JDK's
 * vector module is loaded ({@link Group#vector}) and for the plain float loop elsewhere; float64
 * tensors into {@code double[]} arrays, for the reference loop. Results do not depend on the
 * thread count: groups are fixed by the shapes, each writes its own memory,
 * and a family that sums across groups adds the groups' partial results in group order.
 *
 * <pre>{@code
 * Pass.over(rows, n).rows(x).rowsOut(y).run(g -> {
 *     if (g.vector) Vector.softmax(g.f(0), g.f(1), g.rows, g.n);       // float32, vector API
 *     else if (g.isFloat) softmax(g.f(0), g.f(1), g.rows, g.n);        // float32, plain loop
 *     else softmax(g.d(0), g.d(1), g.rows, g.n);                       // float64, the reference
 * });
 * }</pre>
 */
final class Pass {
    /**
     * Elements per group: the group's arrays and the memory they are copied from and to all sit in
     * the L1 cache (32 KB a core). Measured against 2048 (AMD EPYC, AVX-512; bench/results/
     * pass-group-2026-12-02.txt): the primitives on 16M floats in 0.65-0.95 of the time, the
     * attention and training steps within their run-to-run spread.
     */
    static final int GROUP = 512;
    /** Elements below which one thread does all the work: handing work over costs several microseconds. */
    private static final int PARALLEL_ELEMENTS = 32768;

    private enum Kind {
        /** The pass's own (rows, n) layout. */
        ROWS,
        /** One element per row. */
        PER_ROW,
        /** The whole tensor, the same for every group. */
        SHARED,
        /** Row r of the pass reads {@code n} elements from {@code offset(r)} with step {@code step} (0: one value repeated). */
        BROADCAST
    }

    private record Operand(Tensor tensor, Kind kind, LongUnaryOperator offset, int step, boolean constant) {
    }

    private final long rows;
    private final int n;
    private final int rowsPerGroup;
    private final List<Operand> inputs = new ArrayList<>();
    private final List<Operand> outputs = new ArrayList<>();
    private DType dtype;

    private Pass(long rows, int n) {
        this.rows = rows;
        this.n = n;
        this.rowsPerGroup = Math.max(1, GROUP / Math.max(n, 1));
    }

    /** A pass over {@code rows} rows of {@code n} elements. */
    static Pass over(long rows, int n) {
        return new Pass(rows, n);
    }

    /** A pass over every element of tensors of {@code numel} elements, as rows of one. */
    static Pass elements(long numel) {
        return new Pass(numel, 1);
    }

    /** An input laid out as the pass's rows. */
    Pass rows(Tensor t) {
        return add(inputs, new Operand(t, Kind.ROWS, null, 1, false));
    }

    /** An input of one element per row. */
    Pass perRow(Tensor t) {
        return add(inputs, new Operand(t, Kind.PER_ROW, null, 1, false));
    }

    /** An input read whole by every group (a row of parameters). */
    Pass shared(Tensor t) {
        return add(inputs, new Operand(t, Kind.SHARED, null, 1, false));
    }

    /**
     * An input broadcast over the pass's rows: row r reads {@code n} elements of {@code t}'s dense
     * memory from {@code offset(r)}, consecutive ({@code step} 1) or one repeated ({@code step} 0).
     * {@code constant} says that the offset is the same for every row, so a group's copy is made
     * once per thread.
     */
    Pass broadcast(Tensor t, LongUnaryOperator offset, int step, boolean constant) {
        return add(inputs, new Operand(t, Kind.BROADCAST, offset, step, constant));
    }

    /** An output laid out as the pass's rows. */
    Pass rowsOut(Tensor t) {
        return add(outputs, new Operand(t, Kind.ROWS, null, 1, false));
    }

    /** An output of one element per row. */
    Pass perRowOut(Tensor t) {
        return add(outputs, new Operand(t, Kind.PER_ROW, null, 1, false));
    }

    private Pass add(List<Operand> list, Operand o) {
        if (dtype == null) {
            dtype = o.tensor.dtype();
        } else if (o.tensor.dtype() != dtype) {
            throw new IllegalArgumentException("kernel pass: operands of " + dtype.label() + " and " + o.tensor.dtype().label());
        }
        list.add(o);
        return this;
    }

    /** How many groups the pass has: fixed by the shapes, so per-group partial results are reproducible. */
    int groups() {
        return (int) ((rows + rowsPerGroup - 1) / rowsPerGroup);
    }

    /** The family's loop over one group. */
    interface Body {
        void run(Group g);
    }

    /**
     * One group's operands: inputs in the order they were declared, then outputs. {@link #f} gives
     * them for float32 tensors, {@link #d} for float64; outputs must be written in full.
     */
    static final class Group {
        /** True for float32 tensors where the vector module is loaded: the vector kernel runs. */
        final boolean vector;
        /** True for float32 tensors ({@link #f}), false for float64 ({@link #d}). */
        final boolean isFloat;
        /** Elements per row. */
        final int n;
        /** This group's index among {@link Pass#groups()}. */
        int index;
        /** The pass's row this group starts at. */
        long firstRow;
        /** Rows in this group. */
        int rows;
        private final float[][] floats;
        private final double[][] doubles;

        private Group(boolean isFloat, boolean vector, int n, int operands) {
            this.isFloat = isFloat;
            this.vector = vector;
            this.n = n;
            this.floats = new float[operands][];
            this.doubles = new double[operands][];
        }

        /** Operand {@code i} of a float32 pass. */
        float[] f(int i) {
            return floats[i];
        }

        /** Operand {@code i} of a float64 pass. */
        double[] d(int i) {
            return doubles[i];
        }

        /** Elements in this group's rows. */
        int elements() {
            return rows * n;
        }

        private final float[][] floatScratch = new float[4][];
        private final double[][] doubleScratch = new double[4][];

        /** Scratch array {@code which} (0 to 3), at least {@code size} floats, this thread's own, contents arbitrary. */
        float[] floatScratch(int which, int size) {
            if (floatScratch[which] == null || floatScratch[which].length < size) {
                floatScratch[which] = new float[size];
            }
            return floatScratch[which];
        }

        /** Scratch array {@code which} (0 to 3), at least {@code size} doubles, this thread's own, contents arbitrary. */
        double[] doubleScratch(int which, int size) {
            if (doubleScratch[which] == null || doubleScratch[which].length < size) {
                doubleScratch[which] = new double[size];
            }
            return doubleScratch[which];
        }
    }

    /** Runs {@code body} over every group, on as many threads as the work warrants. */
    void run(Body body) {
        if (rows == 0) {
            return;
        }
        boolean isFloat = dtype == DType.FLOAT32;
        boolean vector = isFloat && Kernels.vector();
        Memory[] in = new Memory[inputs.size()];
        Memory[] out = new Memory[outputs.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = Memory.of(inputs.get(i).tensor);
        }
        for (int o = 0; o < out.length; o++) {
            out[o] = Memory.writable(outputs.get(o).tensor);
        }
        int groupElements = rowsPerGroup * Math.max(n, 1);
        Parallel.forRange(groups(), Math.max(1, PARALLEL_ELEMENTS / groupElements), (from, to) -> {
            Group g = prepare(isFloat, vector, in);
            for (int index = from; index < to; index++) {
                g.index = index;
                g.firstRow = (long) index * rowsPerGroup;
                g.rows = (int) Math.min(rowsPerGroup, rows - g.firstRow);
                for (int i = 0; i < in.length; i++) {
                    Operand o = inputs.get(i);
                    switch (o.kind) {
                        case ROWS -> read(in[i], g, i, g.firstRow * n, g.elements());
                        case PER_ROW -> read(in[i], g, i, g.firstRow, g.rows);
                        case BROADCAST -> {
                            if (!o.constant) {
                                gather(o, in[i], g, i);
                            }
                        }
                        case SHARED -> {
                        }
                    }
                }
                body.run(g);
                for (int o = 0; o < out.length; o++) {
                    boolean perRow = outputs.get(o).kind == Kind.PER_ROW;
                    write(out[o], g, in.length + o, perRow ? g.firstRow : g.firstRow * n, perRow ? g.rows : g.elements());
                }
            }
        });
    }

    /** One thread's arrays; shared and constant broadcast inputs are read here, once. */
    private Group prepare(boolean isFloat, boolean vector, Memory[] in) {
        int operands = inputs.size() + outputs.size();
        Group g = new Group(isFloat, vector, n, operands);
        long rowsHere = Math.min(rowsPerGroup, rows);
        for (int i = 0; i < operands; i++) {
            Operand o = i < inputs.size() ? inputs.get(i) : outputs.get(i - inputs.size());
            int size = Math.toIntExact(switch (o.kind) {
                case ROWS, BROADCAST -> rowsHere * n;
                case PER_ROW -> rowsHere;
                case SHARED -> o.tensor.numel();
            });
            if (isFloat) {
                g.floats[i] = new float[size];
            } else {
                g.doubles[i] = new double[size];
            }
        }
        g.firstRow = 0;
        g.rows = (int) rowsHere;
        for (int i = 0; i < inputs.size(); i++) {
            Operand o = inputs.get(i);
            if (o.kind == Kind.SHARED) {
                read(in[i], g, i, 0, Math.toIntExact(o.tensor.numel()));
            } else if (o.kind == Kind.BROADCAST && o.constant) {
                gather(o, in[i], g, i);
            }
        }
        return g;
    }

    private static void read(Memory m, Group g, int i, long from, int length) {
        if (g.isFloat) {
            m.get(from, g.floats[i], 0, length);
        } else {
            m.get(from, g.doubles[i], 0, length);
        }
    }

    private static void write(Memory m, Group g, int i, long from, int length) {
        if (g.isFloat) {
            m.put(from, g.floats[i], 0, length);
        } else {
            m.put(from, g.doubles[i], 0, length);
        }
    }

    /** Row by row: n consecutive elements from the row's offset, or one value repeated n times. */
    private void gather(Operand o, Memory m, Group g, int i) {
        for (int r = 0; r < g.rows; r++) {
            long src = o.offset.applyAsLong(g.firstRow + r);
            int at = r * n;
            if (o.step == 1 && g.isFloat) {
                m.get(src, g.floats[i], at, n);
            } else if (o.step == 1) {
                m.get(src, g.doubles[i], at, n);
            } else if (g.isFloat) {
                java.util.Arrays.fill(g.floats[i], at, at + n, (float) m.get(src));
            } else {
                java.util.Arrays.fill(g.doubles[i], at, at + n, m.get(src));
            }
        }
    }
}
