package dev.reformer.cuda;

import dev.reformer.attention.ChunkedAttentionProblem;
import dev.reformer.attention.ChunkedAttentionSpec;

/**
 * {@code chunked_attention.cu} from Java: the fused LSH (or local) attention of a
 * {@link ChunkedAttentionProblem} on the GPU, forward and backward, with the rounds combined as the
 * engine combines them. Same contract as {@code ChunkedAttentionReference} and
 * {@code RoundCombination}, in float32.
 *
 * <p>{@link Session} keeps a problem's tensors on the GPU between calls (the benchmark times its
 * {@code forward()} and {@code backward()} without copies); {@link #forward} and {@link #backward}
 * copy in and out for callers that hold Java arrays.
 */
public final class CudaChunkedAttention {
    /** The kernel versions, as {@code chunked_attention.cu} lists them. */
    public enum Version {
        V1, V2;

        /** Threads per query or key slot: v2 shares each among D/32 threads. */
        int threadsPerSlot(int dim) {
            return this == V1 ? 1 : dim / 32;
        }
    }

    /** v2's most threads per block, which keeps its 128-odd registers per thread within an SM's 64K. */
    private static final int V2_MAX_THREADS = 256;

    private static final int TILE = 32;

    private CudaChunkedAttention() {
    }

    /** Why {@code version} of the kernels cannot run {@code spec} at head size {@code dim}, or null when it can. */
    public static String unsupported(Version version, ChunkedAttentionSpec spec, int dim) {
        if (spec.dedupe()) {
            return "duplicate counting (paper eq. 16) runs on the CPU only";
        }
        if (dim != 64 && dim != 128) {
            return "head size " + dim + ": the kernels are compiled for D = 64 and 128";
        }
        if (spec.chunkLength() > 256) {
            return "chunk length " + spec.chunkLength() + ": one thread per query, and at these kernels' register counts"
                    + " (up to 255 per thread) a block holds at most 256 threads";
        }
        if (version == Version.V2 && spec.chunkLength() * version.threadsPerSlot(dim) > V2_MAX_THREADS) {
            return "chunk length " + spec.chunkLength() + " at D = " + dim + ": v2 gives each query D/32 threads and a block at"
                    + " most " + V2_MAX_THREADS + ", so the chunk is at most " + V2_MAX_THREADS / version.threadsPerSlot(dim);
        }
        return null;
    }

    /** Per-item outputs (N, K*L, D) and logsumexps (N, K*L) in item order, and the combined output (N, L, D). */
    public record Forward(float[] perItem, float[] lse, float[] combined) {
    }

    /** Gradients of q (with the keys' folded in for shared QK), k (null for shared QK) and v, each (N, L, D). */
    public record Grads(float[] dq, float[] dk, float[] dv) {
    }

    public static Forward forward(Version version, ChunkedAttentionProblem pb, float[] q, float[] k, float[] v) {
        try (Session s = new Session(version, pb, q, k, v)) {
            s.forward();
            Cuda.synchronize();
            int n = pb.rows();
            return new Forward(s.perItem.floats(Math.multiplyExact(n * pb.items(), pb.dim())), s.lse.floats(n * pb.items()),
                    s.combined.floats(Math.multiplyExact(n * pb.length(), pb.dim())));
        }
    }

    /** The gradients given that of the combined output, {@code dCombined} (N, L, D); recomputes the forward first. */
    public static Grads backward(Version version, ChunkedAttentionProblem pb, float[] q, float[] k, float[] v,
            float[] dCombined) {
        try (Session s = new Session(version, pb, q, k, v); DeviceBuffer g = DeviceBuffer.of(dCombined)) {
            s.forward();
            s.backward(g);
            Cuda.synchronize();
            int size = pb.rows() * pb.length() * pb.dim();
            return new Grads(s.dq.floats(size), s.dk == null ? null : s.dk.floats(size), s.dv.floats(size));
        }
    }

