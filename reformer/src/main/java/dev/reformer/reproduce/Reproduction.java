package dev.reformer.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.benchmark.BenchConfig;
import dev.reformer.benchmark.ChildRun;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.ComputeEstimate;
import dev.reformer.train.Evaluation;
import dev.reformer.train.MetricsLog;
import dev.reformer.train.Progress;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.TrainException;
import dev.reformer.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Runs a {@link ReproductionPlan} into one folder and writes its report ({@link ReproductionReport}).
 * The folder holds everything the report's numbers come from: {@code runs/<name>/} for each
 * training run (config, metrics, checkpoint, curves), {@code table2.jsonl} (one line per cell of
 * the accuracy matrix), {@code figure5.jsonl} and {@code memory.jsonl} (one benchmark result per
 * line, each from a fresh JVM), and {@code plan.json}.
 *
 * <p>The work is a list of units (a training run, one evaluation, one benchmark configuration).
 * A unit's result is on disk when it ends, so a stopped reproduction continues where it was:
 * finished units are skipped, a training run continues from its checkpoint ({@link Trainer#resume}).
 */
public final class Reproduction {
    public static final String PLAN = "plan.json";
    public static final String TABLE2 = "table2.jsonl";
    public static final String FIGURE5 = "figure5.jsonl";
    public static final String MEMORY = "memory.jsonl";
    public static final String RUNS = "runs";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How a reproduction ended. */
    public enum Outcome { DONE, INTERRUPTED }

    private final ReproductionPlan plan;
    private final Path dir;
    private final PrintStream out;
    private final boolean terminal;
    private volatile boolean stopRequested;
    private volatile Trainer current;
    private volatile Process child;
    private long stopTrainingAfter = Long.MAX_VALUE;
    private List<Unit> units;

    private Reproduction(ReproductionPlan plan, Path dir, PrintStream out, boolean terminal) {
        this.plan = plan;
        this.dir = dir;
        this.out = out;
        this.terminal = terminal;
    }

    /** A new reproduction of {@code plan} in {@code dir}, which must not exist yet. */
    public static Reproduction start(ReproductionPlan plan, Path dir, PrintStream out, boolean terminal) throws IOException {
        if (Files.exists(dir)) {
            throw new TrainException("--out " + dir + " exists already: give another folder, or continue it with --resume " + dir);
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new TrainException("--out: " + p + " is a file, not a directory: give a folder for the reproduction");
            }
        }
        Files.createDirectories(dir);
        Checkpoint.writeAtomically(dir.resolve(PLAN), (plan.toJson().toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8));
        return new Reproduction(plan, dir, out, terminal);
    }

    /** The plan of a reproduction into {@code dir}, to print ({@link #printPlan}); nothing is written. */
    public static Reproduction planOf(boolean quick, Path dir, PrintStream out) {
        return new Reproduction(ReproductionPlan.of(quick), dir, out, false);
    }

    /** The reproduction in {@code dir}, to continue with the plan it started with ({@code plan.json}). */
    public static Reproduction resume(Path dir, PrintStream out, boolean terminal) throws IOException {
        JsonNode p;
        try {
            p = JSON.readTree(Files.readString(dir.resolve(PLAN)));
        } catch (NoSuchFileException e) {
            throw new TrainException("--resume " + dir + ": it has no " + PLAN + ", so it is not a reproduction folder");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new TrainException("--resume " + dir + ": " + PLAN + " is not valid JSON: restore it or start a new reproduction");
        }
        return new Reproduction(ReproductionPlan.fromJson(p, dir.resolve(PLAN).toString()), dir, out, terminal);
    }

    public ReproductionPlan plan() {
        return plan;
    }

    public Path dir() {
        return dir;
    }

    /** Asks the reproduction to stop: a training run saves its checkpoint after the step in progress. */
    public void requestStop() {
        stopRequested = true;
        Trainer t = current;
        if (t != null) {
            t.requestStop();
        }
        Process p = child;
        if (p != null) {
            p.destroy(); // a benchmark child is not saved mid-way: it runs again on --resume
        }
    }

    /** For tests of interruption: every training run stops (and saves) once it has done {@code step} steps. */
    void stopTrainingAfter(long step) {
        stopTrainingAfter = step;
    }

    /** One unit of work, with its estimated seconds. */
    private record Unit(String part, String label, double seconds, Work work) {
    }

    private interface Work {
        /** Runs the unit; false if it was interrupted. */
        boolean run() throws IOException, InterruptedException;
    }

    /**
     * The plan's units with their estimated seconds, made once (with one measurement of this
     * machine's matrix-product speed) so that the plan and the progress lines agree.
     */
    private List<Unit> units() {
        if (units == null) {
            units = units(ComputeEstimate.measureMachine());
        }
        return units;
    }

    private List<Unit> units(double machineFlops) {
        List<Unit> units = new ArrayList<>();
        for (ReproductionPlan.Run r : plan.table2Runs()) {
            long expected = Math.min(r.config().steps(), plan.expectedStepsTo99());
            units.add(new Unit("Table 2", "train " + r.name() + " (up to " + r.config().steps() + " steps, stops at 99%)",
                    ComputeEstimate.secondsFor(r.config(), expected, machineFlops) * 1.1, () -> train(r)));
        }
        for (ReproductionPlan.Run r : plan.table2Runs()) {
            for (String e : plan.evalVariants()) {
                String train = r.name().substring("table2-".length());
                double evalSteps = plan.table2EvalBatches() / 3.0 * (e.startsWith("lsh") ? Integer.parseInt(e.substring(3)) / 2.0 : 1);
                units.add(new Unit("Table 2", "evaluate " + r.name() + " with " + ReproductionPlan.label(e),
                        1 + ComputeEstimate.secondsFor(r.config(), Math.max(1, Math.round(evalSteps)), machineFlops),
                        () -> evaluate(r, train, e)));
            }
        }
        for (ReproductionPlan.Run r : plan.figure3Runs()) {
            units.add(new Unit("Figure 3", "train " + r.name() + " (" + r.config().steps() + " steps)",
                    ComputeEstimate.secondsFor(r.config(), r.config().steps(), machineFlops) * 1.2, () -> train(r)));
        }
        for (BenchConfig c : plan.figure5Configs()) {
            units.add(new Unit("Figure 5", c.label(), benchSeconds(c, machineFlops), () -> bench(c, FIGURE5)));
        }
        for (BenchConfig c : plan.memoryConfigs()) {
            units.add(new Unit("Table 3", c.label(), benchSeconds(c, machineFlops), () -> bench(c, MEMORY)));
        }
        return units;
    }

    /**
     * A benchmark configuration's seconds: starting the JVM, the warm-up, and the timed calls at
     * a quarter of the matrix-product speed for attention (its softmax and gathers are not
     * products) or the trainer's efficiency for whole models.
     */
    private double benchSeconds(BenchConfig c, double machineFlops) {
        double rate = machineFlops * (c.kind().equals("attention") ? 0.25 : 0.5);
        double call = c.flops() / rate;
        return 2 + Math.max(plan.benchWarmupSeconds(), 2 * call) + plan.benchRuns() * call;
    }

    /** Prints the plan, unit by unit, with the estimated time of each part and in all. */
    public void printPlan() {
        List<Unit> units = units();
        out.println("reformer reproduce: " + (plan.quick() ? "quick" : "default") + " plan, into " + dir);
        String part = "";
        double partSeconds = 0;
        double total = 0;
        int count = 0;
        for (Unit u : units) {
            if (!u.part().equals(part)) {
                if (!part.isEmpty()) {
                    out.println("  " + part + ": " + count + " units, about " + Progress.duration(partSeconds));
                }
                part = u.part();
                partSeconds = 0;
                count = 0;
            }
            partSeconds += u.seconds();
            total += u.seconds();
            count++;
        }
        out.println("  " + part + ": " + count + " units, about " + Progress.duration(partSeconds));
        out.println("reformer reproduce: about " + Progress.duration(total) + " in all (an estimate from this machine's"
                + " matrix-product speed; duplication runs stop early at 99% accuracy); Ctrl-C stops, --resume " + dir
                + " continues");
    }

    /** Runs every unit not done yet, then writes the report. */
    public Outcome run() throws IOException, InterruptedException {
        List<Unit> units = units();
        long start = System.nanoTime();
        double estimatedLeft = units.stream().mapToDouble(Unit::seconds).sum();
        for (int i = 0; i < units.size(); i++) {
            Unit u = units.get(i);
            if (stopRequested) {
                return Outcome.INTERRUPTED;
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "[%d/%d] %s: %s (elapsed %s, about %s left)%n", i + 1, units.size(), u.part(), u.label(),
                    Progress.duration(elapsed), Progress.duration(estimatedLeft));
            if (!u.work().run()) {
                return Outcome.INTERRUPTED;
            }
            estimatedLeft -= u.seconds();
        }
        if (stopRequested) {
            return Outcome.INTERRUPTED; // the JVM is shutting down: no report now, --resume writes it
        }
        ReproductionReport.write(dir, plan);
        out.println("reformer reproduce: done in " + Progress.duration((System.nanoTime() - start) / 1e9) + "; report in "
                + dir.resolve(ReproductionReport.FILE));
        return Outcome.DONE;
    }

    // ---- the units ------------------------------------------------------------------------------

    /** Trains {@code r} to its end, or continues it from its checkpoint; false if interrupted. */
    private boolean train(ReproductionPlan.Run r) throws IOException {
        Path run = dir.resolve(RUNS).resolve(r.name());
        if (finished(run)) {
            out.println("        done already: " + run);
            return true;
        }
        Trainer trainer;
        if (Files.exists(run.resolve(Checkpoint.FILE))) {
            trainer = Trainer.resume(run, c -> c, out, terminal);
        } else {
            if (Files.exists(run)) {
                deleteUnstartedRun(run);
            }
            trainer = Trainer.start(r.config(), run, out, terminal);
        }
        current = trainer;
        trainer.stopAfter(stopTrainingAfter);
        if (stopRequested) {
            trainer.requestStop();
        }
        try {
            return !trainer.run().interrupted();
        } finally {
            current = null;
        }
    }

    /**
     * True when the run's checkpoint is its last: it is at the run's final step, or at an
     * evaluation that reached the run's target accuracy.
     */
    static boolean finished(Path run) throws IOException {
        Path file = run.resolve(Checkpoint.FILE);
        if (!Files.exists(file)) {
            return false;
        }
        TrainConfig config = Checkpoint.configOf(file);
        long step = Checkpoint.stepOf(file);
        if (step >= config.steps()) {
            return true;
        }
        for (JsonNode line : MetricsLog.read(run)) {
            if (line.path("step").asLong() == step && "eval".equals(line.path("split").asText()) && config.stopAt() > 0
                    && line.path("accuracy").asDouble(-1) >= config.stopAt()) {
                return true;
            }
        }
        return false;
    }

    /** A run stopped before its first checkpoint holds only its config and a few metrics: it starts over. */
    private void deleteUnstartedRun(Path run) throws IOException {
        try (Stream<Path> files = Files.walk(run)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        out.println("        " + run + " stopped before its first checkpoint: starting it again");
    }

    /** One cell of Table 2: the run trained with {@code train}, evaluated with {@code eval}. */
    private boolean evaluate(ReproductionPlan.Run r, String train, String eval) throws IOException {
        Path file = dir.resolve(TABLE2);
        for (JsonNode row : rows(file)) {
            if (row.path("train").asText().equals(train) && row.path("eval").asText().equals(eval)) {
                out.println("        done already: " + row.path("accuracy").asDouble());
                return true;
            }
        }
        java.util.Map<String, Object> changes = new java.util.LinkedHashMap<>(ReproductionPlan.attention(eval));
        changes.put("eval_batches", plan.table2EvalBatches());
        Evaluation.OfCheckpoint e = Evaluation.ofCheckpoint(dir.resolve(RUNS).resolve(r.name()).resolve(Checkpoint.FILE),
                changes);
        ObjectNode row = JSON.createObjectNode();
        row.put("train", train);
        row.put("eval", eval);
        row.put("accuracy", e.score().accuracy());
        row.put("loss", e.score().loss());
        row.put("scored", e.score().scored());
        row.put("step", e.step());
        row.put("run", RUNS + "/" + r.name());
        append(file, row);
        out.printf(Locale.ROOT, "        accuracy %.4f over %,d scored tokens (checkpoint of step %d)%n", e.score().accuracy(),
                e.score().scored(), e.step());
        return true;
    }

    /** One benchmark configuration in a fresh JVM, its result appended to {@code fileName}. */
    private boolean bench(BenchConfig c, String fileName) throws IOException, InterruptedException {
        Path file = dir.resolve(fileName);
        for (JsonNode row : rows(file)) {
            if (row.path("config").asText().equals(c.toJson())) {
                out.printf(Locale.ROOT, "        done already: %.1f ms%n", row.path("ms").asDouble());
                return true;
            }
        }
        ObjectNode row;
        try {
            row = ChildRun.run(c, plan.benchRuns(), plan.benchWarmupSeconds(), p -> {
                child = p;
                if (stopRequested) {
                    p.destroy();
                }
            });
        } catch (IllegalStateException e) {
            if (stopRequested) {
                return false; // Ctrl-C reached the child JVM too, or requestStop ended it
            }
            out.println(e.getMessage()); // the child's own output, for the cause
            String first = e.getMessage().lines().findFirst().orElse("").replaceAll(":$", "");
            throw new TrainException(first + " (its output is above); what was done is saved: fix the cause and continue"
                    + " with --resume " + dir);
        } finally {
            child = null;
        }
        row.put("config", c.toJson());
        append(file, row);
        out.printf(Locale.ROOT, "        %.1f ms per call, off-heap peak %.0f MiB, process peak %.0f MiB%n", row.path("ms").asDouble(),
                row.path("offheap_peak_mib").asDouble(), row.path("peak_mib").asDouble());
        return true;
    }

    /** The JSON lines of {@code file}; none if it does not exist. */
    static List<JsonNode> rows(Path file) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        if (!Files.exists(file)) {
            return rows;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                rows.add(JSON.readTree(lines.get(i)));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new TrainException(file + ": line " + (i + 1) + " is not JSON: restore the file, or delete the line to"
                        + " run that unit again");
            }
        }
        return rows;
    }

    /** Adds one line to {@code file}, rewriting it atomically so that a crash leaves the old file or the new one. */
    private static void append(Path file, JsonNode row) throws IOException {
        StringBuilder text = new StringBuilder();
        for (JsonNode r : rows(file)) {
            text.append(r).append('\n');
        }
        text.append(row).append('\n');
        Checkpoint.writeAtomically(file, text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
