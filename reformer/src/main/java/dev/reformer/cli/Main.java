package dev.reformer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/reformer} command line. Subcommands are added as the project grows; each one
 * documents itself through {@code --help}.
 */
@Command(name = "reformer",
        mixinStandardHelpOptions = true,
        subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, ProbeCommand.class},
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
        return cli;
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
                "Java " + System.getProperty("java.version") + ", ND4J 1.0.0-M2.1"
            };
        }
    }
}
