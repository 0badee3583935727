package dev.reformer.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import dev.reformer.tensor.kernels.Elementwise;
import dev.reformer.tensor.kernels.Gelu;
import dev.reformer.tensor.kernels.Gemm;
import dev.reformer.tensor.kernels.LayerNorm;
import dev.reformer.tensor.kernels.Reductions;
import dev.reformer.tensor.kernels.Softmax;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An n-dimensional array: a shape, a {@link DType} and an ND4J buffer, indexed in row-major order.
 *
 * <p>This class holds the engine's primitive ops: it checks shapes and dtypes, makes the output and
 * hands the arithmetic to one kernel family ({@code dev.reformer.tensor.kernels}: elementwise ops
 * and broadcasts, reductions, softmax and logsumexp, layer norm, GELU), which runs float32 in its
 * vector kernel or its scalar loop and float64 in its scalar loop, on both cores; matrix products
 * are ND4J's BLAS calls, except small float32 ones of a few rows (a generated token's), which run
 * in the engine's {@code Gemm}; gathers, sorts and masks are plain loops ({@link IndexLoops}); ND4J's own
 * ops serve the integer dtypes.
 * Every op returns a new tensor and leaves its operands unchanged; {@code reshape},
 * {@code permute} and {@code slice} may return views that share the operand's memory, which is
 * safe because no op here writes into an existing tensor.
 *
 * <p>Memory: inside a {@link MemoryScope} a new tensor takes a recycled buffer from the
 * {@link BufferPool} and gives it back when the scope closes (or its last owner lets go, see
 * {@link #retain()}); outside any scope the garbage collector owns it. Outputs are never
 * zero-filled first: every op writes all of its output.
 *
 * <p>The primitives, grouped:
 * <ul>
 *   <li>unary: {@code neg exp log sqrt tanh relu}</li>
 *   <li>binary with NumPy broadcasting: {@code add sub mul div maximum}</li>
 *   <li>comparison and selection: {@code gt lt eq where}</li>
 *   <li>reductions over axes with keepdims: {@code sum max mean argmax}</li>
 *   <li>fused rows (last axis): {@code softmax logSoftmax logsumexp layerNorm} and their backwards</li>
 *   <li>fused elementwise: {@code gelu} and its backward</li>
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
    static {
        // JavaCPP reads the process's resident size (from /proc) on native allocations to enforce
        // maxPhysicalBytes, and ND4J makes a native shape buffer for every array: a generated
        // token spent 15% of its time there. The engine frees its memory itself (BufferPool,
        // OffHeapPacer), so it turns that check off unless the user chose a limit.
        if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        }
        // OpenBLAS's kernels and OpenMP's waiting, chosen before ND4J loads them (NativeSettings).
        NativeSettings.apply();
    }

    // The layout is kept here, and the ND4J array over the storage is made only when an ND4J op
    // or nd4j() asks for it: making one costs native calls (a shape buffer per array), which took
    // a third of a generated token's time when every op's output made one.
    private final long[] shape;
    private final long[] stride;
    private final long offset;  // of the first element, in elements of the storage's buffer
    private final DType dtype;
    private final Storage storage; // shared by a tensor and its views
    private INDArray array;        // made on first use

    private Tensor(Storage storage, DType dtype, long[] shape, long[] stride, long offset) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.stride = stride;
        this.offset = offset;
    }

    private Tensor(INDArray array, Storage storage) {
        this(storage, DType.of(array.dataType()), array.shape(), array.stride(), array.offset());
        this.array = array;
    }

    /** Wraps an ND4J array without copying; the garbage collector owns its memory. */
    public static Tensor wrap(INDArray array) {
        return new Tensor(array, Storage.external(array.data(), DType.of(array.dataType())));
    }

    /** A view of this tensor's memory with another shape or layout. */
    private Tensor view(INDArray v) {
        return new Tensor(v, storage);
    }

    /** A view of this tensor's memory with the given layout. */
    private Tensor view(long[] shape, long[] stride, long offset) {
        return new Tensor(storage, dtype, shape, stride, offset);
    }

    /** The ND4J array behind this tensor, for benchmarks and kernels; treat it as read-only. */
    public INDArray nd4j() {
        return live();
    }

    /** The array, after checking that the memory behind it has not been released. */
    private INDArray live() {
        if (storage.isReleased()) {
            storage.requireLive(this, "use");
        }
        if (array == null) {
            // the order flag ND4J's own views would carry: 'f' for a transposed layout, else 'c'
            char order = isRowMajor() ? 'c' : org.nd4j.linalg.api.shape.Shape.getOrder(shape, stride, 1);
            array = Nd4j.create(storage.buffer(), shape, stride, offset, order == 'f' ? 'f' : 'c', dtype.nd4j());
        }
        return array;
    }

    /** Fails, naming this tensor, if its memory was released. */
    private void requireLive() {
        if (storage.isReleased()) {
            storage.requireLive(this, "use");
        }
    }

    Storage storage() {
        return storage;
    }

    // ------------------------------------------------------------------ memory

    /**
     * A tensor whose elements are not yet set, to be filled by the kernel that made it: memory
     * from the pool when a {@link MemoryScope} is open. Use {@link #writableFloats()} or
     * {@link #writableDoubles()} to fill it before handing it to any op.
     */
    public static Tensor empty(DType dtype, long... shape) {
        Storage s = Storage.allocate(dtype, Shapes.numel(shape));
        return new Tensor(s, dtype, shape.clone(), Shapes.strides(shape), 0);
    }

    /**
     * Takes a share in this tensor's memory for a holder that outlives the current scope (a
     * parameter's value, an accumulated gradient, an optimizer's state). Each retain must be
     * matched by one {@link #release()}. Returns this tensor.
     */
    public Tensor retain() {
        storage.retain(this);
        return this;
    }

    /**
     * Gives back a share taken with {@link #retain()}; when no owner is left (its scope has
     * closed too), the memory returns to the pool at once and this tensor and its views are
     * unusable. Releasing memory the garbage collector owns only drops the share.
     */
    public void release() {
        storage.release(this);
    }

    /**
     * Gives back a share like {@link #release()}, for a holder whose old value someone may still
     * be reading (a replaced parameter value, a cleared gradient): the memory stays readable until
     * the innermost open {@link MemoryScope} closes, or, outside any scope, until the garbage
     * collector finds it unreachable.
     */
    public void releaseAtScopeEnd() {
        storage.releaseAtScopeEnd(this);
    }

    /**
     * Gives this tensor's memory back now instead of when its scope closes, for a tensor no one
     * can read any more (an op's private scratch once its backward has run). Shares taken with
     * {@link #retain()} still keep it alive; a tensor outside any scope is left to the collector.
     */
    public void free() {
        storage.freeFromScope();
    }

    /** True once this tensor's memory went back to the pool. */
    public boolean isReleased() {
        return storage.isReleased();
    }

    /** Whether this tensor and {@code other} view the same memory. */
    public boolean sharesMemoryWith(Tensor other) {
        return storage == other.storage;
    }

    // ------------------------------------------------------------------ creation

    public static Tensor zeros(DType dtype, long... shape) {
        return full(dtype, 0.0, shape);
    }

    public static Tensor ones(DType dtype, long... shape) {
        return full(dtype, 1.0, shape);
    }

    public static Tensor full(DType dtype, double value, long... shape) {
        Tensor t = empty(dtype, shape);
        int n = Math.toIntExact(t.numel());
        switch (dtype) {
            case FLOAT32 -> {
                float[] v = new float[n];
                Arrays.fill(v, (float) value);
                t.writableFloats().put(0, v);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                Arrays.fill(v, value);
                t.writableDoubles().put(0, v);
            }
            default -> t.live().assign(value);
        }
        return t;
    }

    /** A rank-0 tensor. */
    public static Tensor scalar(DType dtype, double value) {
        return full(dtype, value);
    }

    /** A float32 tensor holding {@code values} in row-major order. */
    public static Tensor of(float[] values, long... shape) {
        checkLength(values.length, shape);
        Tensor t = empty(DType.FLOAT32, shape);
        t.writableFloats().put(0, values);
        return t;
    }

    /** A float64 tensor holding {@code values} in row-major order. */
    public static Tensor of(double[] values, long... shape) {
        checkLength(values.length, shape);
        Tensor t = empty(DType.FLOAT64, shape);
        t.writableDoubles().put(0, values);
        return t;
    }

    /** An int32 tensor holding {@code values} in row-major order. */
    public static Tensor of(int[] values, long... shape) {
        checkLength(values.length, shape);
        Tensor t = empty(DType.INT32, shape);
        t.bytes(true).asIntBuffer().put(0, values);
        return t;
    }

    /** An int64 tensor holding {@code values} in row-major order. */
    public static Tensor of(long[] values, long... shape) {
        checkLength(values.length, shape);
        Tensor t = empty(DType.INT64, shape);
        t.bytes(true).asLongBuffer().put(0, values);
        return t;
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
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size along {@code axis}; negative axes count from the end. */
    public long size(int axis) {
        return shape[Shapes.axis("size", axis, shape)];
    }

    public long numel() {
        return Shapes.numel(shape);
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
        return live().getDouble(0L);
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
        return index.length == 0 ? live().getDouble(0L) : live().getDouble(index);
    }

    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        cast(DType.FLOAT32).floats().get(0, out);
        return out;
    }

    public double[] toDoubleArray() {
        double[] out = new double[Math.toIntExact(numel())];
        cast(DType.FLOAT64).doubles().get(0, out);
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
     * The elements of a float32 tensor in row-major order, read-only, over its own memory (a
     * copy when it is a strided view). Kernels read their inputs through this.
     */
    public FloatBuffer floats() {
        requireDType("floats", DType.FLOAT32);
        return bytes(false).asFloatBuffer().asReadOnlyBuffer();
    }

    /** The elements of a float64 tensor in row-major order, read-only (see {@link #floats()}). */
    public DoubleBuffer doubles() {
        requireDType("doubles", DType.FLOAT64);
        return bytes(false).asDoubleBuffer().asReadOnlyBuffer();
    }

    /**
     * Write access to a float32 tensor just made by {@link #empty}, for the kernel that fills
     * it. Tensors are immutable once any op has seen them: never write into one that has.
     */
    public FloatBuffer writableFloats() {
        requireDType("writableFloats", DType.FLOAT32);
        return bytes(true).asFloatBuffer();
    }

    /** Write access to a float64 tensor just made by {@link #empty} (see {@link #writableFloats()}). */
    public DoubleBuffer writableDoubles() {
        requireDType("writableDoubles", DType.FLOAT64);
        return bytes(true).asDoubleBuffer();
    }

    private void requireDType(String op, DType want) {
        if (dtype != want) {
            throw new DTypeException(op + ": tensor" + shapeString() + " is " + dtype.label() + ", not "
                    + want.label() + "; cast it first");
        }
    }

    /**
     * The elements as a native-order byte buffer over this tensor's own memory, in row-major
     * order (a copy is made first when this tensor is a strided view). Writing into it writes
     * into the tensor, so only kernels write, and only into tensors they just created.
     */
    ByteBuffer bytes(boolean forWriting) {
        Tensor c = contiguous();
        if (forWriting && c != this) {
            throw new IllegalStateException("cannot write through a copy of a strided view");
        }
        ByteBuffer whole = c.nio();
        int start = Math.toIntExact(c.elementOffset() * dtype.bytes());
        return whole.slice(start, Math.toIntExact(bytes())).order(ByteOrder.nativeOrder());
    }

    /** The whole buffer behind this tensor (views included), native byte order; index with {@link #elementOffset()}. */
    ByteBuffer nio() {
        requireLive();
        return storage.buffer().asNio().order(ByteOrder.nativeOrder());
    }

    /** Where this tensor's first element sits in its buffer, in elements. */
    long elementOffset() {
        return offset;
    }

    /** The element steps of each axis in the buffer (a dense tensor's are row-major). */
    long[] strides() {
        return stride.clone();
    }

    /** This tensor if its elements lie densely in row-major order, else a row-major copy. */
    Tensor contiguous() {
        requireLive();
        if (isRowMajor()) {
            return this;
        }
        Tensor out = empty(dtype, shape);
        IndexLoops.copyStrided(this, out);
        return out;
    }

    /** Whether the elements lie densely in row-major order (axes of size 1 may have any stride). */
    private boolean isRowMajor() {
        if (numel() == 0) {
            return true; // nothing to lay out (ND4J gives empty arrays zero strides)
        }
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
        return "Tensor(" + dtype.label() + ", " + shapeString() + ")\n" + live();
    }

    // ------------------------------------------------------------------ unary elementwise

    public Tensor neg() {
        requireNumeric("neg");
        if (!dtype.isFloating()) {
            return wrap(live().neg()); // integers: ND4J's op
        }
        return unary(Elementwise.Unary.NEG);
    }

    public Tensor exp() {
        requireFloating("exp");
        return unary(Elementwise.Unary.EXP);
    }

    /** Natural logarithm; {@code log(0) = -inf}. */
    public Tensor log() {
        requireFloating("log");
        return unary(Elementwise.Unary.LOG);
    }

    public Tensor sqrt() {
        requireFloating("sqrt");
        return unary(Elementwise.Unary.SQRT);
    }

    public Tensor tanh() {
        requireFloating("tanh");
        return unary(Elementwise.Unary.TANH);
    }

    /** {@code max(x, 0)}. */
    public Tensor relu() {
        requireFloating("relu");
        return unary(Elementwise.Unary.RELU);
    }

    /**
     * GELU, tanh form: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, one pass (the
     * composition of primitives writes ten tensors of x's size and keeps them for the backward).
     */
    public Tensor gelu() {
        requireFloating("gelu");
        Tensor out = empty(dtype, shape());
        Gelu.forward(contiguous(), out);
        return out;
    }

    /** The gradient of x for {@code y = gelu(x)} and y's gradient g: {@code g dy/dx} (see {@link #gelu}). */
    public static Tensor geluBackward(Tensor x, Tensor g) {
        x.checkSameShape("geluBackward", g);
        Tensor out = empty(x.dtype, x.shape());
        Gelu.backward(x.contiguous(), g.contiguous(), out);
        return out;
    }

    /** A floating unary op: its kernel writes every element of a new tensor. */
    private Tensor unary(Elementwise.Unary op) {
        Tensor out = empty(dtype, shape());
        Elementwise.unary(op, contiguous(), out);
        return out;
    }

    // ------------------------------------------------------------------ binary, broadcasting

    public Tensor add(Tensor b) {
        return binary("add", b, Elementwise.Binary.ADD);
    }

    public Tensor sub(Tensor b) {
        return binary("sub", b, Elementwise.Binary.SUB);
    }

    public Tensor mul(Tensor b) {
        return binary("mul", b, Elementwise.Binary.MUL);
    }

    public Tensor div(Tensor b) {
        return binary("div", b, Elementwise.Binary.DIV);
    }

    /** Elementwise {@code max(a, b)}. */
    public Tensor maximum(Tensor b) {
        return binary("maximum", b, Elementwise.Binary.MAXIMUM);
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
        return comparison("gt", b, (x, y) -> x > y);
    }

    /** Elementwise {@code a < b} as a bool tensor. */
    public Tensor lt(Tensor b) {
        return comparison("lt", b, (x, y) -> x < y);
    }

    /** Elementwise {@code a == b} as a bool tensor. */
    public Tensor eq(Tensor b) {
        return comparison("eq", b, (x, y) -> x == y);
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
                .addInputs(cond.expand(shape).live(), a.expand(shape).live(), b.expand(shape).live())
                .addOutputs(out).build());
        return wrap(out);
    }

    // ------------------------------------------------------------------ reductions

    /** Sum over {@code axes} (all axes when none are given). */
    public Tensor sum(boolean keepDims, int... axes) {
        requireNumeric("sum");
        return reduce("sum", Reductions.Fold.SUM, keepDims, axes);
    }

    /** Maximum over {@code axes} (all axes when none are given). */
    public Tensor max(boolean keepDims, int... axes) {
        requireNumeric("max");
        return reduce("max", Reductions.Fold.MAX, keepDims, axes);
    }

    /** Mean over {@code axes} (all axes when none are given). */
    public Tensor mean(boolean keepDims, int... axes) {
        requireFloating("mean");
        int[] normalized = Shapes.axes("mean", axes, shape());
        long count = 1;
        for (int a : normalized) {
            count *= shape()[a];
        }
        Tensor sum = sum(keepDims, axes);
        return sum.mul(scalar(dtype, 1.0 / count));
    }

    /**
     * A reduction over the given axes. The kernel sees the input as (outer, reduced, inner) for one
     * run of adjacent axes; axes in several runs are folded one run at a time, the last run first.
     * Integer tensors use ND4J's reductions.
     */
    private Tensor reduce(String op, Reductions.Fold fold, boolean keepDims, int[] axes) {
        long[] shape = shape();
        int[] normalized = Shapes.axes(op, axes, shape);
        long[] want = Shapes.reduced(shape, normalized, keepDims);
        if (!dtype.isFloating()) {
            INDArray r = fold == Reductions.Fold.SUM ? live().sum(keepDims, normalized) : live().max(keepDims, normalized);
            return wrap(Arrays.equals(r.shape(), want) ? r : r.reshape('c', want));
        }
        Tensor x = contiguous();
        if (numel() == 0) {
            // Folding nothing: sums are 0 and maxima -inf, as in NumPy (the kernels need a row to read).
            return full(dtype, fold == Reductions.Fold.SUM ? 0.0 : Double.NEGATIVE_INFINITY, want);
        }
        int end = normalized.length;
        while (end > 0) {
            int start = end - 1;
            while (start > 0 && normalized[start - 1] == normalized[start] - 1) {
                start--;
            }
            int first = normalized[start];
            int last = normalized[end - 1];
            long[] s = x.shape();
            long[] kept = s.clone();
            for (int a = first; a <= last; a++) {
                kept[a] = 1;
            }
            Tensor out = empty(dtype, kept);
            Reductions.reduce(fold, x, Shapes.product(s, 0, first), Shapes.product(s, first, last + 1),
                    Shapes.product(s, last + 1, s.length), out);
            x = out;
            end = start;
        }
        return x.reshape(want);
    }

    /** Index of the first maximum along {@code axis}, as int64. */
    public Tensor argmax(int axis, boolean keepDims) {
        requireNumeric("argmax");
        int a = Shapes.axis("argmax", axis, shape());
        return IndexLoops.argmax(this, a, keepDims);
    }

    // ------------------------------------------------------------------ fused rows

    /** {@code softmax} over the last axis: {@code e^(x - max) / sum e^(x - max)}, each row summing to 1. */
    public Tensor softmax() {
        return softmaxFamily("softmax", Softmax.Kind.SOFTMAX);
    }

    /** {@code log softmax} over the last axis: {@code x - logsumexp(x)}. */
    public Tensor logSoftmax() {
        return softmaxFamily("logSoftmax", Softmax.Kind.LOG_SOFTMAX);
    }

    private Tensor softmaxFamily(String op, Softmax.Kind kind) {
        requireFloating(op);
        requireRows(op);
        Tensor out = empty(dtype, shape());
        Softmax.forward(kind, contiguous(), out, (int) size(-1));
        return out;
    }

    /**
     * The gradient of {@code x} given the forward's output {@code y} and its gradient {@code g}:
     * for softmax {@code y (g - sum(g y))}, for log-softmax {@code g - e^y sum(g)}, row by row.
     */
    public static Tensor softmaxBackward(Tensor y, Tensor g, boolean logSoftmax) {
        y.checkSameShape(logSoftmax ? "logSoftmaxBackward" : "softmaxBackward", g);
        Tensor out = empty(y.dtype, y.shape());
        Softmax.backward(logSoftmax ? Softmax.Kind.LOG_SOFTMAX : Softmax.Kind.SOFTMAX, y.contiguous(), g.contiguous(), out,
                (int) y.size(-1));
        return out;
    }

    /** {@code log sum_i e^(x_i)} over the last axis, computed as {@code m + log sum e^(x_i - m)}; shape (..., 1). */
    public Tensor logsumexp() {
        requireFloating("logsumexp");
        requireRows("logsumexp");
        long[] kept = shape().clone();
        kept[kept.length - 1] = 1;
        Tensor out = empty(dtype, kept);
        Softmax.logsumexp(contiguous(), out, (int) size(-1));
        return out;
    }

    /** The gradient of {@code x} for {@code lse = logsumexp(x)} (shape (..., 1)) and its gradient {@code g}: {@code g e^(x - lse)}. */
    public static Tensor logsumexpBackward(Tensor x, Tensor lse, Tensor g) {
        long rows = x.numel() / Math.max(1, x.size(-1));
        if (lse.numel() != rows || g.numel() != rows || lse.dtype != x.dtype || g.dtype != x.dtype) {
            throw new ShapeException("logsumexpBackward: x" + x.shapeString() + " needs lse and g of one value per row ("
                    + rows + "); got lse" + lse.shapeString() + " and g" + g.shapeString());
        }
        Tensor out = empty(x.dtype, x.shape());
        Softmax.logsumexpBackward(x.contiguous(), lse.contiguous(), g.contiguous(), out, (int) x.size(-1));
        return out;
    }

    /** What {@link #layerNorm} returns: {@code y} (x's shape) and the per-row {@code mean} and {@code rstd} (..., 1). */
    public record Normalized(Tensor y, Tensor mean, Tensor rstd) {
    }

    /**
     * Layer normalisation of each row over the last axis in one pass over the memory:
     * {@code y = (x - mean) * rstd * gamma + beta} with {@code rstd = 1/sqrt(var + eps)}, the
     * biased variance; also returns the per-row mean and rstd the backward needs. gamma and beta
     * have the last axis's size.
     */
    public Normalized layerNorm(Tensor gamma, Tensor beta, double eps) {
        requireFloating("layerNorm");
        requireRows("layerNorm");
        long n = size(-1);
        for (Tensor p : new Tensor[] {gamma, beta}) {
            if (p.numel() != n || p.dtype != dtype) {
                throw new ShapeException("layerNorm: x" + shapeString() + " needs gamma and beta of " + n + " "
                        + dtype.label() + " values; got gamma " + gamma.dtype.label() + gamma.shapeString() + " and beta "
                        + beta.dtype.label() + beta.shapeString());
            }
        }
        long[] kept = shape().clone();
        kept[kept.length - 1] = 1;
        Tensor y = empty(dtype, shape());
        Tensor mean = empty(dtype, kept);
        Tensor rstd = empty(dtype, kept);
        LayerNorm.forward(contiguous(), gamma.contiguous(), beta.contiguous(), eps, y, mean, rstd, (int) n);
        return new Normalized(y, mean, rstd);
    }

    /** The gradients of layer normalisation: {@code dx}, and {@code dgamma} and {@code dbeta} (the last axis's size). */
    public record NormGradients(Tensor dx, Tensor dgamma, Tensor dbeta) {
    }

    /**
     * The backward of {@link #layerNorm}, from x, the forward's per-row mean and rstd, gamma and
     * the output's gradient g: with {@code xhat = (x - mean) rstd} and {@code gh = g gamma},
     * {@code dx = rstd (gh - mean(gh) - xhat mean(gh xhat))} per row,
     * {@code dgamma = sum over rows of g xhat}, {@code dbeta = sum over rows of g}.
     */
    public static NormGradients layerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor gamma, Tensor g) {
        x.checkSameShape("layerNormBackward", g);
        int n = (int) x.size(-1);
        Tensor dx = empty(x.dtype, x.shape());
        Tensor dgamma = empty(x.dtype, n);
        Tensor dbeta = empty(x.dtype, n);
        LayerNorm.backward(x.contiguous(), mean.contiguous(), rstd.contiguous(), gamma.contiguous(), g.contiguous(), dx,
                dgamma, dbeta, n);
        return new NormGradients(dx, dgamma, dbeta);
    }

    private void requireRows(String op) {
        if (rank() < 1 || size(-1) < 1) {
            throw new ShapeException(op + ": x" + shapeString() + " needs a last axis of at least one element");
        }
    }

    private void checkSameShape(String op, Tensor other) {
        if (!Arrays.equals(shape(), other.shape()) || dtype != other.dtype) {
            throw new ShapeException(op + ": tensors " + dtype.label() + shapeString() + " and " + other.dtype.label()
                    + other.shapeString() + " must have the same shape and dtype");
        }
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
            Tensor out = empty(dtype, as[0], bs[1]);
            if (dtype == DType.FLOAT32 && Gemm.small(as[0], as[1], bs[1])) {
                Gemm.product(contiguous(), b, out);   // a few rows: the engine's own kernel, no BLAS call
                return out;
            }
            Nd4j.gemm(live(), b.live(), out.live(), false, false, 1.0, 0.0);
            return out;
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
        Tensor out = empty(dtype, outShape);
        Nd4j.matmul(live(), b.live(), out.live());
        return out;
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
        // A dense tensor is reshaped in place: the same buffer read with the new shape's strides.
        Tensor dense = contiguous();
        return dense.view(target, Shapes.strides(target), dense.elementOffset());
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
        requireLive();
        long[] permutedShape = new long[r];
        long[] permutedStride = new long[r];
        for (int i = 0; i < r; i++) {
            permutedShape[i] = shape[order[i]];
            permutedStride[i] = stride[order[i]];
        }
        return view(permutedShape, permutedStride, offset);
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
        if (start == 0 && end == n) {
            return this;
        }
        // A view: the same strides, the offset moved to the first kept element, one size shrunk.
        requireLive();
        long[] sliced = shape.clone();
        sliced[a] = end - start;
        return view(sliced, stride.clone(), offset + start * stride[a]);
    }

    /** Joins tensors along {@code axis}; all other sizes must agree. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) {
            throw new ShapeException("concat: needs at least one tensor");
        }
        long[] first = parts[0].shape();
        int a = Shapes.axis("concat", axis, first);
        long total = 0;
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
            total += s[a];
        }
        if (parts.length == 1) {
            return parts[0];
        }
        long[] shape = first.clone();
        shape[a] = total;
        Tensor out = empty(parts[0].dtype, shape);
        IndexLoops.concat(parts, a, out);
        return out;
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
        if (to == dtype) {
            return this;
        }
        Tensor out = empty(to, shape());
        IndexLoops.convert(contiguous(), out);
        return out;
    }

    // ------------------------------------------------------------------ checks

    /** Runs a binary op after checking dtypes and shapes: the kernel family for floats, ND4J's op for integers. */
    private Tensor binary(String op, Tensor b, Elementwise.Binary kind) {
        long[] result = checkBinary(op, b);
        if (dtype.isFloating()) {
            Tensor out = empty(dtype, result);
            Elementwise.binary(kind, contiguous(), b.contiguous(), out);
            return out;
        }
        // ND4J broadcasts the right operand to the left one's shape reliably, but not always the
        // other way, so a left operand smaller than the result is first expanded.
        INDArray x = Arrays.equals(shape(), result) ? live() : expand(result).live();
        INDArray y = b.live();
        if (y.rank() != 0 && y.rank() < x.rank()) {
            y = y.reshape('c', Shapes.padLeft(y.shape(), x.rank()));
        }
        return wrap(switch (kind) {
            case ADD -> x.add(y);
            case SUB -> x.sub(y);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case MAXIMUM -> Transforms.max(x, y, true);
        });
    }

    /** A comparison into a bool tensor; each operand is read in place, broadcast with stride 0 ({@link IndexLoops#compare}). */
    private Tensor comparison(String op, Tensor b, IndexLoops.Comparison loop) {
        long[] result = checkBinary(op, b);
        return IndexLoops.compare(this, b, result, loop);
    }

    /** Checks that the dtypes match and the shapes broadcast; returns the result's shape. */
    private long[] checkBinary(String op, Tensor b) {
        if (dtype != b.dtype) {
            throw new DTypeException(op + ": a" + shapeString() + " is " + dtype.label() + " but b" + b.shapeString()
                    + " is " + b.dtype.label() + "; cast one of them");
        }
        long[] as = shape();
        long[] bs = b.shape();
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
