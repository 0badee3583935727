package dev.reformer.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.autograd.Variable;
import dev.reformer.autograd.nn.Functional;
import dev.reformer.autograd.optim.AdamW;
import dev.reformer.autograd.optim.GradClip;
import dev.reformer.model.ConfigException;
import dev.reformer.model.ReformerConfig;
import dev.reformer.model.ReformerLM;
import dev.reformer.tensor.MemoryScope;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Trains a {@link ReformerLM} on a {@link Task} and writes the run to its directory:
 * {@code config.json}, {@code metrics.jsonl} ({@link MetricsLog}), {@code checkpoint.safetensors}
 * ({@link Checkpoint}) and {@code curves.png} ({@link CurvePlot}).
 *
 * <p>One step: the task's batch for this step, forward, cross-entropy on the scored positions,
 * backward, optional clipping of the global gradient norm, AdamW at the learning rate of the
 * schedule (linear warm-up to {@code lr}, then constant). The batch and the model's randomness
 * (LSH rotations, dropout) of step s come from the seed and s alone ({@link Seeds}), so a run
 * resumed from a checkpoint continues exactly as if it had not stopped.
 *
 * <pre>{@code
 * Trainer.Result r = Trainer.start(TrainConfig.defaults(), Path.of("runs/dup"), System.out, false).run();
 * }</pre>
 */
public final class Trainer {
    public static final String CONFIG = "config.json";
    public static final String CURVES = "curves.png";

    /** How a run ended. */
    public record Result(Path runDir, long step, Evaluation.Score eval, Task.Metric metric, boolean reachedTarget,
            boolean interrupted) {
    }

    private final TrainConfig config;
    private final Path runDir;
    private final Task task;
    private final ReformerLM model;
    private final AdamW optimizer;
    private final long firstStep;
    private final PrintStream out;
    private final Progress progress;
    private volatile boolean stopRequested;
    private volatile long stopAfterStep = Long.MAX_VALUE;
    private long failAtStep = Long.MAX_VALUE;

    private Trainer(TrainConfig config, Path runDir, Task task, ReformerLM model, AdamW optimizer, long firstStep,
            PrintStream out, boolean terminal) {
        this.config = config;
        this.runDir = runDir;
        this.task = task;
        this.model = model;
        this.optimizer = optimizer;
        this.firstStep = firstStep;
        this.out = out;
        this.progress = new Progress(out, terminal, config.steps());
    }

    /**
     * A new run in {@code runDir}, which must not exist yet. Everything is checked before the
     * directory is made, so bad input leaves nothing behind.
     */
    public static Trainer start(TrainConfig config, Path runDir, PrintStream out, boolean terminal) throws IOException {
        config.validate();
        if (!config.data().isEmpty()) {
            config = config.with(Map.of("data", Path.of(config.data()).toAbsolutePath().normalize().toString()));
        }
        Task task = config.newTask();
        if (task instanceof CharLmTask text && config.dataSha256().isEmpty()) {
            config = config.with(Map.of("data_sha256", text.sha256()));
        }
        ReformerConfig modelConfig = modelConfig(config, task);
        StepTensors.requireIndexable(modelConfig, config.batch(), lengthOption(config));
        if (Files.exists(runDir)) {
            throw new TrainException("run directory " + runDir + " exists already: choose another --name, or continue it"
                    + " with --resume " + runDir);
        }
        Path root = runDir.toAbsolutePath().getParent();
        for (Path p = root; p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new TrainException("--runs: " + p + " is a file, not a directory: give a directory for the runs");
            }
        }
        ReformerLM model = new ReformerLM(modelConfig);
        AdamW adam = optimizer(config, model);
        Files.createDirectories(runDir.toAbsolutePath().getParent());
        try {
            Files.createDirectory(runDir);
        } catch (FileAlreadyExistsException e) {
            throw new TrainException("run directory " + runDir + " exists already: choose another --name");
        }
        try {
            Checkpoint.writeAtomically(runDir.resolve(CONFIG), config.toJson().getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            removeIfOnlyOurs(runDir);                     // the folder just made, with no config in it
            throw e;
        }
        return new Trainer(config, runDir, task, model, adam, 0, out, terminal);
    }

