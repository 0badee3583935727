package dev.reformer.train;

import dev.reformer.tensor.Generator;
import dev.reformer.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Byte-level language modelling on a file: every byte is a token (vocabulary 256, or fewer for a
 * 7-bit text), the model predicts each next byte, and the metric is bits per character on the
 * validation split. The file is split in order into 90% training, 5% validation and 5% test, which
 * for enwik8 (10^8 bytes) is the usual 90M / 5M / 5M split.
 *
 * <p>A training batch of step s is B windows of L + 1 bytes at offsets drawn from the seed and s
 * (inputs the first L, targets the last L). The evaluation set is the validation split cut into
 * consecutive windows, each read once, batch i holding windows i B .. i B + B - 1: the first
 * {@code --eval-batches} batches of them, or all (the whole split) when it has fewer.
 *
 * <p>Without {@code --data}, the embedded text is Shakespeare's Sonnets (1609, public domain;
 * 95,000 bytes; see {@code sonnets.SOURCE.md} beside it), so the task runs offline on a fresh machine.
 */
public final class CharLmTask implements Task {
    static final String EMBEDDED = "sonnets.txt";

    private final String source;
    private final byte[] text;
    private final int vocab;
    private final int length;
    private final long seed;
    private final int trainEnd;
    private final int validEnd;

    private CharLmTask(String source, byte[] text, int vocab, int length, long seed) {
        this.source = source;
        this.text = text;
        this.vocab = vocab;
        this.length = length;
        this.seed = seed;
        this.trainEnd = (int) (text.length * 0.90);
        this.validEnd = (int) (text.length * 0.95);
    }

    /** The task on {@code data} (a file path, or empty for the embedded text); checks the file first. */
    public static CharLmTask of(String data, int vocab, int length, long seed) {
        return of(data, vocab, length, seed, "");
    }

    /**
     * The same, and when {@code sha256} is not empty, the file must still have that SHA-256 (a
     * resumed or evaluated run reads the text it was trained on, or says so).
     */
    public static CharLmTask of(String data, int vocab, int length, long seed, String sha256) {
        if (vocab < 2 || vocab > 256) {
            throw new TrainException("--vocab " + vocab + " must be between 2 and 256 (bytes are the tokens)");
        }
        if (length < 1) {
            throw new TrainException("--length " + length + " must be at least 1");
        }
        byte[] text;
        String source;
        if (data == null || data.isEmpty()) {
            source = "the embedded Shakespeare's Sonnets";
            try (InputStream in = CharLmTask.class.getResourceAsStream(EMBEDDED)) {
                text = in.readAllBytes();
            } catch (IOException | NullPointerException e) {
                throw new IllegalStateException("the embedded text " + EMBEDDED + " is missing from the jar", e);
            }
        } else {
            source = data;
            Path file = Path.of(data);
            if (Files.isDirectory(file)) {
                throw new TrainException("--data " + data + " is a directory: give a text file");
            }
            try {
                text = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                throw new TrainException("--data " + data + ": no such file");
            } catch (IOException e) {
                throw new TrainException("--data " + data + " cannot be read: " + e.getMessage());
            }
            if (text.length == 0) {
                throw new TrainException("--data " + data + " is empty: give a text file");
            }
        }
        if (!sha256.isEmpty() && !sha256.equals(Safetensors.sha256(text))) {
            throw new TrainException("--data " + source + " has changed since the run started (its SHA-256 differs): restore"
                    + " the file the run was trained on, or start a new run");
        }
        long needed = 20L * (length + 1) + 1;
        if (text.length < needed) {
            throw new TrainException("--data " + source + " is too short: " + text.length + " bytes, but its 5% validation"
                    + " split must hold one window of --length " + length + " + 1 bytes: give at least " + needed
                    + " bytes or a smaller --length");
        }
        for (int i = 0; i < text.length; i++) {
            int b = text[i] & 0xFF;
            if (b >= vocab) {
                throw new TrainException("--data " + source + " holds byte " + b + " at offset " + i + ", outside the vocabulary"
                        + " of " + vocab + ": use --vocab 256 (or a 7-bit text)");
            }
        }
        return new CharLmTask(source, text, vocab, length, seed);
    }

    @Override
    public String name() {
        return "charlm";
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public Metric metric() {
        return Metric.BPC;
    }

    @Override
    public Batch trainBatch(long step, int batchSize) {
        Generator gen = Seeds.generator(seed, "charlm/train", step);
        int[] offsets = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            offsets[b] = gen.nextInt(trainEnd - length);
        }
        return windows(offsets, batchSize);
    }

    /** Consecutive windows of the validation split, each read once: at most {@code requested} batches. */
    @Override
    public int evalBatches(int requested, int batchSize) {
        return (int) Math.min(requested, (validationWindows() + batchSize - 1) / batchSize);
    }

    @Override
    public Batch evalBatch(int index, int batchSize) {
        int first = index * batchSize;
        int rows = Math.min(batchSize, validationWindows() - first);
        if (rows < 1) {
            throw new IllegalArgumentException("evaluation batch " + index + " is past the " + validationWindows()
                    + " validation windows");
        }
        int[] offsets = new int[rows];
        for (int b = 0; b < rows; b++) {
            offsets[b] = trainEnd + (first + b) * length;
        }
        return windows(offsets, rows);
    }

    /** Windows of L + 1 bytes that fit the validation split, L apart. */
    private int validationWindows() {
        return (validEnd - trainEnd - 1) / length;
    }

    /** The SHA-256 of the text, recorded in the run's config. */
    public String sha256() {
        return Safetensors.sha256(text);
    }

    private Batch windows(int[] offsets, int batchSize) {
        long[] inputs = new long[batchSize * length];
        long[] targets = new long[batchSize * length];
        for (int b = 0; b < batchSize; b++) {
            for (int i = 0; i < length; i++) {
                inputs[b * length + i] = text[offsets[b] + i] & 0xFF;
                targets[b * length + i] = text[offsets[b] + i + 1] & 0xFF;
            }
        }
        return new Batch(Tensor.of(inputs, batchSize, length), Tensor.of(targets, batchSize, length));
    }

    /**
     * A prompt from text training did not see: the validation split from its first line start,
     * up to 64 bytes and at most half the model's length, ending at a line end where there is one.
     */
    public static byte[] validationPrompt(String data, int vocab, int length, long seed) {
        CharLmTask t = of(data, vocab, length, seed);
        int from = t.trainEnd;
        while (from < t.validEnd - 1 && t.text[from - 1] != '\n') {
            from++;
        }
        int end = Math.min(from + Math.min(64, Math.max(1, length / 2)), t.validEnd);
        for (int i = from; i < end; i++) {
            if (t.text[i] == '\n' && i > from) {
                end = i + 1;
                break;
            }
        }
        return java.util.Arrays.copyOfRange(t.text, from, end);
    }

    @Override
    public String describe() {
        return String.format(java.util.Locale.ROOT, "charlm: %s, %,d bytes (train %,d / validation %,d / test %,d), L = %d,"
                + " vocabulary %d; bits per character on the validation split", source, text.length, trainEnd,
                validEnd - trainEnd, text.length - validEnd, length, vocab);
    }
}