    /** A problem's inputs, outputs and gradients on the GPU. */
    public static final class Session implements AutoCloseable {
        private final Version version;
        private final ChunkedAttentionProblem pb;
        final DeviceBuffer q;
        final DeviceBuffer k;
        final DeviceBuffer keys;
        final DeviceBuffer v;
        final DeviceBuffer sorted;
        final DeviceBuffer padding;
        final DeviceBuffer perItem;
        final DeviceBuffer lse;
        final DeviceBuffer combined;
        DeviceBuffer dq;
        DeviceBuffer dk;
        DeviceBuffer dv;
        private DeviceBuffer dKeys;
        private DeviceBuffer dOut;
        private DeviceBuffer dLse;
        // v2's per-item gradients (dq, then dk, in the first; dv in the second), added up over the
        // rounds by sum_rounds, and dOut . out per item
        private DeviceBuffer itemGradients;
        private DeviceBuffer dvItems;
        private DeviceBuffer deltas;

        public Session(Version version, ChunkedAttentionProblem pb, float[] qHost, float[] kHost, float[] vHost) {
            String why = unsupported(version, pb.spec(), pb.dim());
            if (why != null) {
                throw new IllegalArgumentException("CUDA chunked attention: " + why);
            }
            this.version = version;
            this.pb = pb;
            long size = 4L * pb.rows() * pb.length() * pb.dim();
            long items = (long) pb.rows() * pb.items();
            q = DeviceBuffer.of(qHost);
            k = pb.spec().sharedQk() ? null : DeviceBuffer.of(kHost);
            keys = pb.spec().sharedQk() ? DeviceBuffer.allocate(size) : null;
            v = DeviceBuffer.of(vHost);
            sorted = pb.sortedIndex() == null ? null : DeviceBuffer.of(pb.sortedIndex());
            padding = pb.padding() == null ? null : DeviceBuffer.of(pb.padding());
            perItem = DeviceBuffer.allocate(4 * items * pb.dim());
            lse = DeviceBuffer.allocate(4 * items);
            combined = DeviceBuffer.allocate(size);
        }

        /** The window tile: 32 keys and values, their positions and past-an-end flags. */
        private int sharedBytes() {
            return 4 * (2 * TILE * pb.dim() + 2 * TILE);
        }

        /** v2's key side tile: 32 queries and their output gradients, positions, logsumexps, their gradients, deltas. */
        private int queryTileBytes() {
            return 4 * (2 * TILE * pb.dim() + 4 * TILE);
        }

        private int threads() {
            return pb.spec().chunkLength() * version.threadsPerSlot(pb.dim());
        }

        private String kernel(String pass) {
            return "chunked_attention_" + pass + "_" + version.name().toLowerCase(java.util.Locale.ROOT) + "_d" + pb.dim();
        }

        private Cuda.Arg[] window() {
            ChunkedAttentionSpec s = pb.spec();
            return new Cuda.Arg[] {Cuda.Arg.of(s.rounds()), Cuda.Arg.of(pb.length()), Cuda.Arg.of(s.chunkLength()),
                Cuda.Arg.of(s.chunksBefore()), Cuda.Arg.of(s.chunksAfter()), Cuda.Arg.of(s.cyclic()), Cuda.Arg.of(s.causal()),
                Cuda.Arg.of(s.sharedQk()), Cuda.Arg.of((float) s.scale()),
                Cuda.Arg.of(s.sharedQk() ? (float) s.selfMaskValue() : 0f)};
        }

        private static Cuda.Arg argOf(DeviceBuffer b) {
            return b == null ? Cuda.Arg.none() : b.arg();
        }

        private static Cuda.Arg[] concat(Cuda.Arg[] a, Cuda.Arg[] b) {
            Cuda.Arg[] out = java.util.Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }

        private int rowsBlocks() {
            return (pb.rows() * pb.length() + 7) / 8;
        }

        private int positionBlocks() {
            return (pb.rows() * pb.length() + 255) / 256;
        }

        /** Normalised keys (shared QK), the chunked forward and the round combination, asynchronously. */
        public void forward() {
            int rows = pb.rows() * pb.length();
            if (keys != null) {
                Cuda.launch("normalize_rows", rowsBlocks(), 1, 256, 0, q.arg(), keys.arg(), Cuda.Arg.of(rows),
                        Cuda.Arg.of(pb.dim()));
            }
            Cuda.launch(kernel("forward"), pb.chunks(), pb.rows(), threads(), sharedBytes(),
                    concat(new Cuda.Arg[] {q.arg(), argOf(keys != null ? keys : k), v.arg(), argOf(sorted), argOf(padding),
                        perItem.arg(), lse.arg()}, window()));
            Cuda.launch("combine_rounds", positionBlocks(), 1, 256, 0, perItem.arg(), lse.arg(), combined.arg(),
                    Cuda.Arg.of(pb.rows()), Cuda.Arg.of(pb.spec().rounds()), Cuda.Arg.of(pb.length()), Cuda.Arg.of(pb.dim()));
        }

