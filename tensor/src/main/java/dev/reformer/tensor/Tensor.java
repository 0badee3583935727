package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An n-dimensional array: a shape, a {@link DType} and an ND4J buffer, indexed in row-major order.
 *
 * <p>This class holds the engine's primitive ops, each a thin call into ND4J or, where ND4J has no
 * fitting op, a plain Java loop ({@link IndexLoops}). Every op returns a new tensor and leaves its
 * operands unchanged; {@code permute} and {@code slice} may return views that share the operand's
 * memory, which is safe because no op here writes into an existing tensor.
 *
 * <p>The primitives, grouped:
 * <ul>
 *   <li>unary: {@code neg exp log sqrt tanh relu}</li>
 *   <li>binary with NumPy broadcasting: {@code add sub mul div maximum}</li>
 *   <li>comparison and selection: {@code gt lt eq where}</li>
 *   <li>reductions over axes with keepdims: {@code sum max mean argmax}</li>
 *   <li>{@code matmul} (2-d, batched, and batched-by-2-d)</li>
 *   <li>layout: {@code reshape permute slice concat expand}</li>
 *   <li>indexing: {@code gather scatterAdd argsort oneHot}</li>
 *   <li>{@code cast}; random tensors come from an explicit {@link Generator}</li>
 * </ul>
 *
 * <pre>{@code
 * Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
 * Tensor w = Tensor.ones(DType.FLOAT32, 3, 4);
 * Tensor y = x.matmul(w).add(Tensor.scalar(DType.FLOAT32, 1));  // (2,4)
 * }</pre>
 */
public final class Tensor {
    private final INDArray array;
    private final DType dtype;

    private Tensor(INDArray array) {
        this.array = array;
        this.dtype = DType.of(array.dataType());
        OffHeapPacer.allocated(array.length() * dtype.bytes());
    }

    /** Wraps an ND4J array without copying. */
    public static Tensor wrap(INDArray array) {
        return new Tensor(array);
    }

    /** The ND4J array behind this tensor, for benchmarks and kernels; treat it as read-only. */
    public INDArray nd4j() {
        return array;
    }

    // ------------------------------------------------------------------ creation

    public static Tensor zeros(DType dtype, long... shape) {
        return new Tensor(shape.length == 0 ? Nd4j.scalar(dtype.nd4j(), 0) : Nd4j.zeros(dtype.nd4j(), shape));
    }

    public static Tensor ones(DType dtype, long... shape) {
        return full(dtype, 1.0, shape);
    }

    public static Tensor full(DType dtype, double value, long... shape) {
        if (shape.length == 0) {
            return scalar(dtype, value);
        }
        return new Tensor(Nd4j.valueArrayOf(shape, value, dtype.nd4j()));
    }

    /** A rank-0 tensor. */
    public static Tensor scalar(DType dtype, double value) {
        return new Tensor(Nd4j.scalar(dtype.nd4j(), value));
    }

    /** A float32 tensor holding {@code values} in row-major order. */
    public static Tensor of(float[] values, long... shape) {
        checkLength(values.length, shape);
        return shape.length == 0 ? scalar(DType.FLOAT32, values[0])
                : new Tensor(Nd4j.createFromArray(values).reshape('c', shape));
    }

    /** A float64 tensor holding {@code values} in row-major order. */
    public static Tensor of(double[] values, long... shape) {
        checkLength(values.length, shape);
        return shape.length == 0 ? scalar(DType.FLOAT64, values[0])
                : new Tensor(Nd4j.createFromArray(values).reshape('c', shape));
    }

    /** An int32 tensor holding {@code values} in row-major order. */
    public static Tensor of(int[] values, long... shape) {
        checkLength(values.length, shape);
        return shape.length == 0 ? scalar(DType.INT32, values[0])
                : new Tensor(Nd4j.createFromArray(values).reshape('c', shape));
    }

    /** An int64 tensor holding {@code values} in row-major order. */
    public static Tensor of(long[] values, long... shape) {
        checkLength(values.length, shape);
        return shape.length == 0 ? scalar(DType.INT64, values[0])
                : new Tensor(Nd4j.createFromArray(values).reshape('c', shape));
    }

