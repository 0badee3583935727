package dev.reformer.bench;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the foundation benchmarks (op overhead, matmul, MLP) in one JMH run and prints the
 * README's table: medians (of single-call samples for the tiny ops, of iteration averages for
 * the rest), and the engine's cost beside the raw ND4J baseline measured in the same run.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.reformer.bench.FoundationReport [iterations]
 * </pre>
 */
public final class FoundationReport {
    private FoundationReport() {
    }

    public static void main(String[] args) throws RunnerException {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Options options = new OptionsBuilder()
                .include(OpOverheadBenchmark.class.getSimpleName())
                .include(MatmulBenchmark.class.getSimpleName())
                .include(MlpBenchmark.class.getSimpleName())
                .forks(2)
                .jvmArgs("-Xmx2g", "-XX:+ExplicitGCInvokesConcurrent", "--add-modules=jdk.incubator.vector")
                .warmupIterations(3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations)
                .measurementTime(TimeValue.seconds(2))
                .build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, Double> median = new LinkedHashMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark().replaceAll(".*\\.(\\w+\\.\\w+)$", "$1");
            String n = r.getParams().getParam("n");
            median.put(name + (n == null ? "" : "@" + n), r.getAggregatedResult().getPrimaryResult().getStatistics().getPercentile(50));
        }
        System.out.println(table(median));
    }

    static String table(Map<String, Double> m) {
        StringBuilder sb = new StringBuilder();
        sb.append("| op (16 floats) | raw ND4J (us) | Tensor (us) | Variable, recording (us) | Tensor overhead (us) | Variable overhead (us) |\n");
        sb.append("|---|---|---|---|---|---|\n");
        for (String op : new String[] {"add", "exp"}) {
            double raw = m.get("OpOverheadBenchmark." + op + "Nd4j");
            double tensor = m.get("OpOverheadBenchmark." + op + "Tensor");
            double variable = m.get("OpOverheadBenchmark." + op + "Variable");
            sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %+.2f | %+.2f |%n",
                    op, raw, tensor, variable, tensor - raw, variable - raw));
        }
        sb.append("\n| matmul n x n, float32 | gemm into preallocated (ms) | Tensor.matmul (ms) | engine / preallocated"
                + " | preallocated GFLOP/s | engine GFLOP/s | gemm into a new array (ms) | ND4J mmul (ms) |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (int n : new int[] {512, 1024, 2048}) {
            double ceiling = m.get("MatmulBenchmark.gemmIntoNd4j@" + n);
            double engine = m.get("MatmulBenchmark.matmulTensor@" + n);
            double flops = 2.0 * n * n * n;
            sb.append(String.format(Locale.ROOT, "| %d | %.2f | %.2f | %.3f | %.0f | %.0f | %.2f | %.2f |%n",
                    n, ceiling, engine, engine / ceiling, flops / ceiling / 1e6, flops / engine / 1e6,
                    m.get("MatmulBenchmark.gemmNd4j@" + n), m.get("MatmulBenchmark.mmulNd4j@" + n)));
        }
        double raw = m.get("MlpBenchmark.nd4j");
        double engine = m.get("MlpBenchmark.engine");
        sb.append("\n| 2-layer MLP fwd+bwd, (64,512)->(1024)->(512) | hand-written ND4J (ms) | engine autograd (ms) | engine / raw |\n");
        sb.append("|---|---|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| float32 | %.2f | %.2f | %.3f |%n", raw, engine, engine / raw));
        return sb.toString();
    }
}
