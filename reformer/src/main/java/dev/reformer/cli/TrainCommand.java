package dev.reformer.cli;

import dev.reformer.model.ConfigException;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.MetricsLog;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.TrainException;
import dev.reformer.train.Trainer;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code reformer train}: trains a Reformer on a task and writes the run to {@code runs/<name>/}.
 * Every option left out takes the value of the main job (or, with {@code --resume}, of the run).
 */
@Command(name = "train",
        header = "Train a Reformer on a task and write runs/<name>/.",
        mixinStandardHelpOptions = true,
        description = {
            "Trains a Reformer language model on a task and writes runs/<name>/: config.json, metrics.jsonl, checkpoint.safetensors and curves.png. With no options: the paper's duplication task at a CPU-sized configuration (L=256, one layer, d=128, 4 heads of 32, LSH K=2, chunk 32, batch 16, Adam 1e-3), which stops once evaluation accuracy on the second copy reaches 99%% (step 500, under 2 minutes on 2 cores). With --task charlm the defaults are its own: two layers (local attention, then LSH), L=256, dropout 0.1, AdamW 1e-3 with 100 warm-up steps, weight decay 0.01, clipping at 1, 1,000 steps. Ctrl-C saves a checkpoint and exits; --resume continues the run exactly where it stopped.",
            "Exit code 0 when done, 2 on bad input (one line naming the problem; nothing is written), 130 after Ctrl-C."},
        footer = {"", "Examples:", "  bin/reformer train",
            "  bin/reformer train --name dup-k4 --n-hashes 4 --steps 5000",
            "  bin/reformer train --resume runs/dup-k4"})
