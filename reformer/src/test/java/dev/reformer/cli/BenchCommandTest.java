package dev.reformer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bench}'s bad input, and how it reads comparison rows. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private String[] refusal(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new String[] {Integer.toString(code), err.toString()};
    }

    private void refused(String words, String... args) throws IOException {
        String[] r = refusal(args);
        assertThat(r[0]).as(r[1]).isEqualTo("2");
        assertThat(r[1].strip().lines().count()).as(r[1]).isEqualTo(1);
        assertThat(r[1]).contains(words);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("out")).toList()).as("nothing written").isEmpty();
        }
    }

    @Test
    void badInputIsOneLineAndWritesNothing() throws IOException {
        String out = dir.resolve("out").toString();
        refused("unknown variant 'sparse'", "bench", "--out", out, "--variants", "full,sparse");
        refused("length 1000 does not fit the chunking", "bench", "--out", out, "--lengths", "1000");
        refused("full, L=268435456, fwd+bwd would need about", "bench", "--out", out, "--variants", "full", "--lengths",
                "268435456");
        Path notJson = Files.writeString(dir.resolve("peer.jsonl"), "{\"variant\":\"full\",\"L\":1024,\"ms\":3}\nnot json\n");
        refused("line 2 is not a JSON object", "bench", "--out", out, "--compare", notJson.toString());
        refused("cannot be read", "bench", "--out", out, "--compare", dir.resolve("missing.jsonl").toString());
        Files.createDirectory(dir.resolve("out-existing"));
        String[] r = refusal("bench", "--out", dir.resolve("out-existing").toString(), "--quick");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("exists already");
    }

    @Test
    void thePeersRowsAreReadInThisCommandsTerms() throws IOException {
        Path peer = Files.writeString(dir.resolve("peer.jsonl"),
                "{\"kind\":\"lsh\",\"L\":4096,\"n_hashes\":4,\"causal\":false,\"median_s\":0.357}\n"
                        + "{\"kind\":\"full\",\"L\":1024,\"causal\":true,\"median_s\":0.3}\n");
        List<JsonNode> rows = BenchCommand.readCompare(peer);
        assertThat(rows.get(0).get("variant").asText()).isEqualTo("lsh4");
        assertThat(rows.get(0).get("pass").asText()).isEqualTo("fwd+bwd");
        assertThat(rows.get(0).get("ms").asDouble()).isEqualTo(357.0);
        assertThat(rows.get(1).get("variant").asText()).isEqualTo("full");
    }
}
