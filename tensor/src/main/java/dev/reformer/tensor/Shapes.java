package dev.reformer.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by the ops: broadcasting, axis normalisation, printing. */
public final class Shapes {
    private Shapes() {
    }

    /** {@code (2,3,4)}; a scalar prints as {@code ()}. */
    public static String str(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ",").append(shape[i]);
        }
        return sb.append(')').toString();
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /**
     * NumPy broadcasting: align shapes on the right; each pair of sizes must be equal or one of
     * them 1; the result takes the larger.
     */
    public static long[] broadcast(String op, long[] a, long[] b) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long sa = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            long sb = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (sa != sb && sa != 1 && sb != 1) {
                throw new ShapeException(op + ": a" + str(a) + " and b" + str(b)
                        + " do not broadcast: at aligned axis " + i + " sizes " + sa + " and " + sb
                        + " must be equal or 1");
            }
            out[i] = Math.max(sa, sb);
        }
        return out;
    }

    /** {@code shape} padded on the left with ones to {@code rank} axes. */
    public static long[] padLeft(long[] shape, int rank) {
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
        return out;
    }

    /** Normalises a possibly negative axis ({@code -1} is the last) and checks its range. */
    public static int axis(String op, int axis, long[] shape) {
        int rank = shape.length;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new ShapeException(op + ": axis " + axis + " is out of range for a tensor of shape "
                    + str(shape) + " (rank " + rank + "): expected " + (-rank) + " <= axis < " + rank);
        }
        return a;
    }

    /** Normalised, sorted, duplicate-free axes; an empty list means every axis. */
    public static int[] axes(String op, int[] axes, long[] shape) {
        if (axes.length == 0) {
            int[] all = new int[shape.length];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = axis(op, axes[i], shape);
        }
        Arrays.sort(out);
        for (int i = 1; i < out.length; i++) {
            if (out[i] == out[i - 1]) {
                throw new ShapeException(op + ": axis " + out[i] + " is listed twice in "
                        + Arrays.toString(axes) + " for shape " + str(shape));
            }
        }
        return out;
    }

    /** The shape a reduction over {@code axes} leaves, with the reduced axes kept as size 1 or dropped. */
    public static long[] reduced(long[] shape, int[] axes, boolean keepDims) {
        boolean[] isReduced = new boolean[shape.length];
        for (int a : axes) {
            isReduced[a] = true;
        }
        long[] out = new long[keepDims ? shape.length : shape.length - axes.length];
        int j = 0;
        for (int i = 0; i < shape.length; i++) {
            if (!isReduced[i]) {
                out[j++] = shape[i];
            } else if (keepDims) {
                out[j++] = 1;
            }
        }
        return out;
    }

    /** Row-major strides in elements. */
    public static long[] strides(long[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= shape[i];
        }
        return st;
    }

    /** Product of sizes over axes [from, to). */
    public static long product(long[] shape, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            n *= shape[i];
        }
        return n;
    }
}
