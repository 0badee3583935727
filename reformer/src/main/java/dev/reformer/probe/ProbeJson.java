package dev.reformer.probe;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a probe result as JSON: nested arrays, numbers with 9 significant digits for float32
 * results and 17 for float64 (enough to read back the exact value).
 */
public final class ProbeJson {
    private ProbeJson() {
    }

    /** Writes {@code r} to {@code out}; a result that is not finite everywhere is refused first. */
    public static void write(Probe.Result r, Path out) throws IOException {
        checkFinite(r);
        try (OutputStream os = Files.newOutputStream(out);
                JsonGenerator g = new JsonFactory().createGenerator(os, JsonEncoding.UTF8)) {
            int digits = r.probeCase().dtype() == DType.FLOAT64 ? 17 : 9;
            g.writeStartObject();
            writeTensor(g, "output", r.output(), digits);
            writeTensor(g, "grad_qk", r.gradQk(), digits);
            writeTensor(g, "grad_v", r.gradV(), digits);
            if (r.buckets() != null) {
                g.writeFieldName("buckets");
                long[] b = r.buckets().toLongArray();
                long rows = r.buckets().size(0);
                int items = (int) r.buckets().size(1);
                g.writeStartArray();
                for (int row = 0; row < rows; row++) {
                    g.writeArray(b, row * items, items);
                }
                g.writeEndArray();
            }
            g.writeFieldName("loss");
            g.writeNumber(format(r.loss(), digits));
            g.writeEndObject();
        }
    }

    private static void writeTensor(JsonGenerator g, String name, Tensor t, int digits) throws IOException {
        g.writeFieldName(name);
        double[] values = t.toDoubleArray();
        long[] shape = t.shape();
        writeNested(g, values, shape, 0, new int[] {0}, digits);
    }

    private static void writeNested(JsonGenerator g, double[] values, long[] shape, int axis, int[] next, int digits)
            throws IOException {
        g.writeStartArray();
        for (int i = 0; i < shape[axis]; i++) {
            if (axis == shape.length - 1) {
                g.writeNumber(format(values[next[0]++], digits));
            } else {
                writeNested(g, values, shape, axis + 1, next, digits);
            }
        }
        g.writeEndArray();
    }

    static String format(double value, int digits) {
        return String.format(Locale.ROOT, "%." + digits + "g", value);
    }

    private static void checkFinite(Probe.Result r) {
        String[] names = {"output", "grad_qk", "grad_v"};
        Tensor[] tensors = {r.output(), r.gradQk(), r.gradV()};
        for (int f = 0; f < names.length; f++) {
            double[] values = tensors[f].toDoubleArray();
            for (int i = 0; i < values.length; i++) {
                if (!Double.isFinite(values[i])) {
                    throw new ProbeException("the result's '" + names[f] + "' holds " + values[i] + " at flat index " + i
                            + ": the inputs overflow " + r.probeCase().dtype().label()
                            + "; use \"dtype\": \"float64\" or smaller values");
                }
            }
        }
    }
}
