package dev.reformer.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The main job, {@code bin/reformer train} with no options: the duplication task at the CPU-sized
 * configuration reaches 95% accuracy on the second copy within 3,000 steps, as read from its
 * metrics.jsonl. About two minutes on two cores (it stops at 99%).
 */
class MainJobTest {
    @TempDir
    Path dir;

    @Test
    void theDefaultRunLearnsToCopy() throws IOException {
        Trainer.Result r = Trainer.start(TrainConfig.defaults(), dir.resolve("main"),
                new PrintStream(new ByteArrayOutputStream()), false).run();
        long firstAt95 = -1;
        for (JsonNode line : MetricsLog.read(dir.resolve("main"))) {
            if (line.get("split").asText().equals("eval") && line.get("accuracy").asDouble() >= 0.95 && firstAt95 < 0) {
                firstAt95 = line.get("step").asLong();
            }
        }
        assertThat(firstAt95).as("the first evaluation at 95%% or more").isBetween(1L, 3000L);
        assertThat(r.reachedTarget()).isTrue();
        assertThat(r.eval().accuracy()).isGreaterThanOrEqualTo(0.99);
    }
}
