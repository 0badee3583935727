package dev.reformer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code reproduce}: its plan printed up front, and bad input refused in one line with nothing written. */
class ReproduceCommandTest {
    @TempDir
    Path dir;

    private String[] execute(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = cli.execute(args);
            return new String[] {Integer.toString(code), err.toString(), out.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void thePlanNamesEachPartAndItsTimeAndWritesNothing() {
        Path out = dir.resolve("repro");
        String[] r = execute("reproduce", "--quick", "--plan", "--out", out.toString());
        assertThat(r[0]).as(r[1]).isEqualTo("0");
        assertThat(r[2]).contains("quick plan", "Table 2: 24 units, about", "Figure 3: 3 units", "Figure 5: 15 units",
                "Table 3: 5 units", "in all");
        assertThat(out).doesNotExist();
    }

    @Test
    void badInputIsOneLine() throws Exception {
        String[] r = execute("reproduce", "--resume", dir.resolve("nothing").toString());
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1].strip().lines().count()).as(r[1]).isEqualTo(1);
        assertThat(r[1]).contains("has no plan.json");
        r = execute("reproduce", "--resume", dir.toString(), "--quick");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("--resume goes alone");
        Files.createDirectory(dir.resolve("taken"));
        r = execute("reproduce", "--quick", "--out", dir.resolve("taken").toString());
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1].strip().lines().count()).as(r[1]).isEqualTo(1);
        assertThat(r[1]).contains("exists already");
        try (var files = Files.list(dir.resolve("taken"))) {
            assertThat(files.toList()).as("an existing folder is left alone").isEmpty();
        }
    }
}
