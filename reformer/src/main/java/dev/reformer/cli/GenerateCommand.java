package dev.reformer.cli;

import dev.reformer.model.ConfigException;
import dev.reformer.model.Decoder;
import dev.reformer.model.ReformerLM;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.Generation;
import dev.reformer.train.Task;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.TrainException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code reformer generate}: text sampled from a trained charlm run. */
@Command(name = "generate",
        header = "Sample text from a charlm run, with or without a cache.",
        mixinStandardHelpOptions = true,
        description = {
            "Samples text from the checkpoint of a charlm run, byte by byte, after a prompt: temperature, top-k and a seed (the same seed gives the same text). With the cache (the default) each new byte costs one attention window per layer; --no-cache runs the whole sequence again for every byte, and gives the same text. (A model with an LSH layer below another attention layer always runs without the cache: see the README.) Prints the prompt and the sample, then a line with the speed.",
            "Exit code 0, or 2 on bad input."},
        footer = {"", "Examples:", "  bin/reformer generate runs/charlm-20261126-153000 --prompt 'Shall I compare thee' --tokens 200",
            "  bin/reformer generate runs/charlm-20261126-153000 --temperature 0.7 --top-k 20 --seed 3"})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "a charlm run directory (or its checkpoint.safetensors)")
    private Path run;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "the text to continue (default: the start of the validation split)")
    private String prompt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "200",
            description = "bytes to generate; prompt and sample must fit the model's length (default: ${DEFAULT-VALUE}, cut to fit)")
    private int tokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "0 takes the most likely byte (default: ${DEFAULT-VALUE})")
    private double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "sample among the K most likely bytes, 0 for all (default: ${DEFAULT-VALUE})")
    private int topK;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "seed of the sampling (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--no-cache", description = "recompute the whole sequence for every byte (slower; the same text)")
    private boolean noCache;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintStream out = System.out;
        try {
            Path file = Checkpoint.fileOf(run);
            TrainConfig config = Checkpoint.configOf(file);
            if (!config.task().equals("charlm")) {
                throw new TrainException(run + " trained the " + config.task() + " task; generate samples text from a charlm run"
                        + " (bin/reformer train --task charlm)");
            }
            Generation.Settings settings = new Generation.Settings(temperature, topK, seed);
            if (tokens < 1) {
                throw new TrainException("--tokens " + tokens + " must be at least 1");
            }
            Task task = config.newTask();
            ReformerLM model = new ReformerLM(config.modelConfig(task));
            Checkpoint.loadWeights(file, model);
            model.train(false);
            byte[] promptBytes = prompt != null ? prompt.getBytes(StandardCharsets.UTF_8) : defaultPrompt(config);
            long[] ids = new long[promptBytes.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = promptBytes[i] & 0xFF;
            }
            int count = (int) Math.max(1, Math.min(tokens, model.config().maxLength() - ids.length));
            boolean cache = !noCache && Decoder.isExact(model);
            if (!noCache && !cache) {
                err.println("reformer generate: note: this model has an LSH layer below another attention layer, where a cache"
                        + " would change the text; generating without the cache");
            }
            long t0 = System.nanoTime();
            long[] sample;
            try (Generation.NextLogits source = cache ? Generation.cached(model, seed) : Generation.recomputed(model, seed)) {
                sample = Generation.sample(model, ids, count, settings, source);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            byte[] bytes = new byte[sample.length];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) sample[i];
            }
            out.print(new String(promptBytes, StandardCharsets.UTF_8));
            out.println(new String(bytes, StandardCharsets.UTF_8));
            out.flush();
            err.println(String.format(Locale.ROOT, "reformer generate: %d bytes in %.2f s (%.0f bytes/s, %s)", sample.length,
                    seconds, sample.length / seconds, cache ? "cached" : "no cache"));
            err.flush();
            return 0;
        } catch (TrainException | ConfigException e) {
            err.println("reformer generate: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    /** The first line (at most 64 bytes) of the validation split, which training did not see. */
    private static byte[] defaultPrompt(TrainConfig config) {
        return dev.reformer.train.CharLmTask.validationPrompt(config.data(), config.vocab(), config.length(), config.seed());
    }
}