    /** {@code 0, 1, ..., n-1} as a 1-d tensor. */
    public static Tensor arange(DType dtype, long n) {
        long[] values = new long[Math.toIntExact(n)];
        Arrays.setAll(values, i -> i);
        return of(values, n).cast(dtype);
    }

    private static void checkLength(int length, long[] shape) {
        if (length != Shapes.numel(shape)) {
            throw new ShapeException("of: " + length + " values cannot fill shape " + Shapes.str(shape)
                    + " of " + Shapes.numel(shape) + " elements");
        }
    }

    // ------------------------------------------------------------------ inspection

    public long[] shape() {
        return array.shape();
    }

    public int rank() {
        return array.rank();
    }

    /** Size along {@code axis}; negative axes count from the end. */
    public long size(int axis) {
        return array.size(Shapes.axis("size", axis, array.shape()));
    }

    public long numel() {
        return array.length();
    }

    public DType dtype() {
        return dtype;
    }

    /** Bytes of the elements this tensor addresses (a view counts only its own elements). */
    public long bytes() {
        return numel() * dtype.bytes();
    }

    /** Shape in the message format, e.g. {@code (2,3)}. */
    public String shapeString() {
        return Shapes.str(shape());
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new ShapeException("item: tensor of shape " + shapeString()
                    + " has " + numel() + " elements; item() needs exactly one");
        }
        return array.getDouble(0L);
    }

    /** The element at a full index, as a double. */
    public double get(long... index) {
        if (index.length != rank()) {
            throw new ShapeException("get: index of " + index.length + " coordinates for a tensor of shape "
                    + shapeString() + " (rank " + rank() + ")");
        }
        long[] shape = shape();
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexRangeException("get: index " + Arrays.toString(index) + " is out of range for shape "
                        + shapeString() + " at axis " + i);
            }
        }
        return index.length == 0 ? array.getDouble(0L) : array.getDouble(index);
    }

    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        cast(DType.FLOAT32).bytes(false).asFloatBuffer().get(out);
        return out;
    }

    public double[] toDoubleArray() {
        double[] out = new double[Math.toIntExact(numel())];
        cast(DType.FLOAT64).bytes(false).asDoubleBuffer().get(out);
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[Math.toIntExact(numel())];
        cast(DType.INT64).bytes(false).asLongBuffer().get(out);
        return out;
    }

    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(numel())];
        cast(DType.INT32).bytes(false).asIntBuffer().get(out);
        return out;
    }

    /**
     * The elements as a native-order byte buffer over this tensor's own memory, in row-major
     * order (a copy is made first when this tensor is a strided view). Writing into it writes
     * into the tensor, so only {@link IndexLoops} writes, and only into tensors it just created.
     */
    ByteBuffer bytes(boolean forWriting) {
        INDArray c = contiguous();
        if (forWriting && c != array) {
            throw new IllegalStateException("cannot write through a copy of a strided view");
        }
        ByteBuffer whole = c.data().asNio().order(ByteOrder.nativeOrder());
        int start = Math.toIntExact(c.offset() * dtype.bytes());
        return whole.slice(start, Math.toIntExact(bytes())).order(ByteOrder.nativeOrder());
    }

    /** This tensor's array if its elements lie in row-major order, else a row-major copy. */
    private INDArray contiguous() {
        return isRowMajor(array) ? array : array.dup('c');
    }

    /** Whether the elements lie densely in row-major order (axes of size 1 may have any stride). */
    private static boolean isRowMajor(INDArray a) {
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype.label() + ", " + shapeString() + ")\n" + array;
    }

    // ------------------------------------------------------------------ unary elementwise

    public Tensor neg() {
        requireNumeric("neg");
        return new Tensor(array.neg());
    }

    public Tensor exp() {
        requireFloating("exp");
        return new Tensor(Transforms.exp(array, true));
    }

    /** Natural logarithm; {@code log(0) = -inf}. */
    public Tensor log() {
        requireFloating("log");
        return new Tensor(Transforms.log(array, true));
    }

    public Tensor sqrt() {
        requireFloating("sqrt");
        return new Tensor(Transforms.sqrt(array, true));
    }

    public Tensor tanh() {
        requireFloating("tanh");
        return new Tensor(Transforms.tanh(array, true));
    }

    /** {@code max(x, 0)}. */
    public Tensor relu() {
        requireFloating("relu");
        return new Tensor(Transforms.relu(array, true));
    }

    // ------------------------------------------------------------------ binary, broadcasting

    public Tensor add(Tensor b) {
        return binary("add", b, INDArray::add);
    }

    public Tensor sub(Tensor b) {
        return binary("sub", b, INDArray::sub);
    }

    public Tensor mul(Tensor b) {
        return binary("mul", b, INDArray::mul);
    }

    public Tensor div(Tensor b) {
        return binary("div", b, INDArray::div);
    }

    /** Elementwise {@code max(a, b)}. */
    public Tensor maximum(Tensor b) {
        return binary("maximum", b, (x, y) -> Transforms.max(x, y, true));
    }

    /** {@code this + s}, with {@code s} a scalar of this tensor's dtype. */
    public Tensor add(double s) {
        return add(scalar(dtype, s));
    }

    /** {@code this * s}, with {@code s} a scalar of this tensor's dtype. */
    public Tensor mul(double s) {
        return mul(scalar(dtype, s));
    }

    // ------------------------------------------------------------------ comparison and selection

    /** Elementwise {@code a > b} as a bool tensor. */
    public Tensor gt(Tensor b) {
        return comparison("gt", b, INDArray::gt, (x, y) -> x > y);
    }

    /** Elementwise {@code a < b} as a bool tensor. */
    public Tensor lt(Tensor b) {
        return comparison("lt", b, INDArray::lt, (x, y) -> x < y);
    }

    /** Elementwise {@code a == b} as a bool tensor. */
    public Tensor eq(Tensor b) {
        return comparison("eq", b, INDArray::eq, (x, y) -> x == y);
    }

    /** {@code cond ? a : b} elementwise, all three broadcast together; {@code cond} is bool. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        if (cond.dtype != DType.BOOL) {
            throw new DTypeException("where: cond" + cond.shapeString() + " is " + cond.dtype.label()
                    + " but must be bool; compare with gt/lt/eq to make a mask");
        }
        a.checkBinary("where", b);
        long[] shape = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape(), a.shape()), b.shape());
        if (a.dtype.isFloating()) {
            // ND4J's select op with expanded operands took half the time of an LSH attention call.
            return IndexLoops.where(cond, a, b, shape);
        }
        INDArray out = Nd4j.createUninitialized(a.dtype.nd4j(), shape);
        Nd4j.exec(DynamicCustomOp.builder("select")
                .addInputs(cond.expand(shape).array, a.expand(shape).array, b.expand(shape).array)
                .addOutputs(out).build());
        return new Tensor(out);
    }

    // ------------------------------------------------------------------ reductions

    /** Sum over {@code axes} (all axes when none are given). */
    public Tensor sum(boolean keepDims, int... axes) {
        requireNumeric("sum");
        return reduceResult(array.sum(keepDims, Shapes.axes("sum", axes, shape())), keepDims, axes);
    }

    /** Maximum over {@code axes} (all axes when none are given). */
    public Tensor max(boolean keepDims, int... axes) {
        requireNumeric("max");
        return reduceResult(array.max(keepDims, Shapes.axes("max", axes, shape())), keepDims, axes);
    }

    /** Mean over {@code axes} (all axes when none are given). */
    public Tensor mean(boolean keepDims, int... axes) {
        requireFloating("mean");
        return reduceResult(array.mean(keepDims, Shapes.axes("mean", axes, shape())), keepDims, axes);
    }

    /** ND4J's result reshaped to exactly the documented reduced shape (it varies for rank-0 and keepdims). */
    private Tensor reduceResult(INDArray result, boolean keepDims, int[] axes) {
        long[] want = Shapes.reduced(shape(), Shapes.axes("reduce", axes, shape()), keepDims);
        return new Tensor(Arrays.equals(result.shape(), want) ? result : result.reshape('c', want));
    }

    /** Index of the first maximum along {@code axis}, as int64. */
    public Tensor argmax(int axis, boolean keepDims) {
        requireNumeric("argmax");
        int a = Shapes.axis("argmax", axis, shape());
        return IndexLoops.argmax(this, a, keepDims);
    }

    // ------------------------------------------------------------------ matmul

    /**
     * Matrix product over the last axis of {@code this} and the second-to-last of {@code b}:
     * (n,k) x (k,m) -> (n,m); (..., n,k) x (..., k,m) -> (..., n,m) with equal batch axes; and
     * (..., n,k) x (k,m) -> (..., n,m), the shape of a linear layer applied to a batch.
     */
    public Tensor matmul(Tensor b) {
        checkMatmul(b);
        long[] as = shape();
        long[] bs = b.shape();
        if (as.length == 2 && bs.length == 2) {
            INDArray out = Nd4j.createUninitialized(dtype.nd4j(), as[0], bs[1]);
            Nd4j.gemm(array, b.array, out, false, false, 1.0, 0.0);
            return new Tensor(out);
        }
        if (bs.length == 2) {
            // A batch of rows times one matrix is one 2-d product over the flattened rows.
            long rows = Shapes.numel(as) / as[as.length - 1];
            Tensor flat = reshape(rows, as[as.length - 1]).matmul(b);
            long[] outShape = as.clone();
            outShape[as.length - 1] = bs[1];
            return flat.reshape(outShape);
        }
        long[] outShape = as.clone();
        outShape[as.length - 1] = bs[bs.length - 1];
        INDArray out = Nd4j.createUninitialized(dtype.nd4j(), outShape);
        Nd4j.matmul(array, b.array, out);
        return new Tensor(out);
    }

    private void checkMatmul(Tensor b) {
        String ab = "a" + shapeString() + " x b" + b.shapeString();
        if (dtype != b.dtype) {
            throw new DTypeException("matmul: " + ab + ": a is " + dtype.label() + " but b is " + b.dtype.label()
                    + "; cast one of them");
        }
        requireFloating("matmul");
        int ra = rank();
        int rb = b.rank();
        if (ra < 2 || rb < 2) {
            throw new ShapeException("matmul: " + ab + ": both operands need rank >= 2; reshape a vector to (1,n) or (n,1)");
        }
        long k = size(-1);
        long kb = b.size(-2);
        if (k != kb) {
            throw new ShapeException("matmul: " + ab + ": a.shape[" + (ra - 1) + "]=" + k
                    + " must equal b.shape[" + (rb - 2) + "]=" + kb);
        }
        if (rb > 2 && (ra != rb || !Arrays.equals(Arrays.copyOf(shape(), ra - 2), Arrays.copyOf(b.shape(), rb - 2)))) {
            throw new ShapeException("matmul: " + ab + ": batch axes " + Shapes.str(Arrays.copyOf(shape(), ra - 2))
                    + " and " + Shapes.str(Arrays.copyOf(b.shape(), Math.max(rb - 2, 0)))
                    + " must be equal (or b must be 2-d)");
        }
    }

    // ------------------------------------------------------------------ layout

    /** Same elements in row-major order, new shape; one size may be -1 and is inferred. */
    public Tensor reshape(long... newShape) {
        long[] target = newShape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1 && inferred < 0) {
                inferred = i;
            } else {
                known *= target[i];
            }
        }
        if (inferred >= 0 && known > 0 && numel() % known == 0) {
            target[inferred] = numel() / known;
        }
        if (Shapes.numel(target) != numel() || Arrays.stream(target).anyMatch(s -> s < 0)) {
            throw new ShapeException("reshape: x" + shapeString() + " has " + numel() + " elements and cannot take shape "
                    + Shapes.str(newShape));
        }
        if (Arrays.equals(target, shape())) {
            return this;
        }
        return new Tensor(target.length == 0 ? Nd4j.scalar(dtype.nd4j(), array.getDouble(0L)) : array.reshape('c', target));
    }

    /** Reorders the axes: output axis i is input axis {@code order[i]}. */
    public Tensor permute(int... order) {
        int r = rank();
        boolean[] seen = new boolean[r];
        boolean valid = order.length == r;
        for (int i = 0; valid && i < r; i++) {
            valid = order[i] >= 0 && order[i] < r && !seen[order[i]];
            if (valid) {
                seen[order[i]] = true;
            }
        }
        if (!valid) {
            throw new ShapeException("permute: " + Arrays.toString(order) + " is not a permutation of the "
                    + r + " axes of x" + shapeString());
        }
        return new Tensor(array.permute(order));
    }

    /** Swaps the last two axes. */
    public Tensor transpose() {
        int r = rank();
        if (r < 2) {
            throw new ShapeException("transpose: x" + shapeString() + " needs rank >= 2");
        }
        int[] order = new int[r];
        for (int i = 0; i < r; i++) {
            order[i] = i;
        }
        order[r - 2] = r - 1;
        order[r - 1] = r - 2;
        return permute(order);
    }

    /** Elements {@code start <= i < end} along {@code axis}; the rank is kept. */
    public Tensor slice(int axis, long start, long end) {
        int a = Shapes.axis("slice", axis, shape());
        long n = size(a);
        if (start < 0 || start >= end || end > n) {
            throw new ShapeException("slice: [" + start + ", " + end + ") along axis " + a + " of x" + shapeString()
                    + " must satisfy 0 <= start < end <= " + n);
        }
        INDArrayIndex[] index = new INDArrayIndex[rank()];
        for (int i = 0; i < index.length; i++) {
            index[i] = i == a ? NDArrayIndex.interval(start, end) : NDArrayIndex.all();
        }
        // ND4J's get() on a view can return a wrong shape (a (1,8,8) view of a (1,8,16) array,
        // sliced along axis 1, came back with rank 0), so only a dense array is sliced in place.
        INDArray base = array.isView() || !isRowMajor(array) ? array.dup('c') : array;
        return new Tensor(base.get(index));
    }

    /** Joins tensors along {@code axis}; all other sizes must agree. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) {
            throw new ShapeException("concat: needs at least one tensor");
        }
        long[] first = parts[0].shape();
        int a = Shapes.axis("concat", axis, first);
        INDArray[] arrays = new INDArray[parts.length];
        for (int p = 0; p < parts.length; p++) {
            long[] s = parts[p].shape();
            boolean fits = s.length == first.length;
            for (int i = 0; fits && i < s.length; i++) {
                fits = i == a || s[i] == first[i];
            }
            if (!fits) {
                throw new ShapeException("concat: part " + p + Shapes.str(s) + " does not match part 0" + Shapes.str(first)
                        + " on the axes other than axis " + a);
            }
            if (parts[p].dtype != parts[0].dtype) {
                throw new DTypeException("concat: part " + p + " is " + parts[p].dtype.label() + " but part 0 is "
                        + parts[0].dtype.label() + "; cast them to one dtype");
            }
            arrays[p] = parts[p].array;
        }
        return parts.length == 1 ? parts[0] : new Tensor(Nd4j.concat(a, arrays));
    }

    /** Broadcasts to {@code shape} (sizes 1 are repeated; missing leading axes are added). */
    public Tensor expand(long... target) {
        long[] s = shape();
        boolean fits = target.length >= s.length;
        for (int i = 0; fits && i < s.length; i++) {
            long t = target[target.length - s.length + i];
            fits = s[i] == t || s[i] == 1;
        }
        if (!fits) {
            throw new ShapeException("expand: x" + shapeString() + " cannot expand to " + Shapes.str(target)
                    + ": each size must equal the target's or be 1");
        }
        if (Arrays.equals(s, target)) {
            return this;
        }
        return target.length == 0 ? this : IndexLoops.expand(this, target);
    }

    // ------------------------------------------------------------------ indexing

    /**
     * Picks slices along {@code axis} by index: with x of shape (A..., N, R...) and an integer
     * index of shape (A..., M), the result has shape (A..., M, R...) and
     * {@code out[a, j, r] = x[a, index[a, j], r]}. A 1-d index is shared by every leading position.
     */
    public Tensor gather(int axis, Tensor index) {
        return IndexLoops.gather(this, Shapes.axis("gather", axis, shape()), index);
    }

    /**
     * The adjoint of {@link #gather}: a copy of this tensor, shape (A..., N, R...), with
     * {@code src} of shape (A..., M, R...) added at the indexed slices; repeated indices accumulate.
     */
    public Tensor scatterAdd(int axis, Tensor index, Tensor src) {
        return IndexLoops.scatterAdd(this, Shapes.axis("scatterAdd", axis, shape()), index, src);
    }

    /** Stable ascending argsort along {@code axis}, as int64 (equal values keep their order). */
    public Tensor argsort(int axis) {
        requireNumeric("argsort");
        return IndexLoops.argsort(this, Shapes.axis("argsort", axis, shape()));
    }

    /** One-hot encoding of an integer tensor: shape (..., depth), 1 at each index. */
    public Tensor oneHot(int depth, DType outType) {
        return IndexLoops.oneHot(this, depth, outType);
    }

    // ------------------------------------------------------------------ dtype

    /** The same values in another dtype (a no-op when the dtype already matches). */
    public Tensor cast(DType to) {
        return to == dtype ? this : new Tensor(array.castTo(to.nd4j()));
    }

    // ------------------------------------------------------------------ checks

    /**
     * Runs an ND4J pairwise op after checking dtypes and shapes. ND4J broadcasts the right operand
     * to the left one's shape reliably, but not always the other way (comparisons allocate their
     * result with the left operand's shape and fail), so a left operand smaller than the result is
     * first expanded to the result's shape.
     */
    private Tensor binary(String op, Tensor b, java.util.function.BinaryOperator<INDArray> nd4jOp) {
        long[] result = checkBinary(op, b);
        INDArray x = Arrays.equals(array.shape(), result) ? array : expand(result).array;
        INDArray y = b.array;
        if (y.rank() != 0 && y.rank() < x.rank()) {
            y = y.reshape('c', Shapes.padLeft(y.shape(), x.rank()));
        }
        return new Tensor(nd4jOp.apply(x, y));
    }

    /**
     * A comparison: ND4J's op when the right operand fits the left one's shape, else a loop that
     * reads both operands in place ({@link IndexLoops#compare}) instead of expanding them.
     */
    private Tensor comparison(String op, Tensor b, java.util.function.BinaryOperator<INDArray> nd4jOp,
            IndexLoops.Comparison loop) {
        long[] result = checkBinary(op, b);
        if (Arrays.equals(array.shape(), result) || result.length == 0) {
            return binary(op, b, nd4jOp);
        }
        return IndexLoops.compare(this, b, result, loop);
    }

    /** Checks that the dtypes match and the shapes broadcast; returns the result's shape. */
    private long[] checkBinary(String op, Tensor b) {
        if (dtype != b.dtype) {
            throw new DTypeException(op + ": a" + shapeString() + " is " + dtype.label() + " but b" + b.shapeString()
                    + " is " + b.dtype.label() + "; cast one of them");
        }
        long[] as = array.shape();
        long[] bs = b.array.shape();
        return Arrays.equals(as, bs) ? as : Shapes.broadcast(op, as, bs);
    }

    void requireFloating(String op) {
        if (!dtype.isFloating()) {
            throw new DTypeException(op + ": x" + shapeString() + " is " + dtype.label()
                    + " but must be float32 or float64; cast it first");
        }
    }

    void requireNumeric(String op) {
        if (dtype == DType.BOOL) {
            throw new DTypeException(op + ": x" + shapeString() + " is bool; cast it to a number type first");
        }
    }
}
