package dev.reformer.reproduce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's verdicts follow from the numbers, and Table 3's formulas are evaluated as written. */
class ReproductionReportTest {
    private static final List<String> TRAINS = ReproductionPlan.TRAIN_VARIANTS;
    private static final List<String> EVALS = ReproductionPlan.EVAL_VARIANTS;

    @Test
    void table2IsReproducedOnlyWithItsPatternInBothDirections() {
        assertThat(ReproductionReport.table2Verdict(TRAINS, EVALS, ReproductionReport.PAPER_TABLE2).verdict())
                .isEqualTo("reproduced");
        double[][] noDegradation = {
            {100, 100, 100, 100, 99},
            {100, 100, 100, 99.9, 98},
            {100, 100, 100, 100, 99},
            {100, 100, 100, 100, 99.6}};
        ReproductionReport.Verdict v = ReproductionReport.table2Verdict(TRAINS, EVALS, noDegradation);
        assertThat(v.verdict()).isEqualTo("partly");
        assertThat(v.reason()).contains("lost 1.0 points", "LSH-trained models score 100.0% on average with full attention");
        double[][] lsh1Weak = {
            {100, 94.8, 92.5, 76.9, 52.5},
            {0.8, 100, 99.9, 99.4, 91.9},
            {0.8, 100, 99.9, 98.1, 86.8},
            {0.8, 60, 55, 50, 40}};
        v = ReproductionReport.table2Verdict(TRAINS, EVALS, lsh1Weak);
        assertThat(v.verdict()).isEqualTo("partly");
        assertThat(v.reason()).contains("LSH-4, LSH-2 reached 90%", "LSH-1 did not");
        double[][] chance = new double[4][5];
        for (double[] r : chance) {
            java.util.Arrays.fill(r, 0.8);
        }
        assertThat(ReproductionReport.table2Verdict(TRAINS, EVALS, chance).verdict()).isEqualTo("not");
    }

    @Test
    void figure3ComparesFinalBitsPerCharacterWithinATolerance() {
        assertThat(ReproductionReport.figure3Verdict(2.00, 2.03, 2.04).verdict()).isEqualTo("reproduced");
        assertThat(ReproductionReport.figure3Verdict(2.00, 1.90, 2.00).verdict()).isEqualTo("partly");
        assertThat(ReproductionReport.figure3Verdict(2.00, 1.90, 1.90).verdict()).isEqualTo("not");
        assertThat(ReproductionReport.figure3Verdict(Double.NaN, 1.90, 1.90).verdict()).isEqualTo("not");
    }

    @Test
    void figure5WantsFullAttentionToGrowAndLshToStayFlat() {
        Map<String, double[]> g = new LinkedHashMap<>();
        g.put("Full", new double[] {0.4, 3.7});
        g.put("LSH-4", new double[] {0.3, 0.38});
        assertThat(ReproductionReport.figure5Verdict(g, 16384).verdict()).isEqualTo("reproduced");
        g.put("LSH-8", new double[] {0.5, 1.6});
        ReproductionReport.Verdict v = ReproductionReport.figure5Verdict(g, 16384);
        assertThat(v.verdict()).isEqualTo("partly");
        assertThat(v.reason()).contains("LSH-8 grew more than 2x");
        g.put("Full", new double[] {0.4, 0.5});
        assertThat(ReproductionReport.figure5Verdict(g, 16384).verdict()).isEqualTo("not");
    }

    @Test
    void memoryJudgesEachTechniqueWhereTheFormulasPredictASaving() {
        Map<String, Double> formula = new LinkedHashMap<>();
        for (String v : dev.reformer.benchmark.Workloads.TABLE3_VARIANTS) {
            formula.put(v, ReproductionReport.table3Floats(v, 2048, 4));
        }
        Map<String, Double> peak = new LinkedHashMap<>();
        peak.put("transformer", 200.0);
        peak.put("reversible", 75.0);
        peak.put("chunked", 90.0);
        peak.put("lsh", 150.0);
        peak.put("reformer", 40.0);
        // at l = 2048 the n_h l^2 term dominates: Table 3 predicts no saving from chunking the feed-forward
        ReproductionReport.Verdict v = ReproductionReport.memoryVerdict(peak, formula);
        assertThat(v.verdict()).isEqualTo("reproduced");
        assertThat(v.reason()).contains("no saving predicted at these sizes for chunking the feed-forward");
        peak.put("lsh", 250.0);
        v = ReproductionReport.memoryVerdict(peak, formula);
        assertThat(v.verdict()).isEqualTo("partly");
        assertThat(v.reason()).contains("did not: LSH attention").contains("Saved memory as Table 3 predicts: reversible layers");
        peak.put("reversible", 300.0);
        peak.put("reformer", 400.0);
        assertThat(ReproductionReport.memoryVerdict(peak, formula).verdict()).isEqualTo("not");
    }

    @Test
    void table3FormulasAreEvaluatedAtTheReproductionsSizes() {
        // d_ff = 1024, n_h = 4, n_r = 4, c = 128, d_model = 128; l = 2048, n_l = 4
        double l = 2048;
        assertThat(ReproductionReport.table3Floats("transformer", 2048, 4)).isEqualTo(Math.max(l * 1024, 4 * l * l) * 4);
        assertThat(ReproductionReport.table3Floats("reversible", 2048, 4)).isEqualTo(4 * l * l);
        assertThat(ReproductionReport.table3Floats("chunked", 2048, 4)).isEqualTo(Math.max(l * 128, 4 * l * l));
        assertThat(ReproductionReport.table3Floats("lsh", 2048, 4)).isEqualTo(Math.max(l * 1024, 4 * l * 4 * 128) * 4);
        assertThat(ReproductionReport.table3Floats("reformer", 2048, 4)).isEqualTo(Math.max(l * 128, 4 * l * 4 * 128));
    }
}