final class TrainCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--name", paramLabel = "NAME", description = "run name: the run goes to <runs>/<name> (default: <task>-<date>-<time>)")
    private String name;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "where runs are written (default: ${DEFAULT-VALUE})")
    private Path runs;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "continue the run in RUN_DIR from its checkpoint")
    private Path resume;

    @Option(names = "--task", paramLabel = "TASK",
            description = "duplication (default) or charlm (byte-level language model; bits per character); each has its own defaults")
    private String task;

    @Option(names = "--data", paramLabel = "FILE", description = "charlm: the text to model (default: the embedded Shakespeare's Sonnets)")
    private String data;

    @Option(names = "--length", paramLabel = "L", description = "charlm: tokens per sequence (default: 256)")
    private Integer length;

    @Option(names = "--vocab", paramLabel = "V", description = "charlm: byte values 0..V-1 allowed (default: 256)")
    private Integer vocab;

    @Option(names = "--symbols", paramLabel = "N", description = "duplication: symbols including the separator 0 (default: 128)")
    private Integer symbols;

    @Option(names = "--word-length", paramLabel = "W", description = "duplication: |w|; sequences are 2(W+1) long (default: 127, L=256)")
    private Integer wordLength;

    @Option(names = "--layers", paramLabel = "N", description = "layers (default: 1; charlm: 2)")
    private Integer layers;

    @Option(names = "--d-model", paramLabel = "D", description = "model width (default: 128)")
    private Integer dModel;

    @Option(names = "--d-ff", paramLabel = "D", description = "feed-forward width (default: 512)")
    private Integer dFf;

    @Option(names = "--heads", paramLabel = "H", description = "attention heads (default: 4)")
    private Integer heads;

    @Option(names = "--head-dim", paramLabel = "D", description = "width per head (default: 32)")
    private Integer headDim;

    @Option(names = "--attention", paramLabel = "KIND", description = "lsh, local or full, or one per layer, repeated: local,lsh (default: lsh; charlm: local,lsh)")
    private String attention;

    @Option(names = "--shared-qk", negatable = true,
            description = "one shared query-key projection (default), or separate queries and keys with --no-shared-qk (full or local attention only; the paper's Figure 3)")
    private Boolean sharedQk;

    @Option(names = "--reversible", negatable = true,
            description = "reversible residual layers (default), or with --no-reversible a standard Transformer: ordinary residual layers on one stream, activations stored")
    private Boolean reversible;

    @Option(names = "--n-hashes", paramLabel = "K", description = "LSH hash rounds (default: 2)")
    private Integer hashes;

    @Option(names = "--chunk", paramLabel = "C", description = "LSH and local chunk length (default: 32)")
    private Integer chunk;

    @Option(names = "--buckets", paramLabel = "NB", description = "LSH buckets per round, even (default: 8, L/C as reformer-pytorch)")
    private Integer buckets;

    @Option(names = "--dropout", paramLabel = "P", description = "dropout rate (default: 0)")
    private Double dropout;

    @Option(names = "--steps", paramLabel = "N", description = "optimizer steps (default: 3000)")
    private Long steps;

    @Option(names = "--batch", paramLabel = "B", description = "sequences per step (default: 16)")
    private Integer batch;

    @Option(names = "--lr", paramLabel = "LR", description = "AdamW learning rate after warm-up (default: 1e-3)")
    private Double lr;

    @Option(names = "--warmup", paramLabel = "N", description = "steps of linear learning-rate warm-up (default: 0)")
    private Long warmup;

    @Option(names = "--weight-decay", paramLabel = "WD", description = "AdamW decoupled weight decay (default: 0, plain Adam)")
    private Double weightDecay;

    @Option(names = "--clip", paramLabel = "NORM", description = "clip the global gradient norm to NORM, 0 for no clipping (default: 0)")
    private Double clip;

    @Option(names = "--eval-every", paramLabel = "N", description = "evaluate every N steps (default: 100)")
    private Long evalEvery;

    @Option(names = "--eval-batches", paramLabel = "N", description = "batches in the fixed evaluation set (default: 4)")
    private Integer evalBatches;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "save a checkpoint every N steps (default: 500)")
    private Long checkpointEvery;

    @Option(names = "--stop-at", paramLabel = "ACC", description = "stop once evaluation accuracy reaches ACC, 0 never (default: 0.99)")
    private Double stopAt;

    @Option(names = "--seed", paramLabel = "S", description = "seed of the weights, the data and every random draw (default: 1)")
    private Long seed;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintStream out = System.out;
        try {
            Trainer trainer;
            if (resume != null) {
                if (name != null) {
                    throw new TrainException("--resume and --name do not go together: a resumed run keeps its directory");
                }
                trainer = Trainer.resume(resume, this::overriding, out, System.console() != null);
            } else {
                TrainConfig config = overriding(TrainConfig.defaults(task == null ? "duplication" : task));
                String runName = name != null ? name : config.task() + "-"
                        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
                if (runName.isBlank() || runName.contains("/") || runName.contains("\\") || runName.startsWith(".")) {
                    throw new TrainException("--name '" + runName + "' is not a plain directory name: use letters, digits, - and _");
                }
                trainer = Trainer.start(config, runs.resolve(runName), out, System.console() != null);
            }
            return runWithInterrupt(trainer, out);
        } catch (TrainException | ConfigException e) {
            err.println("reformer train: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    /** Runs the trainer; Ctrl-C (or any JVM shutdown) asks it to stop after the current step and save. */
    private static int runWithInterrupt(Trainer trainer, PrintStream out) throws Exception {
        return StopOnInterrupt.run("reformer-train-interrupt", trainer::requestStop, () -> {
            Trainer.Result r = trainer.run();
            String where = r.runDir() + " (" + MetricsLog.FILE + ", " + Checkpoint.FILE + ", " + Trainer.CURVES + ")";
            if (r.interrupted()) {
                out.println("reformer train: interrupted after step " + r.step() + "; checkpoint saved. Continue with:"
                        + " bin/reformer train --resume " + r.runDir());
                return 130;
            }
            String result = r.eval() == null ? "no evaluation yet"
                    : String.format(Locale.ROOT, "final eval loss %.4f, %s %.4f", r.eval().loss(), r.metric().key,
                            r.eval().metric(r.metric()));
            out.println("reformer train: " + result + " at step " + r.step()
                    + (r.reachedTarget() ? " (target reached)" : "") + "; run written to " + where);
            return 0;
        });
    }

    /** {@code base} with every option given on the command line put in. */
    private TrainConfig overriding(TrainConfig base) {
        String taskName = task != null ? task : base.task();
        if (taskName.equals("duplication") && (data != null || length != null || vocab != null)) {
            throw new TrainException("--data, --length and --vocab are options of --task charlm; this run's task is duplication");
        }
        if (taskName.equals("charlm") && (symbols != null || wordLength != null)) {
            throw new TrainException("--symbols and --word-length are options of --task duplication; this run's task is charlm");
        }
        Map<String, Object> given = new LinkedHashMap<>();
        put(given, "task", task);
        put(given, "symbols", symbols);
        put(given, "word_length", wordLength);
        put(given, "data", data == null || data.isEmpty() ? data : Path.of(data).toAbsolutePath().normalize().toString());
        put(given, "length", length);
        put(given, "vocab", vocab);
        put(given, "layers", layers);
        put(given, "d_model", dModel);
        put(given, "d_ff", dFf);
        put(given, "heads", heads);
        put(given, "head_dim", headDim);
        put(given, "attention", attention);
        put(given, "n_hashes", hashes);
        put(given, "chunk", chunk);
        put(given, "buckets", buckets);
        put(given, "dropout", dropout);
        put(given, "steps", steps);
        put(given, "batch", batch);
        put(given, "lr", lr);
        put(given, "warmup", warmup);
        put(given, "weight_decay", weightDecay);
        put(given, "clip", clip);
        put(given, "eval_every", evalEvery);
        put(given, "eval_batches", evalBatches);
        put(given, "checkpoint_every", checkpointEvery);
        put(given, "stop_at", stopAt);
        put(given, "seed", seed);
        put(given, "shared_qk", sharedQk);
        put(given, "reversible", reversible);
        return base.with(given);
    }

    private static void put(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }
}