    /**
     * Continues the run in {@code runDir} from its checkpoint. {@code overrides} puts the options
     * the command line gave into the run's config; the result must equal the run's config, or the
     * resume is refused.
     */
    public static Trainer resume(Path runDir, UnaryOperator<TrainConfig> overrides, PrintStream out, boolean terminal)
            throws IOException {
        if (!Files.isDirectory(runDir)) {
            throw new TrainException("--resume " + runDir + ": no such run directory (runs are written under runs/<name>)");
        }
        String json;
        try {
            json = Files.readString(runDir.resolve(CONFIG));
        } catch (NoSuchFileException e) {
            throw new TrainException("--resume " + runDir + ": it has no " + CONFIG + ", so it is not a run directory");
        }
        TrainConfig config = TrainConfig.fromJson(json, runDir.resolve(CONFIG).toString()).validate();
        TrainConfig asked = overrides.apply(config);
        if (!asked.equals(config)) {
            throw new TrainException("--resume " + runDir + ": the options given differ from the run's config ("
                    + difference(asked, config) + "): drop them to continue the run as it was, or start a new run");
        }
        Path file = runDir.resolve(Checkpoint.FILE);
        if (!Files.exists(file)) {
            throw new TrainException("--resume " + runDir + ": it has no " + Checkpoint.FILE + " yet (the run stopped before"
                    + " its first checkpoint): start it again under a new --name");
        }
        TrainConfig saved = Checkpoint.configOf(file);
        if (!saved.equals(config)) {
            throw new TrainException("--resume " + runDir + ": " + CONFIG + " and " + Checkpoint.FILE + " disagree ("
                    + difference(config, saved) + "): restore the original " + CONFIG);
        }
        Task task = config.newTask();
        ReformerLM model = new ReformerLM(modelConfig(config, task));
        AdamW adam = optimizer(config, model);
        long step = Checkpoint.load(file, model, adam);
        if (step >= config.steps()) {
            throw new TrainException("--resume " + runDir + ": the run is complete (step " + step + " of " + config.steps()
                    + "): nothing to continue; to train longer, start a new run with more --steps");
        }
        MetricsLog.truncateAfter(runDir, step);
        return new Trainer(config, runDir, task, model, adam, step, out, terminal);
    }

    /** The option that sets the sequence length of the run's task. */
    private static String lengthOption(TrainConfig config) {
        return config.task().equals("duplication") ? "--word-length" : "--length";
    }

    private static ReformerConfig modelConfig(TrainConfig config, Task task) {
        try {
            return config.modelConfig(task);
        } catch (ConfigException e) {
            throw new TrainException(e.getMessage());
        }
    }

    private static AdamW optimizer(TrainConfig config, ReformerLM model) {
        return new AdamW(model.parameters(), config.lr(), 0.9, 0.999, 1e-8, config.weightDecay());
    }

    /** The first field where {@code a} and {@code b} differ, as {@code name a vs b}. */
    static String difference(TrainConfig a, TrainConfig b) {
        var fa = a.fields();
        var fb = b.fields();
        for (String key : fa.keySet()) {
            if (!fa.get(key).equals(fb.get(key))) {
                return key.replace('_', '-') + " " + fa.get(key) + " vs " + fb.get(key);
            }
        }
        return "none";
    }

    public long firstStep() {
        return firstStep;
    }

    /** Asks the run to stop after the step in progress, saving a checkpoint (what Ctrl-C does). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Stops like {@link #requestStop} once {@code step} updates are done (for tests of interruption). */
    public void stopAfter(long step) {
        stopAfterStep = step;
    }

    /** Makes update {@code step} (counting from 1) throw, as a bug would (for tests of failed runs). */
    void failAt(long step) {
        failAtStep = step;
    }

    /** The learning rate of step {@code t} (counting from 0): linear warm-up, then constant. */
    double learningRate(long t) {
        return config.warmup() > 0 && t < config.warmup() ? config.lr() * (t + 1) / config.warmup() : config.lr();
    }

    public Result run() throws IOException {
        try {
            return train();
        } catch (IOException | RuntimeException | Error e) {
            throw new RunFailedException(removeIfNoCheckpoint() ? null : runDir, e);
        }
    }

    /**
     * After an unexpected error: a run that has no checkpoint yet (a new run that failed before its
     * first) is removed, the files it wrote and then its folder, so no half-made run is left; true if
     * it was. A run with a checkpoint keeps it and its metrics.
     */
    private boolean removeIfNoCheckpoint() {
        return !Files.exists(runDir.resolve(Checkpoint.FILE)) && removeIfOnlyOurs(runDir);
    }

    /**
     * Removes {@code runDir} when it holds nothing but the files a run writes before its first
     * checkpoint ({@link #CONFIG}, {@link MetricsLog#FILE}, {@link #CURVES}); anything else in it
     * (a checkpoint's temporary file, a file someone put there) leaves it all as it is. True if removed.
     */
    private static boolean removeIfOnlyOurs(Path runDir) {
        List<String> ours = List.of(CONFIG, MetricsLog.FILE, CURVES);
        try (var files = Files.list(runDir)) {
            if (!files.allMatch(f -> ours.contains(f.getFileName().toString()))) {
                return false;
            }
            for (String file : ours) {
                Files.deleteIfExists(runDir.resolve(file));
            }
            Files.delete(runDir);
            return true;
        } catch (IOException | RuntimeException cleanup) {
            return false;
        }
    }

