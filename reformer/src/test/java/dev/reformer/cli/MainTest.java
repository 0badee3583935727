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
}
