package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole training runs on a small duplication task: two runs of one config write the same metrics;
 * a run stopped part-way and resumed writes what an uninterrupted run writes, and ends with the
 * same checkpoint, byte for byte.
 */
class TrainingRunTest {
    @TempDir
    Path dir;

    /** |w| = 15 (L = 32), chunks of 8, 4 buckets, 24 steps, evaluation and checkpoints every 8. */
    static TrainConfig small() {
        return new TrainConfig("duplication", 16, 15, 1, 32, 64, 2, 16, "lsh", 2, 8, 4, 0.1,
                24, 4, 3e-3, 4, 0.01, 1.0, 8, 2, 8, 0.0, 7, "", 256, 256, "", true, true);
    }

    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** The metrics with the wall-clock fields taken out. */
    static List<String> comparable(Path run) throws IOException {
        return MetricsLog.read(run).stream().map(line -> {
            ObjectNode copy = ((ObjectNode) line).deepCopy();
            MetricsLog.WALL_CLOCK_FIELDS.forEach(copy::remove);
            return copy.toString();
        }).toList();
    }

    @Test
    void twoRunsWithTheSameSeedWriteTheSameMetrics() throws IOException {
        Trainer.start(small(), dir.resolve("a"), QUIET, false).run();
        Trainer.start(small(), dir.resolve("b"), QUIET, false).run();
        List<String> a = comparable(dir.resolve("a"));
        assertThat(a).hasSize(24 + 3);
        assertThat(comparable(dir.resolve("b"))).isEqualTo(a);
        assertThat(Files.readAllBytes(dir.resolve("b").resolve(Checkpoint.FILE)))
                .isEqualTo(Files.readAllBytes(dir.resolve("a").resolve(Checkpoint.FILE)));
        JsonNode first = MetricsLog.read(dir.resolve("a")).get(0);
        assertThat(first.get("step").asLong()).isEqualTo(1);
        assertThat(first.get("split").asText()).isEqualTo("train");
        assertThat(first.has("loss") && first.has("accuracy") && first.has("lr")).isTrue();
        assertThat(Files.size(dir.resolve("a").resolve(Trainer.CURVES))).isPositive();
    }

    @Test
    void anotherSeedWritesOtherMetrics() throws IOException {
        TrainConfig s = small();
        TrainConfig other = small().with(java.util.Map.of("steps", 8L, "seed", 8L));
        Trainer.start(other, dir.resolve("a"), QUIET, false).run();
        TrainConfig same = small().with(java.util.Map.of("steps", 8L));
        Trainer.start(same, dir.resolve("b"), QUIET, false).run();
        assertThat(comparable(dir.resolve("a"))).isNotEqualTo(comparable(dir.resolve("b")));
    }

    @Test
    void aResumedRunWritesWhatAnUninterruptedRunWrites() throws IOException {
        Trainer.start(small(), dir.resolve("whole"), QUIET, false).run();

        Trainer first = Trainer.start(small(), dir.resolve("parts"), QUIET, false);
        first.stopAfter(11);                           // between checkpoints: steps 9..11 are done twice
        Trainer.Result stopped = first.run();
        assertThat(stopped.interrupted()).isTrue();
        assertThat(stopped.step()).isEqualTo(11);

        Trainer second = Trainer.resume(dir.resolve("parts"), c -> c, QUIET, false);
        assertThat(second.firstStep()).isEqualTo(11);
        second.stopAfter(17);
        second.run();
        Trainer third = Trainer.resume(dir.resolve("parts"), c -> c, QUIET, false);
        assertThat(third.firstStep()).isEqualTo(17);
        Trainer.Result done = third.run();
        assertThat(done.interrupted()).isFalse();
        assertThat(done.step()).isEqualTo(24);

        assertThat(comparable(dir.resolve("parts"))).isEqualTo(comparable(dir.resolve("whole")));
        assertThat(Files.readAllBytes(dir.resolve("parts").resolve(Checkpoint.FILE)))
                .isEqualTo(Files.readAllBytes(dir.resolve("whole").resolve(Checkpoint.FILE)));
    }

    @Test
    void aResumeFromAnEarlierCheckpointDropsTheLinesWrittenAfterIt() throws IOException {
        Trainer.start(small(), dir.resolve("whole"), QUIET, false).run();
        Path run = dir.resolve("crashed");
        Trainer first = Trainer.start(small(), run, QUIET, false);
        first.stopAfter(8);
        first.run();
        Path step8 = dir.resolve("step8.safetensors");
        Files.copy(run.resolve(Checkpoint.FILE), step8);
        Trainer second = Trainer.resume(run, c -> c, QUIET, false);
        second.stopAfter(13);
        second.run();
        // a crash at step 13 whose last checkpoint was step 8's: metrics.jsonl runs ahead of it
        Files.copy(step8, run.resolve(Checkpoint.FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(MetricsLog.read(run).get(MetricsLog.read(run).size() - 1).get("step").asLong()).isEqualTo(13);
        Trainer third = Trainer.resume(run, c -> c, QUIET, false);
        assertThat(third.firstStep()).isEqualTo(8);
        third.run();
        assertThat(comparable(run)).isEqualTo(comparable(dir.resolve("whole")));
    }

    @Test
    void resumingAFinishedRunIsRefusedAndChangesNothing() throws IOException {
        Path run = dir.resolve("done");
        Trainer.start(small(), run, QUIET, false).run();
        byte[] metrics = Files.readAllBytes(run.resolve(MetricsLog.FILE));
        byte[] checkpoint = Files.readAllBytes(run.resolve(Checkpoint.FILE));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Trainer.resume(run, c -> c, QUIET, false))
                .isInstanceOf(TrainException.class).hasMessageContaining("complete");
        assertThat(Files.readAllBytes(run.resolve(MetricsLog.FILE))).isEqualTo(metrics);
        assertThat(Files.readAllBytes(run.resolve(Checkpoint.FILE))).isEqualTo(checkpoint);
    }

    @Test
    void aRunThatFailsBeforeItsFirstCheckpointIsRemoved() throws IOException {
        Path run = dir.resolve("runs/early");
        Trainer t = Trainer.start(small(), run, QUIET, false);
        assertThat(run.resolve(Trainer.CONFIG)).exists();
        t.failAt(5);                                    // checkpoints come every 8 steps
        org.assertj.core.api.Assertions.assertThatThrownBy(t::run)
                .isInstanceOf(RunFailedException.class).hasMessageContaining("failure injected at step 5")
                .satisfies(e -> assertThat(((RunFailedException) e).runDir()).isNull());
        assertThat(run).doesNotExist();
        assertThat(dir.resolve("runs")).isEmptyDirectory();
    }

    @Test
    void aRunThatFailsLaterKeepsItsLastCheckpointAndResumesToWhatAnUnbrokenRunWrites() throws IOException {
        Trainer.start(small(), dir.resolve("whole"), QUIET, false).run();
        Path run = dir.resolve("late");
        Trainer first = Trainer.start(small(), run, QUIET, false);
        first.failAt(12);                               // after step 8's checkpoint
        org.assertj.core.api.Assertions.assertThatThrownBy(first::run)
                .isInstanceOf(RunFailedException.class)
                .satisfies(e -> assertThat(((RunFailedException) e).runDir()).isEqualTo(run));
        assertThat(Checkpoint.configOf(run.resolve(Checkpoint.FILE))).isEqualTo(small());
        Trainer second = Trainer.resume(run, c -> c, QUIET, false);
        assertThat(second.firstStep()).isEqualTo(8);
        second.run();
        assertThat(comparable(run)).isEqualTo(comparable(dir.resolve("whole")));
    }
}
