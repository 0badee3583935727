package dev.reformer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private final FileOutputStream file;
    private final BufferedWriter out;

    private MetricsLog(FileOutputStream file) {
        this.file = file;
        this.out = new BufferedWriter(new OutputStreamWriter(file, StandardCharsets.UTF_8));
    }

    /** Opens {@code dir/metrics.jsonl} for appending. */
    public static MetricsLog append(Path dir) throws IOException {
        return new MetricsLog(new FileOutputStream(dir.resolve(FILE).toFile(), true));
    }

    /** Forces every line written so far to disk (before a checkpoint, so the file never lags behind it). */
    public void sync() throws IOException {
        out.flush();
        file.getFD().sync();
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

    /** The lines of {@code dir/metrics.jsonl}, parsed; a missing file has none; a last line cut by a crash is left out. */
    public static List<JsonNode> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        List<JsonNode> lines = new ArrayList<>();
        if (!Files.exists(file)) {
            return lines;
        }
        List<String> texts = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text.isBlank()) {
                continue;
            }
            try {
                lines.add(JSON.readTree(text));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                if (i < texts.size() - 1) {
                    throw new TrainException(file + ": line " + (i + 1) + " is not JSON: restore the file or start a new run");
                }
            }
        }
        return lines;
    }

    /**
     * For a resume from the checkpoint of {@code step}: checks that the file holds the train line
     * of every step 1..step, in order (it cannot have lost lines the checkpoint depends on), then
     * keeps the lines of steps up to {@code step} and drops the rest, which the resumed run writes
     * again, replacing the file atomically. Nothing is changed when the check fails.
     */
    public static void truncateAfter(Path dir, long step) throws IOException {
        StringBuilder kept = new StringBuilder();
        long trainLines = 0;
        for (JsonNode line : read(dir)) {
            long s = line.path("step").asLong(-1);
            if (s >= 1 && s <= step) {
                if ("train".equals(line.path("split").asText()) && s == trainLines + 1) {
                    trainLines++;
                }
                kept.append(line).append('\n');
            }
        }
        if (trainLines != step) {
            throw new TrainException(dir.resolve(FILE) + " holds the train lines of steps 1.." + trainLines + " but the checkpoint"
                    + " is at step " + step + ": the file was edited or lost lines; restore it or start a new run");
        }
        Checkpoint.writeAtomically(dir.resolve(FILE), kept.toString().getBytes(StandardCharsets.UTF_8));
    }
}
