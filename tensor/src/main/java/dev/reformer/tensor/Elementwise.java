package dev.reformer.tensor;

import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The elementwise primitives, each named once with its two implementations: the vector kernel
 * ({@link VectorKernels}, float32 and float64 on both cores) and ND4J's op, which serves the other
 * dtypes and runs where the vector module is absent. {@code VectorKernelsTest} holds the kernels
 * to plain double-precision math.
 */
final class Elementwise {
    private Elementwise() {
    }

    /** Ops of one operand. */
    enum Unary {
        NEG(INDArray::neg),
        EXP(x -> Transforms.exp(x, true)),
        LOG(x -> Transforms.log(x, true)),
        SQRT(x -> Transforms.sqrt(x, true)),
        TANH(x -> Transforms.tanh(x, true)),
        RELU(x -> Transforms.relu(x, true));

        final UnaryOperator<INDArray> nd4j;

        Unary(UnaryOperator<INDArray> nd4j) {
            this.nd4j = nd4j;
        }
    }

    /** Ops of two operands with NumPy broadcasting. */
    enum Binary {
        ADD(INDArray::add),
        SUB(INDArray::sub),
        MUL(INDArray::mul),
        DIV(INDArray::div),
        MAXIMUM((x, y) -> Transforms.max(x, y, true));

        final BinaryOperator<INDArray> nd4j;

        Binary(BinaryOperator<INDArray> nd4j) {
            this.nd4j = nd4j;
        }
    }

    /** Whether the vector kernels handle tensors of this dtype. */
    static boolean vectorized(DType dtype) {
        return dtype.isFloating() && Simd.enabled();
    }
}
