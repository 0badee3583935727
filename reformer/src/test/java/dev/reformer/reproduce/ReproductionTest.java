package dev.reformer.reproduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.MetricsLog;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.TrainException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole reproduction at toy sizes: every unit runs (training, the evaluation matrix, benchmark
 * children), the report has its five parts and takes its numbers from the folder, and a
 * reproduction stopped in the middle of a training run continues to the same results.
 */
class ReproductionTest {
    @TempDir
    Path dir;

    /** A plan small enough for the test suite: L = 16 duplication, L = 32 language model, tiny benchmarks. */
    static ReproductionPlan tiny() {
        TrainConfig dup = TrainConfig.defaults("duplication").with(Map.ofEntries(Map.entry("symbols", 8),
                Map.entry("word_length", 7), Map.entry("d_model", 32), Map.entry("d_ff", 64), Map.entry("heads", 2),
                Map.entry("head_dim", 16), Map.entry("chunk", 4), Map.entry("buckets", 4), Map.entry("steps", 12L),
                Map.entry("batch", 4), Map.entry("eval_every", 4L), Map.entry("eval_batches", 1),
                Map.entry("checkpoint_every", 4L)));
        TrainConfig lm = TrainConfig.defaults("charlm").with(Map.ofEntries(Map.entry("attention", "full"),
                Map.entry("layers", 2), Map.entry("length", 32), Map.entry("d_model", 32), Map.entry("d_ff", 64),
                Map.entry("heads", 2), Map.entry("head_dim", 16), Map.entry("batch", 2), Map.entry("steps", 6L),
                Map.entry("warmup", 2L), Map.entry("eval_every", 3L), Map.entry("eval_batches", 1),
                Map.entry("checkpoint_every", 3L)));
        return new ReproductionPlan(true, dup, ReproductionPlan.TRAIN_VARIANTS, ReproductionPlan.EVAL_VARIANTS, 1, 12, lm,
                List.of(128), List.of("full", "lsh1"), 1, 0.0, 256, 1);
    }

    /** {@link #tiny} without its benchmarks: the same training runs and evaluations. */
    static ReproductionPlan tinyWithoutBenchmarks() {
        ReproductionPlan p = tiny();
        return new ReproductionPlan(p.quick(), p.duplication(), p.trainVariants(), p.evalVariants(), p.table2EvalBatches(),
                p.expectedStepsTo99(), p.charlm(), p.fig5Lengths(), List.of(), p.benchRuns(), p.benchWarmupSeconds(),
                p.memoryLength(), 0);
    }

    @Test
    void aStoppedReproductionContinuesToTheResultsOfOneThatWasNot() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Path stopped = dir.resolve("stopped");
        Reproduction first = Reproduction.start(tiny(), stopped, quiet, false);
        first.stopTrainingAfter(6);
        assertThat(first.run()).isEqualTo(Reproduction.Outcome.INTERRUPTED);
        Path run = stopped.resolve(Reproduction.RUNS).resolve("table2-full");
        assertThat(Checkpoint.stepOf(run.resolve(Checkpoint.FILE))).isEqualTo(6);
        assertThat(Reproduction.finished(run)).isFalse();
        assertThat(stopped.resolve(ReproductionReport.FILE)).doesNotExist();

        Reproduction again = Reproduction.resume(stopped, quiet, false);
        assertThat(again.plan()).isEqualTo(tiny());
        assertThat(again.run()).isEqualTo(Reproduction.Outcome.DONE);

        Path whole = dir.resolve("whole");
        assertThat(Reproduction.start(tinyWithoutBenchmarks(), whole, quiet, false).run()).isEqualTo(Reproduction.Outcome.DONE);

        List<JsonNode> table2 = Reproduction.rows(stopped.resolve(Reproduction.TABLE2));
        assertThat(table2).hasSize(20);
        assertThat(table2).isEqualTo(Reproduction.rows(whole.resolve(Reproduction.TABLE2)));
        for (ReproductionPlan.Run r : tiny().figure3Runs()) {
            assertThat(withoutWallClock(stopped.resolve(Reproduction.RUNS).resolve(r.name())))
                    .isEqualTo(withoutWallClock(whole.resolve(Reproduction.RUNS).resolve(r.name())));
        }
        assertThat(Reproduction.rows(stopped.resolve(Reproduction.FIGURE5))).hasSize(2); // full and LSH-1 at L = 128
        assertThat(Reproduction.rows(stopped.resolve(Reproduction.MEMORY))).hasSize(5);

        String report = ReproductionReport.read(stopped);
        assertThat(report).contains("## 1. Table 2", "## 2. Figure 3", "## 3. Figure 5", "## 4. Memory", "## 5. Verdicts");
        for (String png : List.of("fig3-shared-qk.png", "fig3-reversible.png", "fig5-time.png")) {
            assertThat(stopped.resolve(png)).isNotEmptyFile();
            assertThat(report).contains("(" + png + ")");
        }
        // the matrix in the report is the one in table2.jsonl: the full-trained model evaluated with full attention
        double cell = table2.stream().filter(r -> r.get("train").asText().equals("full") && r.get("eval").asText().equals("full"))
                .findFirst().orElseThrow().get("accuracy").asDouble();
        String ours = report.substring(report.indexOf("**Here"), report.indexOf("**Paper"));
        assertThat(ours).contains(String.format(java.util.Locale.ROOT, "| Full | %.1f |", 100 * cell));
        assertThat(report).contains("| Full | 100.0 | 94.8 | 92.5 | 76.9 | 52.5 |"); // the paper's row beside ours

        // a finished reproduction resumed again has nothing left to do and rewrites the same report
        String before = report;
        assertThat(Reproduction.resume(stopped, quiet, false).run()).isEqualTo(Reproduction.Outcome.DONE);
        assertThat(ReproductionReport.read(stopped)).isEqualTo(before);
    }

    private static List<String> withoutWallClock(Path run) throws IOException {
        return MetricsLog.read(run).stream().map(line -> {
            com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) line).deepCopy();
            MetricsLog.WALL_CLOCK_FIELDS.forEach(copy::remove);
            return copy.toString();
        }).toList();
    }

    @Test
    void aFolderThatExistsOrIsNoReproductionIsRefused() throws IOException {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Files.createDirectory(dir.resolve("there"));
        assertThatThrownBy(() -> Reproduction.start(tiny(), dir.resolve("there"), quiet, false))
                .isInstanceOf(TrainException.class).hasMessageContaining("exists already");
        assertThatThrownBy(() -> Reproduction.resume(dir.resolve("there"), quiet, false))
                .isInstanceOf(TrainException.class).hasMessageContaining("has no plan.json");
        Files.writeString(dir.resolve("there").resolve(Reproduction.PLAN), "{\"mode\":\"quick\"}");
        assertThatThrownBy(() -> Reproduction.resume(dir.resolve("there"), quiet, false))
                .isInstanceOf(TrainException.class).hasMessageContaining("has no field 'duplication'");
    }

    @Test
    void thePlanSurvivesItsJson() {
        for (ReproductionPlan p : List.of(ReproductionPlan.quickPlan(), ReproductionPlan.defaultPlan(), tiny(),
                tinyWithoutBenchmarks())) {
            assertThat(ReproductionPlan.fromJson(p.toJson(), "plan.json")).isEqualTo(p);
        }
    }
}
