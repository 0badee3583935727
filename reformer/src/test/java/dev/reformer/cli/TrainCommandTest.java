package dev.reformer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reformer.train.Checkpoint;
import dev.reformer.train.MetricsLog;
import dev.reformer.train.TrainConfig;
import dev.reformer.train.Trainer;
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
    static final String[] COMMON = {"--chunk", "4", "--buckets", "4", "--d-model", "16",
        "--d-ff", "32", "--heads", "2", "--head-dim", "8", "--steps", "6", "--batch", "2", "--eval-every", "3",
        "--eval-batches", "1", "--checkpoint-every", "3", "--stop-at", "0", "--seed", "5"};
    static final String[] TINY = java.util.stream.Stream.concat(Stream.of("--word-length", "7", "--symbols", "10"),
            Arrays.stream(COMMON)).toArray(String[]::new);

    private Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, err.toString());
    }

    /** A tiny charlm run on the options of {@link #COMMON}. */
    private String[] charlm(String... more) {
        List<String> all = new ArrayList<>(List.of("train", "--runs", dir.resolve("runs").toString(), "--task", "charlm",
                "--warmup", "0"));
        all.addAll(Arrays.asList(COMMON));
        all.addAll(Arrays.asList(more));
        return all.toArray(String[]::new);
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
        refused(run(charlm("--data", dir.resolve("missing.txt").toString())), "no such file");
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        refused(run(charlm("--data", empty.toString())), "is empty");
        Path shortText = Files.writeString(dir.resolve("short.txt"), "to be or not to be");
        refused(run(charlm("--data", shortText.toString(), "--length", "16")), "too short");
        refused(run(charlm("--data", shortText.toString(), "--length", "0")), "--length 0");
        refused(run(tiny("--data", shortText.toString())), "options of --task charlm");
        refused(run(charlm("--symbols", "20")), "options of --task duplication");
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        refused(run(tiny("--runs", notADirectory.resolve("runs").toString())), "is a file, not a directory");
        Path accented = Files.write(dir.resolve("accented.txt"), ("caf" + "\u00e9 ".repeat(400)).getBytes(
                java.nio.charset.StandardCharsets.UTF_8));
        refused(run(charlm("--data", accented.toString(), "--length", "16", "--vocab", "128")),
                "outside the vocabulary of 128");
        // issue 18's two batches: before, a NegativeArraySizeException and an integer overflow after config.json was written
        List<String> defaults = List.of("train", "--runs", dir.resolve("runs").toString(), "--steps", "2");
        refused(run(Stream.concat(defaults.stream(), Stream.of("--batch", "100000000")).toArray(String[]::new)),
                "--batch 100000000", "past the engine's limit", "use --batch");
        refused(run(Stream.concat(defaults.stream(), Stream.of("--batch", "20000")).toArray(String[]::new)),
                "--batch 20000", "2,621,440,000 elements", "use --batch 4095 or less");
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
        // an unfinished run: stopped after step 6 of 12, as Ctrl-C leaves it; then its checkpoint damaged
        java.util.Map<String, Object> tiny = new java.util.HashMap<>();
        for (int i = 0; i < TINY.length; i += 2) {
            String key = TINY[i].substring(2).replace('-', '_');
            String value = TINY[i + 1];
            tiny.put(key, value.matches("-?\\d+") ? (Object) Long.parseLong(value) : (Object) Double.parseDouble(value));
        }
        tiny.put("steps", 12L);
        Trainer trainer = Trainer.start(TrainConfig.defaults().with(tiny), t,
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), false);
        trainer.stopAfter(6);
        assertThat(trainer.run().interrupted()).isTrue();
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
        refused(run("train", "--resume", t.toString()), "checksum");
        // a changed header: the step in the metadata
        String header = new String(good, StandardCharsets.ISO_8859_1);
        assertThat(header).contains("\"step\":\"6\"");
        Files.write(file, header.replace("\"step\":\"6\"", "\"step\":\"3\"").getBytes(StandardCharsets.ISO_8859_1));
        refused(run("train", "--resume", t.toString()), "checksum");
        // the good checkpoint again, but metrics.jsonl has lost a line it depends on
        Files.write(file, good);
        List<String> lines = Files.readAllLines(t.resolve(MetricsLog.FILE));
        Files.write(t.resolve(MetricsLog.FILE), lines.subList(0, 2));
        before = snapshot(dir.resolve("runs"));
        refused(run("train", "--resume", t.toString()), "train lines of steps 1..2", "checkpoint is at step 6");
        assertThat(snapshot(dir.resolve("runs"))).isEqualTo(before);
        Files.write(t.resolve(MetricsLog.FILE), lines);
        assertThat(run("train", "--resume", t.toString()).exitCode()).isZero();
        assertThat(MetricsLog.read(t).get(MetricsLog.read(t).size() - 1).get("step").asLong()).isEqualTo(12);
        refused(run("eval", dir.resolve("nowhere").toString()), "no checkpoint at");
        refused(run("eval", t.toString(), "--batches", "0"), "--batches 0");
        Files.write(file, new byte[] {1, 2, 3});
        refused(run("eval", t.toString()), "not a readable checkpoint");
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
        Run trained = run(charlm("--name", "c", "--data", text.toString(), "--length", "32", "--vocab", "128",
                "--attention", "local,lsh", "--layers", "2"));
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

    private List<String> childJvm(String... args) {
        // the children run the loops this JVM runs, so their numbers can be compared with ours
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(dev.reformer.tensor.kernels.Kernels.jvmOptions());
        cmd.addAll(dev.reformer.benchmark.LaunchOptions.quiet(Runtime.version().feature()));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    @Test
    void aTerminatedProcessSavesItsCheckpointAndTheResumeEqualsAnUninterruptedRun() throws Exception {
        String[] options = tiny("--name", "i", "--steps", "400", "--eval-every", "50", "--checkpoint-every", "1000");
        Process p = new ProcessBuilder(childJvm(options)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Path metrics = dir.resolve("runs/i").resolve(MetricsLog.FILE);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (p.isAlive() && (!Files.exists(metrics) || Files.readAllLines(metrics).size() < 10)
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        p.destroy();                                           // SIGTERM: the JVM runs the same hook as for Ctrl-C
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("killed by SIGTERM after its hook").isEqualTo(143);
        long stopped = MetricsLog.read(dir.resolve("runs/i")).stream().filter(l -> l.get("split").asText().equals("train"))
                .mapToLong(l -> l.get("step").asLong()).max().orElseThrow();
        assertThat(stopped).isBetween(10L, 399L);
        assertThat(dir.resolve("runs/i").resolve(Checkpoint.FILE)).exists();

        Process resumed = new ProcessBuilder(childJvm("train", "--resume", dir.resolve("runs/i").toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(resumed.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(resumed.exitValue()).isZero();
        assertThat(run(tiny("--name", "whole", "--steps", "400", "--eval-every", "50", "--checkpoint-every", "1000"))
                .exitCode()).isZero();
        assertThat(comparable(dir.resolve("runs/i"))).hasSize(400 + 8).isEqualTo(comparable(dir.resolve("runs/whole")));
    }

    @Test
    void twoProcessesWithTheSameSeedWriteTheSameMetrics() throws Exception {
        for (String name : List.of("a", "b")) {
            Process p = new ProcessBuilder(childJvm(tiny("--name", name))).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
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
