package dev.reformer.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * {@code curves.png}: the loss (left) and the task's metric (right) against the step, training
 * batches in light blue, evaluations in dark orange. Drawn with the JDK's own 2D graphics, headless.
 */
final class CurvePlot {
    private static final int PANEL_W = 520;
    private static final int PANEL_H = 360;
    private static final int MARGIN = 56;
    private static final Color TRAIN = new Color(120, 170, 220);
    private static final Color EVAL = new Color(215, 100, 20);

    private CurvePlot() {
    }

    static void write(List<JsonNode> metrics, String metricKey, Path out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(2 * PANEL_W, PANEL_H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        panel(g, 0, metrics, "loss", "loss (nats per scored token)");
        panel(g, PANEL_W, metrics, metricKey, metricKey.equals("bpc") ? "bits per character" : "accuracy on scored tokens");
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        Checkpoint.writeAtomically(out, png.toByteArray());
    }

    private static void panel(Graphics2D g, int x0, List<JsonNode> metrics, String key, String title) {
        List<double[]> train = series(metrics, "train", key);
        List<double[]> eval = series(metrics, "eval", key);
        double maxStep = 1;
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (List<double[]> s : List.of(train, eval)) {
            for (double[] p : s) {
                maxStep = Math.max(maxStep, p[0]);
                lo = Math.min(lo, p[1]);
                hi = Math.max(hi, p[1]);
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        int left = x0 + MARGIN;
        int right = x0 + PANEL_W - 16;
        int top = 32;
        int bottom = PANEL_H - 40;
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1f));
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, left, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(left, top, right - left, bottom - top);
        for (int i = 0; i <= 4; i++) {
            double v = lo + (hi - lo) * i / 4;
            int y = bottom - (bottom - top) * i / 4;
            g.drawString(String.format(Locale.ROOT, "%.3g", v), x0 + 4, y + 4);
            long s = Math.round(maxStep * i / 4);
            int x = left + (right - left) * i / 4;
            g.drawString(Long.toString(s), x - 10, bottom + 16);
        }
        g.drawString("step", (left + right) / 2 - 10, bottom + 32);
        draw(g, train, TRAIN, 1f, left, right, top, bottom, maxStep, lo, hi);
        draw(g, eval, EVAL, 2f, left, right, top, bottom, maxStep, lo, hi);
        g.setColor(TRAIN);
        g.drawString("train", right - 90, top + 16);
        g.setColor(EVAL);
        g.drawString("eval", right - 40, top + 16);
    }

    private static void draw(Graphics2D g, List<double[]> points, Color color, float width, int left, int right, int top,
            int bottom, double maxStep, double lo, double hi) {
        if (points.isEmpty()) {
            return;
        }
        Path2D.Double path = new Path2D.Double();
        for (int i = 0; i < points.size(); i++) {
            double x = left + (right - left) * points.get(i)[0] / maxStep;
            double y = bottom - (bottom - top) * (points.get(i)[1] - lo) / (hi - lo);
            if (i == 0) {
                path.moveTo(x, y);
            } else {
                path.lineTo(x, y);
            }
        }
        g.setColor(color);
        g.setStroke(new BasicStroke(width));
        g.draw(path);
    }

    private static List<double[]> series(List<JsonNode> metrics, String split, String key) {
        List<double[]> points = new ArrayList<>();
        for (JsonNode line : metrics) {
            if (split.equals(line.path("split").asText()) && line.has(key) && line.get(key).isNumber()) {
                points.add(new double[] {line.get("step").asDouble(), line.get(key).asDouble()});
            }
        }
        return points;
    }
}
