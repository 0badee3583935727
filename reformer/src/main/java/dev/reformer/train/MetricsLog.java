package dev.reformer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per line, written as it happens. Every line has
 * {@code step} (updates completed), {@code split} ({@code train} or {@code eval}), {@code loss}
 * and the task's metric ({@code accuracy} or {@code bpc}); train lines add {@code lr}; the
 * wall-clock fields {@code tokens_per_s} and {@code wall_s} are the only ones that differ between
 * two runs of the same config.
 */
public final class MetricsLog implements AutoCloseable {
    public static final String FILE = "metrics.jsonl";
    /** Fields that measure time, not the computation: left out when two runs are compared. */
    public static final List<String> WALL_CLOCK_FIELDS = List.of("tokens_per_s", "wall_s");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    private MetricsLog(BufferedWriter out) {
        this.out = out;
    }

    /** Opens {@code dir/metrics.jsonl} for appending. */
    public static MetricsLog append(Path dir) throws IOException {
        return new MetricsLog(Files.newBufferedWriter(dir.resolve(FILE), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND));
    }

    public static ObjectNode line(long step, String split) {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", step);
        n.put("split", split);
        return n;
    }

    public void write(ObjectNode line) throws IOException {
        out.write(line.toString());
        out.write('\n');
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** The lines of {@code dir/metrics.jsonl}, parsed; a missing file has none. */
    public static List<JsonNode> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        List<JsonNode> lines = new ArrayList<>();
        if (!Files.exists(file)) {
            return lines;
        }
        for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (text.isBlank()) {
                continue;
            }
            try {
                lines.add(JSON.readTree(text));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                break;                                  // a line cut by a crash: everything before it stands
            }
        }
        return lines;
    }

    /**
     * Keeps the lines of steps up to {@code step} and drops the rest (those a resumed run will
     * write again), replacing the file atomically.
     */
    public static void truncateAfter(Path dir, long step) throws IOException {
        StringBuilder kept = new StringBuilder();
        for (JsonNode line : read(dir)) {
            if (line.path("step").asLong() <= step) {
                kept.append(line).append('\n');
            }
        }
        Checkpoint.writeAtomically(dir.resolve(FILE), kept.toString().getBytes(StandardCharsets.UTF_8));
    }
}
