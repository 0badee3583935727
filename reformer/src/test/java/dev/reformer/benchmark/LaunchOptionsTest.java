package dev.reformer.benchmark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The launcher script and {@link LaunchOptions} give the JVM the same options, for the JDK these
 * tests run on: {@code REFORMER_DRY_RUN=1 bin/reformer} prints its java command without building
 * or running anything.
 */
class LaunchOptionsTest {
    @Test
    void theLauncherStartsTheJvmAsLaunchOptionsSays() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "bin", "reformer").toString(), "--version");
        pb.environment().put("REFORMER_DRY_RUN", "1");
        pb.environment().put("REFORMER_JAVA", java.toString());
        pb.environment().remove("REFORMER_JAVA_OPTS");
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<String> lines = Arrays.asList(out.strip().split("\n"));
        assertThat(lines.get(0)).isEqualTo(java.toString());
        int cp = lines.indexOf("-cp");
        assertThat(lines.subList(1, cp)).as("the script's JVM options for Java %d", Runtime.version().feature())
                .containsExactlyElementsOf(LaunchOptions.launcher());
        assertThat(lines.subList(cp + 2, lines.size())).containsExactly("dev.reformer.cli.Main", "--version");
    }

    @Test
    void newerJdksGetTheOptionsThatSilenceNativeLibraries() {
        assertThat(LaunchOptions.quiet(17)).containsExactly("--enable-native-access=ALL-UNNAMED");
        assertThat(LaunchOptions.quiet(25)).containsExactly("--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow");
    }

    /**
     * bin/reformer.cmd (Windows) cannot run here, so this reads its {@code set "OPTIONS=..."} lines:
     * for Java 17 and 25 the options they build are {@link LaunchOptions#launcher(int)}'s.
     */
    @Test
    void theWindowsLauncherNamesTheSameOptions() throws IOException {
        List<String> lines = java.nio.file.Files.readAllLines(Path.of("..", "bin", "reformer.cmd"));
        for (int feature : new int[] {17, 25}) {
            List<String> options = new java.util.ArrayList<>();
            for (String line : lines) {
                java.util.regex.Matcher m = java.util.regex.Pattern
                        .compile("^\\s*(?:if !FEATURE! GEQ (\\d+) )?set \"OPTIONS=(?:!OPTIONS! )?(.*)\"$").matcher(line);
                if (m.matches() && (m.group(1) == null || feature >= Integer.parseInt(m.group(1)))) {
                    options.addAll(Arrays.asList(m.group(2).split(" ")));
                }
            }
            assertThat(options).as("Java %d", feature).containsExactlyElementsOf(LaunchOptions.launcher(feature));
        }
    }
}
