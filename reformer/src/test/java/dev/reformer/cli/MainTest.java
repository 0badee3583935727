package dev.reformer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpDescribesTheCommand() {
        Run r = run("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: reformer").contains("--version").contains("Reformer");
    }

    @Test
    void theRootHelpListsEveryCommandWithItsWholeSummary() {
        java.util.List<String> lines = run("--help").out().lines().toList();
        CommandLine cli = Main.commandLine();
        assertThat(cli.getSubcommands()).containsKeys("train", "eval", "generate", "probe");
        cli.getSubcommands().forEach((name, sub) -> {
            String[] header = sub.getCommandSpec().usageMessage().header();
            assertThat(header).as(name).hasSize(1);
            assertThat(header[0]).as(name).endsWith(".");
            // on one line of its own, not wrapped
            assertThat(lines).as(name).anyMatch(line -> line.strip().matches(name + " +" + java.util.regex.Pattern.quote(header[0])));
        });
    }

    /**
     * picocli formats a description with {@code String.format}; a lone {@code %} (as in "99%")
     * makes it print a warning to the JVM's standard error, before the help, which the
     * {@link CommandLine#setErr} writer does not catch. So this renders every command's help with
     * {@code System.err} captured and asserts picocli said nothing there.
     */
    @Test
    void everyCommandsHelpRendersWithoutAPicocliWarning() {
        CommandLine root = Main.commandLine();
        java.util.List<String> commands = new java.util.ArrayList<>();
        commands.add("");
        root.getSubcommands().keySet().forEach(commands::add);
        assertThat(commands).contains("train", "eval", "generate", "bench", "reproduce", "probe");
        java.io.PrintStream systemErr = System.err;
        for (String command : commands) {
            java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
            Run r;
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            try {
                r = command.isEmpty() ? run("--help") : run(command, "--help");
            } finally {
                System.setErr(systemErr);
            }
            String said = captured.toString(java.nio.charset.StandardCharsets.UTF_8) + r.err();
            assertThat(r.exitCode()).as(command).isZero();
            assertThat(r.out()).as(command).contains("Usage: reformer");
            assertThat(said).as("what picocli printed beside the help of '" + command + "'").doesNotContain("picocli").isEmpty();
        }
    }

    @Test
    void versionNamesTheProjectAndItsEngine() {
        Run r = run("--version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("reformer ").contains("ND4J 1.0.0-M2.1").contains("OpenBLAS kernels");
    }

    @Test
    void anUnknownOptionIsAUsageErrorWithExitCode2() {
        Run r = run("--no-such-option");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--no-such-option'");
    }

    @Test
    void anUnexpectedErrorIsOneLineNamingItsLogExitCode1() throws java.io.IOException {
        StringWriter err = new StringWriter();
        int code = Main.unexpected(new IllegalStateException("a bug"), "reformer eval", new PrintWriter(err));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip().lines().count()).isEqualTo(1);
        assertThat(err.toString()).startsWith("reformer eval: unexpected error: java.lang.IllegalStateException: a bug; stack trace in ");
        java.nio.file.Path log = java.nio.file.Path.of(err.toString().replaceAll("(?s).*stack trace in (\\S+) .*", "$1"));
        try {
            assertThat(java.nio.file.Files.readString(log)).contains("a bug").contains("at dev.reformer.cli.MainTest");
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    @Test
    void aRunOutOfMemorySaysToShrinkTheRunNotToResumeIt() throws java.io.IOException {
        StringWriter err = new StringWriter();
        int code = Main.unexpected(new dev.reformer.train.RunFailedException(null, new OutOfMemoryError("Java heap space")),
                "reformer train", new PrintWriter(err));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip().lines().count()).isEqualTo(1);
        assertThat(err.toString()).startsWith("reformer train: out of memory (Java heap space); the run had no checkpoint yet and was removed")
                .contains("smaller --batch").contains("REFORMER_JAVA_OPTS=-Xmx").doesNotContain("--resume");
        java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(err.toString().replaceAll("(?s).*stack trace in (\\S+).*", "$1").strip()));
    }

    @Test
    void aFailedRunThatKeptItsCheckpointGetsItsLogInsideAndTheResumeCommand(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Files.writeString(dir.resolve(dev.reformer.train.Checkpoint.FILE), "x");
        StringWriter err = new StringWriter();
        int code = Main.unexpected(new dev.reformer.train.RunFailedException(dir, new IllegalStateException("a bug")),
                "reformer train", new PrintWriter(err));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip().lines().count()).isEqualTo(1);
        assertThat(err.toString()).contains("unexpected error: java.lang.IllegalStateException: a bug; the run keeps its"
                + " last checkpoint, continue with --resume " + dir + "; stack trace in " + dir.resolve(Main.ERROR_LOG));
        assertThat(java.nio.file.Files.readString(dir.resolve(Main.ERROR_LOG))).contains("a bug");
    }
}
