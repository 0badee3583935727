package dev.reformer.benchmark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's tables, targets and plots from given rows (the numbers here are made up for the test). */
class BenchReportTest {
    @TempDir
    Path dir;

    private static JsonNode row(String variant, int length, double ms, double peak) throws IOException {
        return new ObjectMapper().readTree(String.format(java.util.Locale.ROOT,
                "{\"kind\":\"attention\",\"variant\":\"%s\",\"L\":%d,\"B\":%d,\"D\":64,\"n_hashes\":4,\"causal\":false,"
                        + "\"pass\":\"fwd+bwd\",\"ms\":%f,\"tokens_per_s\":1,\"gflops\":1,\"peak_mib\":%f,\"offheap_peak_mib\":1,"
                        + "\"offheap_before_mib\":0,\"heap_peak_mib\":1,\"runs\":5,\"machine\":\"m\",\"java\":\"17\",\"nd4j\":\"x\"}",
                variant, length, Math.max(1, 16384 / length), ms, peak));
    }

    private static JsonNode stack(String variant, int depth, double peak, double before) throws IOException {
        return new ObjectMapper().readTree(String.format(java.util.Locale.ROOT,
                "{\"kind\":\"stack\",\"variant\":\"%s\",\"L\":4096,\"B\":1,\"depth\":%d,\"causal\":true,\"pass\":\"fwd+bwd\","
                        + "\"ms\":10,\"tokens_per_s\":1,\"gflops\":null,\"peak_mib\":100,\"offheap_peak_mib\":%f,"
                        + "\"offheap_before_mib\":%f,\"heap_peak_mib\":1}", variant, depth, peak, before));
    }

    @Test
    void attentionRatesAreReadAgainstTheSgemmRowOfTheSameRun() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> rows = new ArrayList<>();
        rows.add(json.readTree("{\"kind\":\"sgemm\",\"variant\":\"sgemm\",\"L\":2048,\"ms\":120,\"gflops\":140}"));
        rows.add(((com.fasterxml.jackson.databind.node.ObjectNode) row("full", 16384, 2000, 400)).put("gflops", 84.0));
        rows.add(((com.fasterxml.jackson.databind.node.ObjectNode) row("lsh4", 4096, 200, 400)).put("gflops", 28.0));
        assertThat(BenchReport.targets(rows)).contains("sgemm (ND4J's BLAS, 2048^3) in this run: 140 GFLOP/s")
                .contains("full attention, L = 16K, forward and backward: 84 GFLOP/s, 60% of sgemm (aim 50%: met)")
                .contains("LSH-4, L = 4K, forward and backward: 28 GFLOP/s, 20% of sgemm (aim 35%: missed)");
        assertThat(BenchConfig.sgemm().flops()).isEqualTo(2.0 * 2048 * 2048 * 2048);
    }

    @Test
    void targetsAreReadFromTheRowsAndEveryFileIsWritten() throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        rows.add(row("full", 1024, 100, 400));
        rows.add(row("lsh4", 1024, 150, 500));
        rows.add(row("full", 2048, 200, 400));
        rows.add(row("lsh4", 2048, 150, 500));
        rows.add(row("full", 16384, 2400, 450));
        rows.add(row("lsh4", 16384, 180, 600));
        rows.add(row("lsh4", 65536, 800, 900));
        rows.add(stack("reversible", 1, 60, 10));
        rows.add(stack("reversible", 12, 70, 12));
        String targets = BenchReport.targets(rows);
        assertThat(targets).contains("L = 1024: full / LSH-4 = 0.67 (full attention faster)")
                .contains("L = 2048: full / LSH-4 = 1.33 (LSH-4 faster: met)")
                .contains("at L = 16K LSH-4 is 13.3x faster than full attention (target 12x: met)")
                .contains("process peak 900 MiB (target under 1 GiB: met)")
                .contains("= 1.16x (target at most 1.2x: met)");
        List<JsonNode> compare = List.of(row("lsh4", 16384, 360, 0));
        BenchReport.write(dir, rows, compare, "peer.jsonl", "bin/reformer bench --quick --compare peer.jsonl");
        String report = Files.readString(dir.resolve("report.md"));
        assertThat(report).contains("| LSH K=4, L=16384, fwd+bwd | 1 | 180.0 |").contains("360.0 | 0.50 |")
                .contains("Compared with `peer.jsonl`").contains("4 B L W D");
        for (String png : List.of("fig5-time.png", "memory-vs-length.png", "memory-vs-depth.png", "ffchunks-time.png")) {
            assertThat(Files.size(dir.resolve(png))).as(png).isPositive();
        }
        BenchReport.write(dir, rows, null, null, "bin/reformer bench");
        assertThat(Files.readString(dir.resolve("report.md"))).contains("No comparison was given");
    }
}
