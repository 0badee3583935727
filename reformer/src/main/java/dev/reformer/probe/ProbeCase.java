package dev.reformer.probe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Shapes;
import dev.reformer.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One attention call to probe, read from JSON and checked field by field
 * (the format is {@code shared/specs/attention-probe.md}). Tensors are held as float64 and cast
 * to the case's dtype when it runs.
 */
public record ProbeCase(
        String attention, Tensor qk, Tensor v, Tensor upstreamGrad, boolean causal, double logitScale,
        double selfMaskValue, int hashes, int buckets, int chunkLength, int chunksBefore, int chunksAfter,
        boolean dedupeRounds, Tensor rotations, Long seed, DType dtype) {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // so a NaN is reported by field, not as a parse error
            .build();

    public boolean isLsh() {
        return attention.equals("lsh");
    }

    public long batch() {
        return qk.size(0);
    }

    public long length() {
        return qk.size(1);
    }

    public long dim() {
        return qk.size(2);
    }

    /** The fields of the spec; others are reported as warnings and otherwise ignored. */
    private static final Set<String> FIELDS = Set.of("attention", "qk", "v", "upstream_grad",
            "causal", "logit_scale", "self_mask_value", "n_hashes", "n_buckets", "chunk_length", "chunks_before",
            "chunks_after", "dedupe_rounds", "rotations", "seed", "dtype");

    /** Reads and checks a case file; unknown fields are passed to {@code warnings}. */
    public static ProbeCase read(Path file, Consumer<String> warnings) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ProbeException("cannot read " + file + ": no such file");
        } catch (IOException e) {
            throw new ProbeException("cannot read " + file + ": " + e.getMessage());
        }
        return parse(text, warnings);
    }

    /** Parses and checks a case given as JSON text; unknown fields are passed to {@code warnings}. */
    public static ProbeCase parse(String json, Consumer<String> warnings) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ProbeException("the case is not valid JSON: " + e.getOriginalMessage().replace('\n', ' ')
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new ProbeException("the case must be a JSON object with the fields of the probe spec");
        }
        root.fieldNames().forEachRemaining(name -> {
            if (!FIELDS.contains(name)) {
                warnings.accept("ignoring field '" + name + "', which the probe spec does not define (a typo?)");
            }
        });
        Fields f = new Fields(root);
        String attention = f.string("attention", "\"lsh\" or \"full\"");
        if (!attention.equals("lsh") && !attention.equals("full")) {
            throw new ProbeException("field 'attention' is \"" + attention + "\" but must be \"lsh\" or \"full\"");
        }
        DType dtype = DType.FLOAT32;
        if (root.has("dtype")) {
            String d = f.string("dtype", "\"float32\" or \"float64\"");
            if (!d.equals("float32") && !d.equals("float64")) {
                throw new ProbeException("field 'dtype' is \"" + d + "\" but must be \"float32\" or \"float64\"");
            }
            dtype = DType.parse(d);
        }
        Tensor qk = f.tensor("qk", 3, "[B][L][D]");
        long[] shape = qk.shape();
        Tensor v = f.tensor("v", 3, "[B][L][D]");
        Tensor upstream = f.tensor("upstream_grad", 3, "[B][L][D]");
        sameShape("v", v, qk);
        sameShape("upstream_grad", upstream, qk);
        boolean causal = f.bool("causal");
        double logitScale = f.optionalNumber("logit_scale", 1.0);
        double selfMaskValue = f.optionalNumber("self_mask_value", -1e5);
        if (!attention.equals("lsh")) {
            return new ProbeCase(attention, qk, v, upstream, causal, logitScale, selfMaskValue, 0, 0, 0, 0, 0, false,
                    null, null, dtype);
        }
        int hashes = f.positiveInt("n_hashes");
        int buckets = f.positiveInt("n_buckets");
        if (buckets % 2 != 0) {
            throw new ProbeException("field 'n_buckets' is " + buckets + " but must be even (each bucket is one of the"
                    + " directions +r or -r of a random rotation)");
        }
        int chunkLength = f.positiveInt("chunk_length");
        long items = hashes * shape[1];
        if (items % chunkLength != 0) {
            throw new ProbeException("field 'chunk_length' is " + chunkLength + " but n_hashes * L = " + hashes + " * "
                    + shape[1] + " = " + items + " items must split into whole chunks; use a divisor of " + items);
        }
        int before = f.optionalNonNegativeInt("chunks_before", 1);
        int after = f.optionalNonNegativeInt("chunks_after", 0);
        boolean dedupe = root.has("dedupe_rounds") && f.bool("dedupe_rounds");
        Tensor rotations = null;
        Long seed = null;
        if (root.has("rotations")) {
            rotations = f.tensor("rotations", 4, "[R][D][K][NB/2]");
            long[] r = rotations.shape();
            if ((r[0] != 1 && r[0] != shape[0]) || r[1] != shape[2] || r[2] != hashes || r[3] != buckets / 2) {
                throw new ProbeException("field 'rotations' has shape " + bracketShape(r) + " but must be [R][D][K][NB/2]"
                        + " = [1 or " + shape[0] + "][" + shape[2] + "][" + hashes + "][" + buckets / 2 + "]");
            }
        } else {
            seed = root.has("seed") ? f.integer("seed") : 0L; // rotations drawn from seed, 0 when absent too
        }
        return new ProbeCase(attention, qk, v, upstream, causal, logitScale, selfMaskValue, hashes, buckets,
                chunkLength, before, after, dedupe, rotations, seed, dtype);
    }

    private static void sameShape(String field, Tensor t, Tensor qk) {
        if (!Arrays.equals(t.shape(), qk.shape())) {
            throw new ProbeException("field '" + field + "' has shape " + bracketShape(t.shape()) + " but must match qk's "
                    + bracketShape(qk.shape()));
        }
    }

    static String bracketShape(long[] shape) {
        StringBuilder sb = new StringBuilder();
        for (long s : shape) {
            sb.append('[').append(s).append(']');
        }
        return sb.toString();
    }

    /** Typed access to the case's fields, each failure a one-line message naming the field. */
    private record Fields(JsonNode root) {
        JsonNode required(String name, String expected) {
            JsonNode node = root.get(name);
            if (node == null || node.isNull()) {
                throw new ProbeException("missing field '" + name + "' (" + expected + ")");
            }
            return node;
        }

        String string(String name, String expected) {
            JsonNode node = required(name, expected);
            if (!node.isTextual()) {
                throw new ProbeException("field '" + name + "' must be " + expected + ", got " + describe(node));
            }
            return node.asText();
        }

        boolean bool(String name) {
            JsonNode node = required(name, "true or false");
            if (!node.isBoolean()) {
                throw new ProbeException("field '" + name + "' must be true or false, got " + describe(node));
            }
            return node.asBoolean();
        }

        double optionalNumber(String name, double fallback) {
            if (!root.has(name)) {
                return fallback;
            }
            JsonNode node = root.get(name);
            if (!node.isNumber() || !Double.isFinite(node.asDouble())) {
                throw new ProbeException("field '" + name + "' must be a finite number, got " + describe(node));
            }
            return node.asDouble();
        }

        long integer(String name) {
            JsonNode node = required(name, "an integer");
            if (!node.isIntegralNumber() || !node.canConvertToLong()) {
                throw new ProbeException("field '" + name + "' must be an integer, got " + describe(node));
            }
            return node.asLong();
        }

        int positiveInt(String name) {
            JsonNode node = required(name, "a positive integer");
            if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 1) {
                throw new ProbeException("field '" + name + "' must be a positive integer, got " + describe(node));
            }
            return node.asInt();
        }

        int optionalNonNegativeInt(String name, int fallback) {
            if (!root.has(name)) {
                return fallback;
            }
            JsonNode node = root.get(name);
            if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 0) {
                throw new ProbeException("field '" + name + "' must be a non-negative integer, got " + describe(node));
            }
            return node.asInt();
        }

        /** A rectangular nested array of finite numbers of the given rank, as float64. */
        Tensor tensor(String name, int rank, String expected) {
            JsonNode node = required(name, expected + " array of numbers");
            List<Long> shape = new ArrayList<>();
            JsonNode probe = node;
            for (int axis = 0; axis < rank; axis++) {
                if (!probe.isArray() || probe.isEmpty()) {
                    throw new ProbeException("field '" + name + "' must be a non-empty " + expected + " array of numbers"
                            + " (" + rank + " levels of nesting), got " + describe(probe) + " at depth " + axis);
                }
                shape.add((long) probe.size());
                probe = probe.get(0);
            }
            long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
            double[] values = new double[Math.toIntExact(Shapes.numel(dims))];
            fill(name, expected, node, dims, 0, values, new int[] {0}, "");
            return Tensor.of(values, dims);
        }

        private static void fill(String name, String expected, JsonNode node, long[] dims, int axis, double[] out,
                int[] next, String where) {
            if (axis == dims.length) {
                if (!node.isNumber()) {
                    throw new ProbeException("field '" + name + "' value " + name + where + " must be a number, got "
                            + describe(node));
                }
                double value = node.asDouble();
                if (!Double.isFinite(value)) {
                    throw new ProbeException("field '" + name + "' value " + name + where + " is " + value
                            + "; every value must be a finite number");
                }
                out[next[0]++] = value;
                return;
            }
            if (!node.isArray() || node.size() != dims[axis]) {
                throw new ProbeException("field '" + name + "' must be a rectangular " + expected + " array: " + name + where
                        + " has " + (node.isArray() ? node.size() + " entries" : "a " + describe(node))
                        + " where " + dims[axis] + " are expected");
            }
            for (int i = 0; i < dims[axis]; i++) {
                fill(name, expected, node.get(i), dims, axis + 1, out, next, where + "[" + i + "]");
            }
        }

        private static String describe(JsonNode node) {
            if (node.isTextual()) {
                return "the string \"" + node.asText() + "\"";
            }
            if (node.isArray()) {
                return "an array of " + node.size();
            }
            if (node.isObject()) {
                return "an object";
            }
            return node.toString();
        }
    }
}
