package dev.reformer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.MetricsLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code train} and {@code eval} on the command line: a tiny run, and bad input of every kind. */
class TrainCommandTest {
    @TempDir
    Path dir;

    private record Run(int exitCode, String err) {
    }

    /** A tiny duplication run: L = 16, 6 steps, evaluation and checkpoints every 3. */
    static final String[] TINY = {"--word-length", "7", "--symbols", "10", "--chunk", "4", "--buckets", "4", "--d-model", "16",
        "--d-ff", "32", "--heads", "2", "--head-dim", "8", "--steps", "6", "--batch", "2", "--eval-every", "3",
        "--eval-batches", "1", "--checkpoint-every", "3", "--stop-at", "0", "--seed", "5"};

    private Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, err.toString());
    }

    private String[] tiny(String... more) {
        List<String> all = new ArrayList<>(List.of("train", "--runs", dir.resolve("runs").toString()));
        all.addAll(Arrays.asList(TINY));
        all.addAll(Arrays.asList(more));
        return all.toArray(String[]::new);
    }

    /** Exit code 2 and exactly one line on standard error that contains {@code words}. */
    private static void refused(Run r, String... words) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains(words);
    }

    private static List<String> snapshot(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        List<String> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted().toList()) {
                files.add(root.relativize(p) + (Files.isRegularFile(p) ? " " + Arrays.hashCode(Files.readAllBytes(p)) : ""));
            }
        }
        return files;
    }

    @Test
    void aTinyRunWritesItsDirectoryAndEvalReadsIt() throws IOException {
        Run r = run(tiny("--name", "t"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path t = dir.resolve("runs/t");
        assertThat(t.resolve("config.json")).exists();
        assertThat(t.resolve(MetricsLog.FILE)).exists();
        assertThat(t.resolve(Checkpoint.FILE)).exists();
        assertThat(t.resolve("curves.png")).exists();
        assertThat(MetricsLog.read(t)).hasSize(6 + 2);
        assertThat(run("eval", t.toString(), "--n-hashes", "4").exitCode()).isZero();
        assertThat(run("eval", t.toString(), "--attention", "full").exitCode()).isZero();
    }

    @Test
    void badOptionsAreOneLineErrorsAndWriteNothing() throws IOException {
        refused(run(tiny("--task", "nope")), "unknown task 'nope'");
        refused(run(tiny("--no-such-flag")), "Unknown option: '--no-such-flag'", "bin/reformer train --help");
        refused(run(tiny("--steps", "0")), "--steps 0");
        refused(run(tiny("--lr", "-1")), "--lr -1");
        refused(run(tiny("--n-hashes", "0")), "--n-hashes 0");
        refused(run(tiny("--buckets", "3")), "bucket count 3", "even");
        refused(run(tiny("--attention", "sparse")), "attention type 'sparse'");
        refused(run(tiny("--name", "../escape")), "--name '../escape'");
        refused(run(tiny("--steps", "many")), "--steps", "many");
        refused(run(tiny("--task", "charlm", "--warmup", "0", "--data", dir.resolve("missing.txt").toString())), "no such file");
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        refused(run(tiny("--task", "charlm", "--warmup", "0", "--data", empty.toString())), "is empty");
        Path shortText = Files.writeString(dir.resolve("short.txt"), "to be or not to be");
        refused(run(tiny("--task", "charlm", "--warmup", "0", "--data", shortText.toString(), "--length", "16")), "too short");
        Path high = Files.write(dir.resolve("high.bin"), new byte[] {'a', (byte) 0xE9, 'b'});
        refused(run(tiny("--task", "charlm", "--warmup", "0", "--data", high.toString(), "--length", "0")), "--length 0");
        Path accented = Files.write(dir.resolve("accented.txt"), ("caf" + "\u00e9 ".repeat(400)).getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        refused(run(tiny("--task", "charlm", "--warmup", "0", "--data", accented.toString(), "--length", "16", "--vocab", "128")),
                "outside the vocabulary of 128");
        assertThat(snapshot(dir.resolve("runs"))).isEmpty();
    }

    @Test
    void anExistingRunNameIsRefusedAndLeftAlone() throws IOException {
        assertThat(run(tiny("--name", "t")).exitCode()).isZero();
        List<String> before = snapshot(dir.resolve("runs"));
        refused(run(tiny("--name", "t")), "exists already");
        assertThat(snapshot(dir.resolve("runs"))).isEqualTo(before);
    }

    @Test
    void aResumeThatDoesNotFitIsRefusedAndLeavesTheRunIntact() throws IOException {
        Path t = dir.resolve("runs/t");
        assertThat(run(tiny("--name", "t", "--steps", "6")).exitCode()).isZero();
        List<String> before = snapshot(dir.resolve("runs"));
        refused(run("train", "--resume", t.toString(), "--lr", "0.5"), "differ from the run's config", "lr 0.5 vs 0.001");
        refused(run("train", "--resume", t.toString()), "complete");
        refused(run("train", "--resume", dir.resolve("runs/none").toString()), "no such run directory");
        refused(run("train", "--resume", t.toString(), "--name", "x"), "--resume and --name");
        assertThat(snapshot(dir.resolve("runs"))).isEqualTo(before);
    }

    @Test
    void aTruncatedOrCorruptedCheckpointIsRefusedAndLeftAsItWas() throws IOException {
        Path t = dir.resolve("runs/t");
        assertThat(run(tiny("--name", "t", "--steps", "12")).exitCode()).isZero();
        // make the run look interrupted at step 6, then damage its checkpoint
        Path file = t.resolve(Checkpoint.FILE);
        byte[] good = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(good, good.length - 100));
        List<String> before = snapshot(dir.resolve("runs"));
        refused(run("train", "--resume", t.toString()), "not a readable checkpoint");
        refused(run("eval", t.toString()), "not a readable checkpoint");
        assertThat(snapshot(dir.resolve("runs"))).isEqualTo(before);

        byte[] flipped = good.clone();
        flipped[flipped.length - 5] ^= 0x10;
        Files.write(file, flipped);
        refused(run("eval", t.toString()), "checksum");
        Files.write(file, new byte[] {1, 2, 3});
        refused(run("eval", t.toString()), "not a readable checkpoint");
        refused(run("eval", dir.resolve("nowhere").toString()), "no checkpoint at");
    }

    private String stdout(String... args) {
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            Run r = run(args);
            assertThat(r.exitCode()).as(r.err()).isZero();
        } finally {
            System.setOut(saved);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void generateSamplesTheSameTextWithAndWithoutTheCache() throws IOException {
        Path text = Files.writeString(dir.resolve("text.txt"), "the quick brown fox jumps over the lazy dog\n".repeat(60));
        Run trained = run(tiny("--name", "c", "--task", "charlm", "--data", text.toString(), "--length", "32", "--vocab", "128",
                "--warmup", "0", "--attention", "local,lsh", "--layers", "2"));
        assertThat(trained.exitCode()).as(trained.err()).isZero();
        Path c = dir.resolve("runs/c");
        String cached = stdout("generate", c.toString(), "--prompt", "the quick", "--tokens", "20", "--seed", "4");
        String uncached = stdout("generate", c.toString(), "--prompt", "the quick", "--tokens", "20", "--seed", "4",
                "--no-cache");
        assertThat(cached).startsWith("the quick").isEqualTo(uncached);
        assertThat(cached.strip().length()).isGreaterThan("the quick".length());
        refused(run("generate", c.toString(), "--prompt", "caf\u00e9"), "outside the model's vocabulary of 128");
        refused(run("generate", c.toString(), "--temperature", "-1"), "--temperature -1");
        assertThat(run(tiny("--name", "d")).exitCode()).isZero();
        refused(run("generate", dir.resolve("runs/d").toString()), "duplication task", "--task charlm");
    }

    @Test
    void twoProcessesWithTheSameSeedWriteTheSameMetrics() throws Exception {
        for (String name : List.of("a", "b")) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName()));
            cmd.addAll(Arrays.asList(tiny("--name", name)));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        }
        assertThat(comparable(dir.resolve("runs/b"))).isEqualTo(comparable(dir.resolve("runs/a"))).isNotEmpty();
    }

    private static List<String> comparable(Path run) throws IOException {
        List<String> lines = new ArrayList<>();
        for (var line : MetricsLog.read(run)) {
            ObjectNode copy = ((ObjectNode) line).deepCopy();
            MetricsLog.WALL_CLOCK_FIELDS.forEach(copy::remove);
            lines.add(copy.toString());
        }
        return lines;
    }
}
