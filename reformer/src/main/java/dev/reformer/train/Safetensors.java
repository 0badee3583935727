package dev.reformer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (as Hugging Face's {@code safetensors} library reads it): an 8-byte
 * little-endian header length N, N bytes of JSON header, then the tensors' raw little-endian bytes,
 * back to back. The header maps each tensor's name to {@code {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]}} (offsets into the data) and may hold {@code "__metadata__"}, a
 * map of strings. This class adds one metadata entry of its own, {@code sha256}: the SHA-256 of
 * the whole file as written with that entry's 64 hex digits set to '0', so that a change to any
 * byte, header or data, is found; {@link #decode} checks it when present, and
 * {@code requireChecksum} refuses a file without it.
 *
 * <pre>{@code
 * byte[] file = Safetensors.encode(Map.of("w", w), Map.of("step", "100"));
 * Safetensors.Contents c = Safetensors.decode(file, "model.safetensors");
 * }</pre>
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CHECKSUM = "sha256";
    private static final String ZEROS = "0".repeat(64);

    private Safetensors() {
    }

    /** Tensors by name in file order, and the string metadata (checksum included). */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /** The file's bytes for {@code tensors} (float32 or float64) and {@code metadata}. */
    public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        tensors.forEach((name, t) -> {
            byte[] bytes = bytesOf(name, t);
            ObjectNode entry = header.putObject(name);
            entry.put("dtype", t.dtype() == DType.FLOAT32 ? "F32" : "F64");
            ArrayNode shape = entry.putArray("shape");
            for (long s : t.shape()) {
                shape.add(s);
            }
            entry.putArray("data_offsets").add(data.size()).add(data.size() + bytes.length);
            data.writeBytes(bytes);
        });
        byte[] body = data.toByteArray();
        metadata.forEach(meta::put);
        meta.put(CHECKSUM, ZEROS);
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;               // spaces, so the data starts 8-byte aligned
        ByteBuffer file = ByteBuffer.allocate(8 + padded + body.length).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            file.put((byte) ' ');
        }
        file.put(body);
        byte[] bytes = file.array();
        int at = checksumAt(bytes, 8, padded);
        byte[] digest = sha256(bytes).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digest, 0, bytes, at, digest.length);
        return bytes;
    }

    /** Where the checksum's 64 hex digits start in the header, or -1 when the header has none. */
    private static int checksumAt(byte[] file, int from, int length) {
        byte[] key = ("\"" + CHECKSUM + "\":\"").getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = from; i + key.length + 64 <= from + length; i++) {
            for (int j = 0; j < key.length; j++) {
                if (file[i + j] != key[j]) {
                    continue outer;
                }
            }
            return i + key.length;
        }
        return -1;
    }

    /**
     * Reads a file made by {@link #encode} (or any safetensors file of F32/F64 tensors);
     * {@code where} names it in errors. With {@code requireChecksum}, a file without the checksum
     * is refused too.
     */
    public static Contents decode(byte[] file, String where, boolean requireChecksum) {
        if (file.length < 8) {
            throw corrupt(where, "it has " + file.length + " bytes, fewer than the 8 of the header length");
        }
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = in.getLong();
        if (headerLength < 2 || headerLength > file.length - 8) {
            throw corrupt(where, "its header length " + headerLength + " does not fit a file of " + file.length + " bytes");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(file, 8, (int) headerLength, StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw corrupt(where, "its header is not valid JSON");
        }
        if (header == null || !header.isObject()) {
            throw corrupt(where, "its header is not a JSON object");
        }
        int dataStart = 8 + (int) headerLength;
        int dataLength = file.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode meta = header.get("__metadata__");
        if (meta != null) {
            meta.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
        }
        String checksum = metadata.get(CHECKSUM);
        if (checksum == null && requireChecksum) {
            throw corrupt(where, "its header has no checksum");
        }
        if (checksum != null) {
            int at = checksumAt(file, 8, (int) headerLength);
            byte[] zeroed = file.clone();
            if (at >= 0) {
                System.arraycopy(ZEROS.getBytes(StandardCharsets.US_ASCII), 0, zeroed, at, 64);
            }
            if (at < 0 || !checksum.equals(sha256(zeroed))) {
                throw corrupt(where, "its bytes do not match the checksum in its header (truncated or changed on disk)");
            }
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        long expectedBegin = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode entry = e.getValue();
            String dtype = entry.path("dtype").asText();
            JsonNode offsets = entry.path("data_offsets");
            JsonNode shapeNode = entry.path("shape");
            if (!(dtype.equals("F32") || dtype.equals("F64")) || offsets.size() != 2 || !shapeNode.isArray()) {
                throw corrupt(where, "tensor '" + e.getKey() + "' has dtype '" + dtype + "', offsets " + offsets
                        + " and shape " + shapeNode + "; expected F32 or F64, two offsets and a shape");
            }
            long[] shape = new long[shapeNode.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0 || shape[i] > Integer.MAX_VALUE) {
                    throw corrupt(where, "tensor '" + e.getKey() + "' has shape " + shapeNode + "; sizes must be whole numbers >= 0");
                }
                count = Math.multiplyExact(count, shape[i]);
            }
            int width = dtype.equals("F32") ? 4 : 8;
            long begin = offsets.get(0).asLong();
            long end = offsets.get(1).asLong();
            if (begin != expectedBegin || end - begin != count * width || end > dataLength) {
                throw corrupt(where, "tensor '" + e.getKey() + "' claims bytes " + begin + ".." + end + " of " + dataLength
                        + " for shape " + shapeNode);
            }
            ByteBuffer bytes = ByteBuffer.wrap(file, dataStart + (int) begin, (int) (end - begin)).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (width == 4) {
                float[] values = new float[(int) count];
                bytes.asFloatBuffer().get(values);
                tensors.put(e.getKey(), Tensor.of(values, shape));
            } else {
                double[] values = new double[(int) count];
                bytes.asDoubleBuffer().get(values);
                tensors.put(e.getKey(), Tensor.of(values, shape));
            }
            expectedBegin = end;
        }
        if (expectedBegin != dataLength) {
            throw corrupt(where, "its tensors cover " + expectedBegin + " of its " + dataLength + " data bytes");
        }
        return new Contents(tensors, metadata);
    }

    private static byte[] bytesOf(String name, Tensor t) {
        if (t.dtype() == DType.FLOAT32) {
            float[] v = t.toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            return b.array();
        }
        if (t.dtype() == DType.FLOAT64) {
            double[] v = t.toDoubleArray();
            ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(v);
            return b.array();
        }
        throw new IllegalArgumentException("safetensors: tensor '" + name + "' is " + t.dtype().label()
                + "; only float32 and float64 are written");
    }

    static String sha256(byte[] bytes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bytes);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static TrainException corrupt(String where, String why) {
        return new TrainException(where + " is not a readable checkpoint: " + why + "; use an earlier copy or retrain");
    }
}
