package dev.reformer.train;

import dev.reformer.autograd.Variable;
import dev.reformer.autograd.optim.Adam;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint: one {@link Safetensors} file holding the model's parameters under their
 * names ({@code blocks.0.f.attention.qk.weight}, ...), Adam's moments under
 * {@code optimizer.m.<name>} and {@code optimizer.v.<name>}, and in the metadata the step, the
 * seed (every random stream of a run derives from the seed and the step, see {@link Seeds}),
 * Adam's per-parameter update counts and the run's config. Python reads the weights with
 * {@code safetensors.torch.load_file}.
 *
 * <p>Written atomically: to a temporary file in the same directory, forced to disk, then renamed
 * over the old checkpoint, so a crash at any moment leaves either the old or the new one whole.
 */
public final class Checkpoint {
    public static final String FILE = "checkpoint.safetensors";
    static final String FORMAT = "reformer-checkpoint/1";

    private Checkpoint() {
    }

    /** Writes the checkpoint of {@code step} completed steps to {@code dir/checkpoint.safetensors}. */
    public static void save(Path dir, long step, TrainConfig config, ReformerLM model, Adam adam) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> tensors.put(name, p.data()));
        List<String> names = new ArrayList<>(model.namedParameters().keySet());
        Adam.State state = adam.state();
        StringBuilder steps = new StringBuilder("[");
        for (int i = 0; i < names.size(); i++) {
            if (state.m()[i] != null) {
                tensors.put("optimizer.m." + names.get(i), state.m()[i]);
                tensors.put("optimizer.v." + names.get(i), state.v()[i]);
            }
            steps.append(i == 0 ? "" : ",").append(state.steps()[i]);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Long.toString(step));
        meta.put("seed", Long.toString(config.seed()));
        meta.put("optimizer", "adam");
        meta.put("optimizer.steps", steps.append("]").toString());
        meta.put("config", config.toJson());
        writeAtomically(dir.resolve(FILE), Safetensors.encode(tensors, meta));
    }

    /**
     * Reads {@code file} into {@code model} and {@code adam} (built from the same config) and
     * returns its step; throws a {@link TrainException} naming the problem if the file is
     * missing, truncated, corrupted or of another model, before changing anything.
     */
    public static long load(Path file, ReformerLM model, Adam adam) throws IOException {
        Safetensors.Contents c = read(file);
        String where = file.toString();
        long step = stepOf(c, where);
        requireParameters(c, model, where);
        List<String> names = new ArrayList<>(model.namedParameters().keySet());
        long[] steps = parseSteps(c.metadata().get("optimizer.steps"), names.size(), where);
        Tensor[] m = new Tensor[names.size()];
        Tensor[] v = new Tensor[names.size()];
        for (int i = 0; i < names.size(); i++) {
            m[i] = c.tensors().get("optimizer.m." + names.get(i));
            v[i] = c.tensors().get("optimizer.v." + names.get(i));
        }
        try {
            adam.restore(new Adam.State(m, v, steps));
        } catch (IllegalArgumentException e) {
            throw new TrainException(where + ": " + e.getMessage());
        }
        model.namedParameters().forEach((name, p) -> p.setData(c.tensors().get(name)));
        return step;
    }

    /** The weights of a checkpoint into {@code model}, for evaluation and generation; returns its step. */
    public static long loadWeights(Path file, ReformerLM model) throws IOException {
        Safetensors.Contents c = read(file);
        long step = stepOf(c, file.toString());
        requireParameters(c, model, file.toString());
        model.namedParameters().forEach((name, p) -> p.setData(c.tensors().get(name)));
        return step;
    }

    /** The checkpoint's step, after checking its format, its config and that it holds every parameter of {@code model}. */
    private static long stepOf(Safetensors.Contents c, String where) {
        Map<String, String> meta = c.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new TrainException(where + " is not a reformer checkpoint (format '" + meta.get("format") + "', expected '"
                    + FORMAT + "')");
        }
        TrainConfig config = TrainConfig.fromJson(meta.getOrDefault("config", ""), where + " (its config)");
        long step = parseLong(meta.get("step"), "step", where);
        if (step < 1 || step > config.steps()) {
            throw new TrainException(where + ": step " + step + " is outside 1.." + config.steps() + " of its run");
        }
        return step;
    }

    /** Throws unless {@code c} holds every parameter of {@code model}, of the same shape and dtype. */
    private static void requireParameters(Safetensors.Contents c, ReformerLM model, String where) {
        for (Map.Entry<String, Variable> e : model.namedParameters().entrySet()) {
            Tensor saved = c.tensors().get(e.getKey());
            Tensor now = e.getValue().data();
            if (saved == null) {
                throw new TrainException(where + " has no parameter '" + e.getKey() + "': it was written by a different model");
            }
            if (!java.util.Arrays.equals(saved.shape(), now.shape()) || saved.dtype() != now.dtype()) {
                throw new TrainException(where + ": parameter '" + e.getKey() + "' is " + saved.dtype().label()
                        + saved.shapeString() + " but this model's is " + now.dtype().label() + now.shapeString()
                        + ": the checkpoint was written by a model of another size");
            }
        }
    }

    /** The checkpoint of a run: {@code run/checkpoint.safetensors} for a run directory, else {@code run} itself. */
    public static Path fileOf(Path run) {
        return Files.isDirectory(run) ? run.resolve(FILE) : run;
    }

    /** The step a checkpoint was saved at, read (and its format checked) without building a model. */
    public static long stepOf(Path file) throws IOException {
        return stepOf(read(file), file.toString());
    }

    /** The config stored in a checkpoint, read without building a model. */
    public static TrainConfig configOf(Path file) throws IOException {
        String where = file.toString();
        return TrainConfig.fromJson(read(file).metadata().getOrDefault("config", ""), where + " (its config)");
    }

    private static Safetensors.Contents read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TrainException("no checkpoint at " + file + ": give a run directory that holds " + FILE);
        }
        return Safetensors.decode(bytes, file.toString(), true);
    }

    private static long[] parseSteps(String text, int count, String where) {
        if (text == null || !text.startsWith("[") || !text.endsWith("]")) {
            throw new TrainException(where + " has no optimizer step counts: it is not a training checkpoint");
        }
        String inner = text.substring(1, text.length() - 1).trim();
        String[] parts = inner.isEmpty() ? new String[0] : inner.split(",");
        if (parts.length != count) {
            throw new TrainException(where + " holds optimizer state for " + parts.length + " parameters, this model has " + count);
        }
        long[] steps = new long[count];
        for (int i = 0; i < count; i++) {
            steps[i] = parseLong(parts[i].trim(), "optimizer.steps", where);
        }
        return steps;
    }

    private static long parseLong(String text, String key, String where) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException | NullPointerException e) {
            throw new TrainException(where + ": metadata '" + key + "' is '" + text + "', not a whole number");
        }
    }

    /** Writes {@code bytes} to a temporary file beside {@code target}, forces it to disk, then renames it over {@code target}. */
    public static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // the file system's defaults stand
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);                                    // the rename itself, on file systems that allow it
        } catch (IOException ignored) {
            // some file systems cannot open a directory for syncing; the file itself is on disk
        }
    }
}
