package dev.reformer.cli;

import dev.reformer.model.ConfigException;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.Evaluation;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.TrainException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code reformer eval}: a trained run's loss and metric on its task's evaluation set, with any attention. */
@Command(name = "eval",
        header = "Evaluate a checkpoint, also with other LSH rounds or attention.",
        mixinStandardHelpOptions = true,
        description = {
            "Evaluates the checkpoint of a run on its task's fixed evaluation set and prints loss and accuracy (or bits per character), optionally with another number of LSH hash rounds or another attention than it was trained with (the paper's Table 2: train with LSH K=2, evaluate with K=1, 2, 4, 8 and full attention).",
            "Exit code 0, or 2 on bad input (one line naming the problem)."},
        footer = {"", "Examples:", "  bin/reformer eval runs/duplication-20261126-152200",
            "  bin/reformer eval runs/duplication-20261126-152200 --n-hashes 8",
            "  bin/reformer eval runs/duplication-20261126-152200 --attention full"})
final class EvalCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "a run directory (or its checkpoint.safetensors)")
    private Path run;

    @Option(names = "--n-hashes", paramLabel = "K", description = "LSH hash rounds to evaluate with (default: as trained)")
    private Integer hashes;

    @Option(names = "--attention", paramLabel = "KIND", description = "lsh, local or full (default: as trained)")
    private String attention;

    @Option(names = "--batches", paramLabel = "N", description = "evaluation batches (default: as trained)")
    private Integer batches;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (batches != null && batches < 1) {
                throw new TrainException("--batches " + batches + " must be at least 1");
            }
            Map<String, Object> changes = new LinkedHashMap<>();
            if (attention != null) {
                changes.put("attention", attention);
            }
            if (hashes != null) {
                changes.put("n_hashes", hashes);
            }
            if (batches != null) {
                changes.put("eval_batches", batches);
            }
            Evaluation.OfCheckpoint e = Evaluation.ofCheckpoint(Checkpoint.fileOf(run), changes);
            Evaluation.Score s = e.score();
            System.out.println(String.format(Locale.ROOT,
                    "reformer eval: %s (trained with %s, step %d) evaluated with %s: loss %.4f, %s %.4f over %,d scored tokens",
                    run, describe(e.trained()), e.step(), describe(e.evaluated()), s.loss(), e.metric().key, s.metric(e.metric()),
                    s.scored()));
            return 0;
        } catch (TrainException | ConfigException e) {
            err.println("reformer eval: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    private static String describe(TrainConfig c) {
        return c.attention().equalsIgnoreCase("lsh") ? "LSH attention, K=" + c.hashes() : c.attention() + " attention";
    }
}
