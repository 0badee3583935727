package dev.reformer.cli;

import dev.reformer.train.RunFailedException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/reformer} command line. Subcommands are added as the project grows; each one
 * documents itself through {@code --help}.
 */
@Command(name = "reformer",
        mixinStandardHelpOptions = true,
        subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, BenchCommand.class, ProbeCommand.class,
            ReproduceCommand.class},
        versionProvider = Main.Version.class,
        description = "The Reformer (Kitaev, Kaiser, Levskaya, ICLR 2020) on a small JVM tensor engine.",
        footer = {"", "Run 'bin/reformer COMMAND --help' for a command's options. Start with: bin/reformer train"})
public final class Main implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by {@link #main} and the tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler(Main::badUsage);
        cli.setOverwrittenOptionsAllowed(true);          // the last of a repeated option wins, as in most tools
        cli.setExecutionExceptionHandler(Main::failed);
        return cli;
    }

    /**
     * A file the command could not read or write (a path that is a file where a directory should be,
     * no permission, a missing directory): one line naming the path and the reason, exit code 2.
     * Anything else is unexpected (a bug, or the JVM out of memory): one line naming it and the log
     * that holds its stack trace, exit code 1 (see {@link #unexpected}).
     */
    private static int failed(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) throws Exception {
        if (e instanceof java.nio.file.FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason()
                    : f.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + f.getFile()
                    + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + reason
                    + " (check the path and its permissions)");
            cmd.getErr().flush();
            return 2;
        }
        return unexpected(e, cmd.getCommandSpec().qualifiedName(), cmd.getErr());
    }

    /** The log an unexpected error's stack trace is written to. */
    static final String ERROR_LOG = "error.log";

    /**
     * Writes {@code e}'s stack trace to a log, inside the run folder when a training run kept one
     * ({@link RunFailedException#runDir}), else to a new file in the system's temporary directory,
     * and prints one line naming the error and the log; exit code 1.
     */
    static int unexpected(Exception e, String command, java.io.PrintWriter err) {
        Throwable cause = e instanceof RunFailedException && e.getCause() != null ? e.getCause() : e;
        Path runDir = e instanceof RunFailedException r ? r.runDir() : null;
        String where;
        try {
            java.io.StringWriter trace = new java.io.StringWriter();
            cause.printStackTrace(new java.io.PrintWriter(trace));
            Path log = runDir != null ? runDir.resolve(ERROR_LOG)
                    : Files.createTempFile("reformer-error-", ".log");
            Files.writeString(log, command + ": " + java.time.Instant.now() + "\n" + trace);
            where = "stack trace in " + log;
        } catch (java.io.IOException | RuntimeException | Error logFailed) {
            where = "no log written (" + firstLine(logFailed.toString()) + ")";
        }
        boolean outOfMemory = cause instanceof OutOfMemoryError;
        String run = !(e instanceof RunFailedException) ? ""
                : runDir == null ? "; the run had no checkpoint yet and was removed"
                : !Files.exists(runDir.resolve(dev.reformer.train.Checkpoint.FILE)) ? "; the run folder " + runDir + " holds no checkpoint"
                : outOfMemory ? "; the run keeps its last checkpoint"     // a resume would run out of memory again
                : "; the run keeps its last checkpoint, continue with --resume " + runDir;
        String line = outOfMemory
                ? command + ": out of memory (" + firstLine(cause.getMessage()) + ")" + run
                        + ": start again with a smaller --batch or --length, or give the JVM more memory"
                        + " (REFORMER_JAVA_OPTS=-Xmx8g); " + where
                : command + ": unexpected error: " + firstLine(cause.toString()) + run + "; " + where + " (please report it)";
        err.println(line);
        err.flush();
        return 1;
    }

    private static String firstLine(String text) {
        return text == null ? "" : text.strip().lines().findFirst().orElse("");
    }

    /** A mistyped command line: one line naming the problem and where the help is, exit code 2. */
    private static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        cmd.getErr().println(name + ": " + e.getMessage() + " (see '" + name.replaceFirst("^reformer", "bin/reformer")
                + " --help')");
        cmd.getErr().flush();
        return 2;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "reformer " + (version == null ? "development build" : version),
                "Java " + System.getProperty("java.version") + ", ND4J 1.0.0-M2.1",
                dev.reformer.tensor.kernels.Kernels.describe() + "; " + dev.reformer.tensor.NativeSettings.describe()
            };
        }
    }
}
