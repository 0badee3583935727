package dev.reformer.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reformer.attention.ReferenceLsh;
import dev.reformer.cli.Main;
import dev.reformer.tensor.DType;
import dev.reformer.tensor.Generator;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProbeTest {
    @TempDir
    Path dir;

    /**
     * Worked by hand. One rotation column r = (1, 0), so x R = x[0] and the bucket is 0 when
     * x[0] > 0, else 1: positions 0 and 2 go to bucket 0, positions 1 and 3 to bucket 1. Sorted by
     * 4 * bucket + position: 0, 2, 1, 3. Chunks of 2 with no look-back: {0, 2} and {1, 3}. Each
     * query sees itself (logit -1e5, so weight e^-1e5 = 0) and its partner (weight 1): the output
     * at 0 is v[2], at 2 is v[0], at 1 is v[3], at 3 is v[1]. So loss = sum(out * g) gives
     * grad_v[2] = g[0] and so on, and grad_qk = 0 (the weights are saturated).
     */
    static final String HAND_CASE = """
            {"attention": "lsh", "causal": false, "n_hashes": 1, "n_buckets": 2, "chunk_length": 2,
             "chunks_before": 0, "chunks_after": 0, "dtype": "float64",
             "qk": [[[1, 0], [-1, 0], [0.5, 1], [-0.5, -1]]],
             "v": [[[1, 2], [3, 4], [5, 6], [7, 8]]],
             "upstream_grad": [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]],
             "rotations": [[[[1.0]], [[0.0]]]]}
            """;

    private record Run(int exitCode, String out, String err) {
    }

    private Run probe(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            var cli = Main.commandLine();
            cli.setOut(new PrintWriter(out));
            cli.setErr(new PrintWriter(err));
            String[] full = new String[args.length + 1];
            full[0] = "probe";
            System.arraycopy(args, 0, full, 1, args.length);
            code = cli.execute(full);
        } finally {
            System.setOut(stdout);
        }
        return new Run(code, out + printed.toString(StandardCharsets.UTF_8), err.toString());
    }

    private Path write(String name, String json) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    @Test
    void theHandWorkedCaseGivesTheHandWorkedAnswer() throws Exception {
        Path in = write("case.json", HAND_CASE);
        Path out = dir.resolve("result.json");
        Run r = probe("--in", in.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode result = new ObjectMapper().readTree(out.toFile());
        assertThat(result.get("buckets").toString()).isEqualTo("[[0,1,0,1]]");
        double[][] v = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
        double[][] g = {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}};
        int[] partner = {2, 3, 0, 1};
        double loss = 0;
        for (int t = 0; t < 4; t++) {
            for (int d = 0; d < 2; d++) {
                assertThat(result.get("output").get(0).get(t).get(d).asDouble()).isCloseTo(v[partner[t]][d], within(1e-12));
                assertThat(result.get("grad_v").get(0).get(partner[t]).get(d).asDouble()).isCloseTo(g[t][d], within(1e-12));
                assertThat(result.get("grad_qk").get(0).get(t).get(d).asDouble()).isCloseTo(0.0, within(1e-12));
                loss += v[partner[t]][d] * g[t][d];
            }
        }
        assertThat(result.get("loss").asDouble()).isCloseTo(loss, within(1e-12));
    }

    /**
     * A case with two rounds, the default look-back and causal masking, checked against a second,
     * plain-loop implementation of the spec: outputs directly, gradients by central differences
     * of that implementation.
     */
    @Test
    void aTwoRoundCaseWithDefaultsMatchesThePlainImplementationAndItsDerivatives() throws Exception {
        Generator g = new Generator(42);
        int b = 2;
        int l = 8;
        int d = 3;
        double[][][] qk = random(g, b, l, d);
        double[][][] v = random(g, b, l, d);
        double[][][] up = random(g, b, l, d);
        double[][][][] rotations = new double[b][][][];
        for (int e = 0; e < b; e++) {
            rotations[e] = random(g, d, 2, 2);
        }
        ObjectMapper json = new ObjectMapper();
        var node = json.createObjectNode();
        node.put("attention", "lsh").put("causal", true).put("n_hashes", 2).put("n_buckets", 4).put("chunk_length", 4)
                .put("dtype", "float64");
        node.set("qk", json.valueToTree(qk));
        node.set("v", json.valueToTree(v));
        node.set("upstream_grad", json.valueToTree(up));
        node.set("rotations", json.valueToTree(rotations));
        Path out = dir.resolve("result.json");
        Run r = probe("--in", write("case.json", node.toString()).toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode result = json.readTree(out.toFile());
        ReferenceLsh.Settings s = new ReferenceLsh.Settings(2, 4, 4, 1, 0, true, 1.0, -1e5, false);
        double eps = 1e-6;
        for (int e = 0; e < b; e++) {
            double[][] expected = ReferenceLsh.attend(qk[e], v[e], rotations[e], s);
            for (int t = 0; t < l; t++) {
                for (int k = 0; k < d; k++) {
                    assertThat(result.get("output").get(e).get(t).get(k).asDouble()).isCloseTo(expected[t][k], within(1e-10));
                    double[][] plus = copy(qk[e]);
                    double[][] minus = copy(qk[e]);
                    plus[t][k] += eps;
                    minus[t][k] -= eps;
                    double dQk = (loss(ReferenceLsh.attend(plus, v[e], rotations[e], s), up[e])
                            - loss(ReferenceLsh.attend(minus, v[e], rotations[e], s), up[e])) / (2 * eps);
                    assertThat(result.get("grad_qk").get(e).get(t).get(k).asDouble()).as("grad_qk[%d][%d][%d]", e, t, k)
                            .isCloseTo(dQk, within(1e-6));
                    plus = copy(v[e]);
                    minus = copy(v[e]);
                    plus[t][k] += eps;
                    minus[t][k] -= eps;
                    double dV = (loss(ReferenceLsh.attend(qk[e], plus, rotations[e], s), up[e])
                            - loss(ReferenceLsh.attend(qk[e], minus, rotations[e], s), up[e])) / (2 * eps);
                    assertThat(result.get("grad_v").get(e).get(t).get(k).asDouble()).as("grad_v[%d][%d][%d]", e, t, k)
                            .isCloseTo(dV, within(1e-6));
                }
            }
        }
        assertThat(result.get("buckets").get(0).size()).isEqualTo(2 * l);
        assertThat(Files.readString(out)).contains(ProbeJson.format(result.get("loss").asDouble(), 17));
    }

    private static double[][][] random(Generator g, int a, int b, int c) {
        double[] flat = g.normal(DType.FLOAT64, 0, 1, a, b, c).toDoubleArray();
        double[][][] out = new double[a][b][c];
        for (int i = 0; i < flat.length; i++) {
            out[i / (b * c)][(i / c) % b][i % c] = flat[i];
        }
        return out;
    }

    private static double[][] copy(double[][] x) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i].clone();
        }
        return out;
    }

    private static double loss(double[][] out, double[][] upstream) {
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            for (int j = 0; j < out[i].length; j++) {
                sum += out[i][j] * upstream[i][j];
            }
        }
        return sum;
    }

    @Test
    void aMissingOutputDirectoryIsRefusedBeforeAnyWork() throws Exception {
        Run r = probe("--in", write("case.json", HAND_CASE).toString(), "--out", dir.resolve("no/such/dir/r.json").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--out").contains("does not exist");
    }

    @Test
    void anUnknownFieldIsNamedInAWarningAndIgnored() throws Exception {
        Path in = write("case.json", HAND_CASE.replace("\"causal\": false,", "\"causal\": false, \"chunks_befor\": 3,"));
        Run r = probe("--in", in.toString(), "--out", dir.resolve("r.json").toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.err()).contains("warning: ignoring field 'chunks_befor'");
    }

    @Test
    void numbersAreWrittenWithAtLeastNineSignificantDigits() throws Exception {
        Path in = write("case.json", HAND_CASE.replace("\"dtype\": \"float64\",", "").replace("[0.1, 0.2]", "[0.1234567891, 0.2]"));
        Path out = dir.resolve("result.json");
        assertThat(probe("--in", in.toString(), "--out", out.toString()).exitCode()).isZero();
        String text = Files.readString(out);
        assertThat(text).contains("0.123456791"); // float32 of 0.1234567891, 9 digits
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing field | \"qk\": [[[1, 0], [-1, 0], [0.5, 1], [-0.5, -1]]], | | missing field 'qk'",
        "wrong shape | \"v\": [[[1, 2], [3, 4], [5, 6], [7, 8]]] | \"v\": [[[1, 2], [3, 4], [5, 6]]] | field 'v' has shape [1][3][2] but must match qk's [1][4][2]",
        "ragged array | \"v\": [[[1, 2], [3, 4], [5, 6], [7, 8]]] | \"v\": [[[1, 2], [3], [5, 6], [7, 8]]] | field 'v' must be a rectangular [B][L][D] array: v[0][1] has 1 entries where 2 are expected",
        "odd NB | \"n_buckets\": 2 | \"n_buckets\": 3 | field 'n_buckets' is 3 but must be even",
        "K*L not a multiple of C | \"chunk_length\": 2 | \"chunk_length\": 3 | field 'chunk_length' is 3 but n_hashes * L = 1 * 4 = 4 items must split into whole chunks",
        "NaN value | [0.5, 1] | [NaN, 1] | field 'qk' value qk[0][2][0] is NaN; every value must be a finite number",
        "string value | [0.5, 1] | [\"0.5\", 1] | field 'qk' value qk[0][2][0] must be a number, got the string \"0.5\"",
        "unknown attention | \"attention\": \"lsh\" | \"attention\": \"sparse\" | field 'attention' is \"sparse\" but must be \"lsh\" or \"full\"",
        "rotations shape | \"rotations\": [[[[1.0]], [[0.0]]]] | \"rotations\": [[[[1.0, 2.0]], [[0.0, 1.0]]]] | field 'rotations' has shape [1][2][1][2] but must be [R][D][K][NB/2] = [1 or 1][2][1][1]",
        "not JSON | \"causal\": false, | \"causal\": false,, | the case is not valid JSON"})
    void aMalformedCaseGivesOneLineNamingTheFieldExitCode2AndNoOutput(String name, String from, String to, String message)
            throws Exception {
        String json = HAND_CASE.replace(from, to == null ? "" : to);
        assertThat(json).as("the test's edit must apply").isNotEqualTo(HAND_CASE);
        Path in = write("bad.json", json);
        Path out = dir.resolve("result.json");
        Run r = probe("--in", in.toString(), "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).startsWith("reformer probe: ").contains(message);
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
        assertThat(out).doesNotExist();
    }

    @Test
    void aFailedRunLeavesAnEarlierResultIntact() throws Exception {
        Path out = write("result.json", "{\"earlier\": true}");
        Path in = write("bad.json", HAND_CASE.replace("\"n_buckets\": 2", "\"n_buckets\": 3"));
        assertThat(probe("--in", in.toString(), "--out", out.toString()).exitCode()).isEqualTo(2);
        assertThat(Files.readString(out)).isEqualTo("{\"earlier\": true}");
    }

    @Test
    void aMissingCaseFileIsABadCase() {
        Run r = probe("--in", dir.resolve("nope.json").toString(), "--out", dir.resolve("r.json").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("no such file");
    }

    @Test
    void pngAndExplainShowTheStages() throws Exception {
        Path in = write("case.json", HAND_CASE);
        Path png = dir.resolve("lsh.png");
        Run r = probe("--in", in.toString(), "--out", dir.resolve("r.json").toString(), "--png", png.toString(), "--explain");
        assertThat(r.exitCode()).as(r.err()).isZero();
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isGreaterThan(100);
        assertThat(r.out()).contains("1. hash").contains("chunk 0   0:0[0] 0:2[0]").contains("chunk 1   0:1[1] 0:3[1]")
                .contains("0  -> 2:1.000");
    }

    @Test
    void fullAttentionCasesRunToo() throws Exception {
        String full = HAND_CASE.replace("\"attention\": \"lsh\"", "\"attention\": \"full\"");
        Path out = dir.resolve("full.json");
        assertThat(probe("--in", write("full.json", full).toString(), "--out", out.toString()).exitCode()).isZero();
        JsonNode result = new ObjectMapper().readTree(out.toFile());
        assertThat(result.has("buckets")).isFalse();
        assertThat(result.get("output").get(0).size()).isEqualTo(4);
    }
}