    private Result train() throws IOException {
        out.println("reformer train: " + task.describe());
        out.println("reformer train: " + ComputeEstimate.of(config, task, model, firstStep).describe());
        if (firstStep > 0) {
            out.println("reformer train: resuming " + runDir + " at step " + firstStep);
        }
        long tokensPerStep = (long) config.batch() * task.length();
        Evaluation.Score eval = null;
        boolean reached = false;
        boolean interrupted = false;
        long step = firstStep;
        long startNanos = System.nanoTime();
        double emaStepSeconds = Double.NaN;
        try (MetricsLog metrics = MetricsLog.append(runDir)) {
            while (step < config.steps()) {
                long t0 = System.nanoTime();
                if (step + 1 == failAtStep) {
                    throw new IllegalStateException("failure injected at step " + failAtStep);
                }
                double[] train = trainStep(step);
                step++;
                double seconds = (System.nanoTime() - t0) / 1e9;
                emaStepSeconds = Double.isNaN(emaStepSeconds) ? seconds : 0.9 * emaStepSeconds + 0.1 * seconds;
                ObjectNode line = MetricsLog.line(step, "train");
                line.put("loss", train[0]);
                line.put(task.metric().key, train[1]);
                line.put("lr", learningRate(step - 1));
                line.put("tokens_per_s", round(tokensPerStep / seconds));
                line.put("wall_s", round((System.nanoTime() - startNanos) / 1e9));
                metrics.write(line);
                String stats = String.format(Locale.ROOT, "loss %.4f %s %.4f", train[0], task.metric().key, train[1]);
                if (step % config.evalEvery() == 0 || step == config.steps()) {
                    eval = Evaluation.run(model, task, config.evalBatches(), config.batch(), config.seed());
                    ObjectNode e = MetricsLog.line(step, "eval");
                    e.put("loss", eval.loss());
                    e.put(task.metric().key, eval.metric(task.metric()));
                    e.put("wall_s", round((System.nanoTime() - startNanos) / 1e9));
                    metrics.write(e);
                    progress.println(String.format(Locale.ROOT, "eval at step %d: loss %.4f %s %.4f", step, eval.loss(),
                            task.metric().key, eval.metric(task.metric())));
                    reached = task.metric() == Task.Metric.ACCURACY && config.stopAt() > 0 && eval.accuracy() >= config.stopAt();
                    drawCurves();
                }
                interrupted = stopRequested || step >= stopAfterStep;
                if (step % config.checkpointEvery() == 0 || step == config.steps() || reached || interrupted) {
                    metrics.sync();
                    Checkpoint.save(runDir, step, config, model, optimizer);
                }
                progress.update(step, stats, tokensPerStep / emaStepSeconds, emaStepSeconds * (config.steps() - step));
                if (reached || interrupted) {
                    break;
                }
            }
        }
        progress.finish();
        drawCurves();
        return new Result(runDir, step, eval, task.metric(), reached, interrupted && !reached && step < config.steps());
    }

    /**
     * Redraws {@code curves.png} from the metrics so far (at every evaluation, so an interrupted
     * run has its picture too; the JVM cannot start its imaging code once it is shutting down).
     */
    private void drawCurves() {
        try {
            CurvePlot.write(MetricsLog.read(runDir), task.metric().key, runDir.resolve(CURVES));
        } catch (RuntimeException | IOException e) {
            // the run itself is saved; a picture that cannot be drawn is not worth failing it
            progress.println("reformer train: warning: " + CURVES + " not drawn (" + e + ")");
        }
    }

    /** One update; returns the batch's loss and metric before it. */
    private double[] trainStep(long step) {
        try (MemoryScope scope = MemoryScope.open()) {
            Batch batch = task.trainBatch(step, config.batch());
            optimizer.zeroGrad();
            Variable logits = model.forward(batch.inputs(), null, Seeds.generator(config.seed(), "train/model", step));
            Variable loss = Functional.crossEntropy(logits, batch.targets(), Batch.IGNORE);
            double lossValue = loss.data().item();
            double metric = task.metric() == Task.Metric.ACCURACY
                    ? (double) Evaluation.correct(logits.data(), batch.targets()) / batch.scored()
                    : lossValue / Math.log(2);
            loss.backward();
            if (config.clip() > 0) {
                GradClip.clipGlobalNorm(model.parameters(), config.clip());
            }
            optimizer.setLearningRate(learningRate(step));
            optimizer.step();
            return new double[] {lossValue, metric};
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
