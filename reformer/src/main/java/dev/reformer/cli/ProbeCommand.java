package dev.reformer.cli;

import dev.reformer.probe.Probe;
import dev.reformer.probe.ProbeCase;
import dev.reformer.probe.ProbeException;
import dev.reformer.probe.ProbeExplain;
import dev.reformer.probe.ProbeJson;
import dev.reformer.probe.ProbePicture;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code reformer probe}: one attention call on given tensors, per shared/specs/attention-probe.md. */
@Command(name = "probe",
        header = "Run one attention call on a JSON case; write outputs and gradients.",
        mixinStandardHelpOptions = true,
        description = {
            "Runs one attention call (LSH or full, one head) on the tensors of a JSON case and writes the output, the gradients of loss = sum(output * upstream_grad), and the LSH buckets, as JSON.",
            "Exit code 0 on success, 2 on a bad case (one-line error naming the field, no output written)."},
        footer = {"", "Example:", "  bin/reformer probe --in docs/examples/lsh-16.json --out result.json --explain --png lsh.png"})
final class ProbeCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "CASE.json", description = "the case to run")
    private Path in;

    @Option(names = "--out", required = true, paramLabel = "RESULT.json", description = "where to write the result")
    private Path out;

    @Option(names = "--png", paramLabel = "FILE.png",
            description = "also draw each position's buckets and the attention weights (LSH, at most 128 positions)")
    private Path png;

    @Option(names = "--explain", description = "also print every stage of LSH attention (the walkthrough's text)")
    private boolean explain;

    @Option(names = "--example", defaultValue = "0", paramLabel = "B",
            description = "which example of the batch --png and --explain show (default: ${DEFAULT-VALUE})")
    private int example;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        try {
            requireDirectory("--out", out);
            if (png != null) {
                requireDirectory("--png", png);
            }
            ProbeCase probeCase = ProbeCase.read(in, warning -> err.println("reformer probe: warning: " + warning));
            if ((png != null || explain) && !probeCase.isLsh()) {
                throw new ProbeException("--png and --explain show LSH attention's stages; this case's attention is full");
            }
            if (example < 0 || example >= probeCase.batch()) {
                throw new ProbeException("--example " + example + " is out of range: the case has " + probeCase.batch()
                        + " example(s)");
            }
            if (png != null && probeCase.length() > ProbePicture.MAX_LENGTH) {
                throw new ProbeException("--png draws cases of at most " + ProbePicture.MAX_LENGTH + " positions; this one has "
                        + probeCase.length());
            }
            Probe.Result result = Probe.run(probeCase);
            writeAll(result);
            if (explain) {
                ProbeExplain.print(result, example, System.out);
            }
            return 0;
        } catch (ProbeException e) {
            err.println("reformer probe: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    /**
     * Writes the result (and picture) to temporary files beside their targets and moves them into
     * place only when both are complete, so a failure leaves any earlier files as they were.
     */
    private void writeAll(Probe.Result result) throws IOException {
        Path jsonTmp = temporaryBeside(out);
        Path pngTmp = png == null ? null : temporaryBeside(png);
        try {
            ProbeJson.write(result, jsonTmp);
            if (png != null) {
                ProbePicture.write(result, example, pngTmp);
            }
            Files.move(jsonTmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            if (png != null) {
                Files.move(pngTmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            Files.deleteIfExists(jsonTmp);
            if (pngTmp != null) {
                Files.deleteIfExists(pngTmp);
            }
        }
    }

    private static Path temporaryBeside(Path target) throws IOException {
        return Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
    }

    private static void requireDirectory(String option, Path file) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new ProbeException(option + " " + file + ": directory " + dir + " does not exist; create it first");
        }
        if (!Files.isWritable(dir)) {
            throw new ProbeException(option + " " + file + ": directory " + dir + " is not writable");
        }
    }
}
