package dev.reformer.model;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Module;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import dev.reformer.tensor.ShapeException;

/**
 * Axial positional embeddings (the reference code's AxialPositionalEncoding): positions are laid
 * out on an L1 x L2 grid, {@code p = i * L2 + j}, and the embedding of p is the concatenation of
 * a row vector {@code E1[i]} (d1 wide) and a column vector {@code E2[j]} (d2 wide), d1 + d2 = d.
 * Two small tables, (L1 + L2) vectors, stand in for L1 * L2 learned positions.
 *
 * <pre>{@code
 * AxialPositionalEmbedding pos = new AxialPositionalEmbedding(128, 512, 256, 768, DType.FLOAT32, gen);
 * Variable e = pos.forward(65536);   // (65536, 1024)
 * }</pre>
 */
public final class AxialPositionalEmbedding extends Module implements PositionalEmbedding {
    private final long rows;
    private final long columns;
    private final long rowDim;
    private final long columnDim;
    private final Variable rowTable;
    private final Variable columnTable;

    public AxialPositionalEmbedding(long rows, long columns, long rowDim, long columnDim, DType dtype, Generator init) {
        this.rows = rows;
        this.columns = columns;
        this.rowDim = rowDim;
        this.columnDim = columnDim;
        double std = 1.0 / Math.sqrt(rowDim + columnDim);
        this.rowTable = parameter("rows", init.normal(dtype, 0, std, rows, rowDim));
        this.columnTable = parameter("columns", init.normal(dtype, 0, std, columns, columnDim));
    }

    @Override
    public Variable forward(long length) {
        if (length > maxLength()) {
            throw new ShapeException("axial positional embedding: length " + length + " exceeds the axial shape "
                    + rows + "x" + columns + " = " + maxLength() + " positions; choose an axial shape whose product"
                    + " is at least " + length + " (and retrain)");
        }
        // Only the rows the sequence reaches: a short input on a large grid builds a small one.
        long used = (length + columns - 1) / columns;
        Variable rowVectors = used == rows ? rowTable : rowTable.slice(0, 0, used);                   // (R, d1)
        Variable byRow = rowVectors.reshape(used, 1, rowDim).expand(used, columns, rowDim);          // (R, L2, d1)
        Variable byColumn = columnTable.reshape(1, columns, columnDim).expand(used, columns, columnDim); // (R, L2, d2)
        Variable grid = Variable.concat(2, byRow, byColumn).reshape(used * columns, rowDim + columnDim); // (R*L2, d)
        return length == used * columns ? grid : grid.slice(0, 0, length);                           // (L, d)
    }

    @Override
    public long maxLength() {
        return rows * columns;
    }
}