        /** Gradients of q, k and v from that of the combined output, asynchronously; {@link #forward} must have run. */
        public void backward(DeviceBuffer dCombined) {
            long size = 4L * pb.rows() * pb.length() * pb.dim();
            long items = (long) pb.rows() * pb.items();
            if (dq == null) {
                dq = DeviceBuffer.allocate(size);
                dv = DeviceBuffer.allocate(size);
                dKeys = DeviceBuffer.allocate(size);
                dOut = DeviceBuffer.allocate(4 * items * pb.dim());
                dLse = DeviceBuffer.allocate(4 * items);
            }
            Cuda.launch("combine_rounds_backward", positionBlocks(), 1, 256, 0, perItem.arg(), lse.arg(), dCombined.arg(),
                    dOut.arg(), dLse.arg(), Cuda.Arg.of(pb.rows()), Cuda.Arg.of(pb.spec().rounds()), Cuda.Arg.of(pb.length()),
                    Cuda.Arg.of(pb.dim()));
            Cuda.Arg keysArg = argOf(keys != null ? keys : k);
            if (version == Version.V1) {
                dq.zero();
                dv.zero();
                dKeys.zero();
                Cuda.launch(kernel("backward"), pb.chunks(), pb.rows(), threads(), sharedBytes(),
                        concat(new Cuda.Arg[] {q.arg(), keysArg, v.arg(), argOf(sorted), argOf(padding), perItem.arg(), lse.arg(),
                            dOut.arg(), dLse.arg(), dq.arg(), dKeys.arg(), dv.arg()}, window()));
            } else {
                if (itemGradients == null) {
                    itemGradients = DeviceBuffer.allocate(4 * items * pb.dim());
                    dvItems = DeviceBuffer.allocate(4 * items * pb.dim());
                    deltas = DeviceBuffer.allocate(4 * items);
                }
                Cuda.launch(kernel("backward_queries"), pb.chunks(), pb.rows(), threads(), sharedBytes(),
                        concat(new Cuda.Arg[] {q.arg(), keysArg, v.arg(), argOf(sorted), argOf(padding), perItem.arg(), lse.arg(),
                            dOut.arg(), dLse.arg(), itemGradients.arg(), deltas.arg()}, window()));
                sumRounds(itemGradients, dq);  // dq added up, its per-item buffer is free for dk
                Cuda.launch(kernel("backward_keys"), pb.chunks(), pb.rows(), threads(), queryTileBytes(),
                        concat(new Cuda.Arg[] {q.arg(), keysArg, v.arg(), argOf(sorted), argOf(padding), lse.arg(), dOut.arg(),
                            dLse.arg(), deltas.arg(), itemGradients.arg(), dvItems.arg()}, window()));
                sumRounds(itemGradients, dKeys);
                sumRounds(dvItems, dv);
            }
            if (keys != null) {
                Cuda.launch("normalize_rows_backward", rowsBlocks(), 1, 256, 0, q.arg(), dKeys.arg(), dq.arg(),
                        Cuda.Arg.of(pb.rows() * pb.length()), Cuda.Arg.of(pb.dim()));
            } else {
                dk = dKeys;
            }
        }

        /** total (N, L, D) = the sum over rounds of items (N, K*L, D), in round order. */
        private void sumRounds(DeviceBuffer itemsBuffer, DeviceBuffer total) {
            long elements = (long) pb.rows() * pb.length() * pb.dim();
            Cuda.launch("sum_rounds", (int) ((elements + 255) / 256), 1, 256, 0, itemsBuffer.arg(), total.arg(),
                    Cuda.Arg.of(pb.rows()), Cuda.Arg.of(pb.spec().rounds()), Cuda.Arg.of(pb.length()), Cuda.Arg.of(pb.dim()));
        }

        @Override
        public void close() {
            for (DeviceBuffer b : new DeviceBuffer[] {q, k, keys, v, sorted, padding, perItem, lse, combined, dq, dv, dKeys,
                dOut, dLse, itemGradients, dvItems, deltas}) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
