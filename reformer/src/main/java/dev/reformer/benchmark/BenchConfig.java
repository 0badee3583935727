package dev.reformer.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * One configuration of {@code bin/reformer bench}: what runs, at which size, which pass.
 *
 * <ul>
 *   <li>{@code attention}: one head, D = 64, {@link Workloads#TOKENS} tokens in all (B = 16384 / L,
 *       one sequence beyond), chunk 64; {@code variant} full, local or lshK (K rounds, NB = L / 64);</li>
 *   <li>{@code lm}: the ReformerLM step of {@link Workloads} (d = 256, 6 layers, L = 4096, LSH K = 4);</li>
 *   <li>{@code stack}: {@link Workloads#stack} at {@code depth}, variant reversible or ordinary;</li>
 *   <li>{@code ffchunks}: {@link Workloads#feedForwardChunks} with {@code chunks} pieces;</li>
 *   <li>{@code table3}: {@link Workloads#table3}, one of the paper's Table 3 variants at {@code depth} layers;</li>
 *   <li>{@code sgemm}: the machine's float32 matrix product (ND4J's BLAS) of two {@code length x length}
 *       matrices, the yardstick the attention rows' GFLOP/s are read against.</li>
 * </ul>
 */
public record BenchConfig(String kind, String variant, int length, int hashes, boolean causal, String pass, int depth,
        int chunks) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public BenchConfig {
        switch (kind) {
            case "attention" -> {
                if (!variant.matches("full|local|lsh[1-9][0-9]*")) {
                    throw new IllegalArgumentException("unknown attention variant '" + variant + "': use full, local or lshK"
                            + " (lsh1, lsh2, lsh4, lsh8)");
                }
                if (length < Workloads.CHUNK || length % Workloads.CHUNK != 0) {
                    throw new IllegalArgumentException("length " + length + " does not fit the chunking: use a multiple of "
                            + Workloads.CHUNK + " (the chunk length)");
                }
            }
            case "table3" -> {
                if (!Workloads.TABLE3_VARIANTS.contains(variant)) {
                    throw new IllegalArgumentException("unknown Table 3 variant '" + variant + "': use "
                            + String.join(", ", Workloads.TABLE3_VARIANTS));
                }
            }
            case "lm", "stack", "ffchunks", "sgemm" -> { }
            default -> throw new IllegalArgumentException("unknown benchmark kind '" + kind + "'");
        }
        if (!pass.equals("fwd") && !pass.equals("fwd+bwd")) {
            throw new IllegalArgumentException("pass '" + pass + "': use fwd or fwd+bwd");
        }
    }

    public static BenchConfig attention(String variant, int length, boolean causal, String pass) {
        int k = variant.startsWith("lsh") ? Integer.parseInt(variant.substring(3)) : 0;
        return new BenchConfig("attention", variant, length, k, causal, pass, 1, 1);
    }

    /** Sequences per call: the tokens in all divided by the length (at least one). */
    public int batch() {
        return switch (kind) {
            case "attention" -> Math.max(1, Workloads.TOKENS / length);
            default -> 1;
        };
    }

    public int dim() {
        return switch (kind) {
            case "attention" -> Workloads.DIM;
            case "stack" -> 128;
            case "table3" -> Workloads.T3_D_MODEL;
            default -> 256;
        };
    }

    public Workloads.Step step(long seed) {
        return switch (kind) {
            case "attention" -> Workloads.attention(new Workloads.Config(variant.startsWith("lsh") ? "lsh" : variant, length,
                    Math.max(1, hashes), causal), pass.equals("fwd+bwd"), seed);
            case "lm" -> Workloads.build(Workloads.Config.parse("lm"), seed);
            case "stack" -> Workloads.stack(depth, variant.equals("reversible"), seed);
            case "table3" -> Workloads.table3(variant, length, depth, seed);
            case "sgemm" -> sgemm(length);
            default -> Workloads.feedForwardChunks(chunks, seed);
        };
    }

    /** One float32 product {@code C = A B} of n x n matrices into a preallocated C, as BLAS runs it at its best. */
    private static Workloads.Step sgemm(int n) {
        dev.reformer.tensor.NativeSettings.apply(); // ND4J loads here, before any tensor: the engine's BLAS settings first
        org.nd4j.linalg.api.ndarray.INDArray a = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, n);
        org.nd4j.linalg.api.ndarray.INDArray b = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, n);
        org.nd4j.linalg.api.ndarray.INDArray c = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, n);
        return () -> org.nd4j.linalg.factory.Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
    }

    /** The sgemm yardstick at n = 2048. */
    public static BenchConfig sgemm() {
        return new BenchConfig("sgemm", "sgemm", 2048, 0, false, "fwd", 1, 1);
    }

    /**
     * Floating-point operations of one call, counted once in the report: attention forward
     * {@code 4 B L W D} (logits and weighted sum, W keys per query: L for full attention, L/2
     * causal; 2C for local; K 2C for LSH) plus LSH hashing {@code 2 B L D K NB/2}; a backward
     * costs twice the forward. Model steps: {@code 6 N T} for N parameters in matrix products and
     * T tokens, the usual count, not measured here (null), except Table 3's variants, counted as
     * the trainer counts a step ({@code ComputeEstimate#trainingFlopsPerToken}).
     */
    public double flops() {
        if (kind.equals("sgemm")) {
            return 2.0 * length * length * length;
        }
        if (kind.equals("table3")) {
            return dev.reformer.train.ComputeEstimate.trainingFlopsPerToken(Workloads.table3Config(variant, length, depth, 0),
                    length) * length;
        }
        if (!kind.equals("attention")) {
            return Double.NaN;
        }
        double b = batch();
        double l = length;
        double d = Workloads.DIM;
        double keys = switch (variant) {
            case "full" -> causal ? l / 2 : l;
            case "local" -> 2.0 * Workloads.CHUNK;
            default -> hashes * 2.0 * Workloads.CHUNK;
        };
        double forward = 4 * b * l * keys * d;
        if (variant.startsWith("lsh")) {
            forward += 2 * b * l * d * hashes * (l / Workloads.CHUNK) / 2;
        }
        return pass.equals("fwd") ? forward : 3 * forward;
    }

    /**
     * The memory one call needs, estimated for the refusal up front: for attention, 16 tensors of
     * B x L x D floats (queries, keys, values, output, their gradients, the sorted copies and the
     * kernel's scratch, K-fold for LSH's rounds); full attention runs in tiles and never holds an
     * L x L matrix, so it is counted the same way (a naive L x L one would need 4 B L^2 bytes more).
     * Model steps: 0 (their sizes are fixed and known to fit).
     */
    public long estimatedBytes() {
        if (!kind.equals("attention")) {
            return 0;
        }
        long rounds = Math.max(1, hashes);
        return 16L * batch() * length * Workloads.DIM * 4 * rounds;
    }

    /** A short label: {@code LSH K=4, L=4096, fwd+bwd}. */
    public String label() {
        return switch (kind) {
            case "attention" -> (variant.startsWith("lsh") ? "LSH K=" + hashes : variant) + ", L=" + length
                    + (causal ? ", causal" : "") + ", " + pass;
            case "lm" -> "ReformerLM step (d=256, 6 layers, L=4096, LSH K=4)";
            case "stack" -> variant + " stack, depth " + depth;
            case "table3" -> "Table 3 " + variant + ", L=" + length + ", " + depth + " layers";
            case "sgemm" -> "sgemm " + length + "x" + length + "x" + length + " (BLAS)";
            default -> "feed-forward in " + chunks + " chunk(s)";
        };
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", kind);
        n.put("variant", variant);
        n.put("L", length);
        n.put("n_hashes", hashes);
        n.put("causal", causal);
        n.put("pass", pass);
        n.put("depth", depth);
        n.put("chunks", chunks);
        return n.toString();
    }

    public static BenchConfig fromJson(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            return new BenchConfig(n.get("kind").asText(), n.get("variant").asText(), n.get("L").asInt(),
                    n.get("n_hashes").asInt(), n.get("causal").asBoolean(), n.get("pass").asText(), n.get("depth").asInt(),
                    n.get("chunks").asInt());
        } catch (com.fasterxml.jackson.core.JsonProcessingException | NullPointerException e) {
            throw new IllegalArgumentException("not a benchmark configuration: " + text);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s", label());
    }
}
