package dev.reformer.cli;

import dev.reformer.model.ConfigException;
import dev.reformer.reproduce.Reproduction;
import dev.reformer.train.TrainException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code reformer reproduce}: the paper's experiments at CPU scale, with a report. */
@Command(name = "reproduce",
        header = "Rerun the paper's experiments at CPU scale and write a report.",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the Reformer paper's key experiments, scaled to a CPU, and writes reproduction/<date>-<time>/report.md with PNG figures and the raw metrics of every run: (1) Table 2, the duplication task trained with full attention and LSH K=1, 2, 4 and each evaluated with full attention and LSH K=8, 4, 2, 1, beside the paper's matrix and an independent reproduction's; (2) Figure 3, shared QK against separate Q and K and reversible against ordinary residual layers on a byte-level language model; (3) Figure 5, seconds per call against length at a fixed number of tokens for full and LSH attention; (4) peak memory of the Transformer, reversible, chunked, LSH and Reformer variants beside the paper's Table 3 formulas; (5) a verdict per experiment. It prints the plan and its estimated time first, then progress.",
            "--quick takes at most 15 minutes on 2 cores; the default plan takes hours. Ctrl-C stops after the step in progress (a training run saves its checkpoint); --resume continues where it stopped.",
            "Exit code 0 when the report is written, 2 on bad input (one line naming the problem), 130 after Ctrl-C."},
        footer = {"", "Examples:", "  bin/reformer reproduce --quick", "  bin/reformer reproduce --out reproduction/full",
            "  bin/reformer reproduce --resume reproduction/20261126-180000"})
final class ReproduceCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--quick", description = "smaller settings: at most 15 minutes on 2 cores")
    private boolean quick;

    @Option(names = "--out", paramLabel = "DIR", description = "where to write (default: reproduction/<date>-<time>)")
    private Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the reproduction in DIR where it stopped")
    private Path resume;

    @Option(names = "--plan", description = "print the plan and its estimated time, and stop")
    private boolean planOnly;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintStream console = System.out;
        try {
            if (resume != null && (out != null || quick)) {
                throw new TrainException("--resume goes alone: a resumed reproduction keeps its folder and its plan");
            }
            Path dir = resume != null ? resume : out != null ? out : Path.of("reproduction",
                    LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
            boolean terminal = System.console() != null;
            if (planOnly) {
                (resume != null ? Reproduction.resume(dir, console, terminal) : Reproduction.planOf(quick, dir, console))
                        .printPlan();
                return 0;
            }
            Reproduction r = resume != null ? Reproduction.resume(dir, console, terminal)
                    : Reproduction.start(dev.reformer.reproduce.ReproductionPlan.of(quick), dir, console, terminal);
            r.printPlan();
            return runWithInterrupt(r, console);
        } catch (TrainException | ConfigException e) {
            err.println("reformer reproduce: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    /** Runs the reproduction; Ctrl-C (or any JVM shutdown) asks it to stop after the step in progress. */
    private static int runWithInterrupt(Reproduction r, PrintStream console) throws Exception {
        return StopOnInterrupt.run("reformer-reproduce-interrupt", r::requestStop, () -> {
            if (r.run() == Reproduction.Outcome.INTERRUPTED) {
                console.println("reformer reproduce: stopped; what was done is saved. Continue with: bin/reformer reproduce"
                        + " --resume " + r.dir());
                return 130;
            }
            return 0;
        });
    }
}
