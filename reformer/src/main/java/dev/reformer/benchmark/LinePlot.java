package dev.reformer.benchmark;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * A line chart as PNG with the JDK's 2D graphics: named series of (x, y) points, logarithmic or
 * linear axes, a legend; a series whose name ends in " (compare)" or " (train)" is drawn dashed, in
 * the colour of the series before it.
 */
public final class LinePlot {
    private static final int W = 760;
    private static final int H = 480;
    private static final int LEFT = 90;
    private static final int RIGHT = 200;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;
    private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
        new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194),
        new Color(127, 127, 127)};

    private LinePlot() {
    }

    public static void write(Path out, String title, String xLabel, String yLabel, boolean logX, boolean logY,
            Map<String, List<double[]>> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        double x0 = Double.MAX_VALUE;
        double x1 = -Double.MAX_VALUE;
        double y0 = Double.MAX_VALUE;
        double y1 = -Double.MAX_VALUE;
        for (List<double[]> s : series.values()) {
            for (double[] p : s) {
                x0 = Math.min(x0, p[0]);
                x1 = Math.max(x1, p[0]);
                y0 = Math.min(y0, p[1]);
                y1 = Math.max(y1, p[1]);
            }
        }
        if (x0 > x1) {
            x0 = 1;
            x1 = 2;
            y0 = 1;
            y1 = 2;
        }
        if (!logY) {
            y0 = Math.min(0, y0);
        }
        if (x1 <= x0) {
            x1 = x0 * 2;
        }
        if (y1 <= y0) {
            y1 = y0 * 2 + 1;
        }
        Axis ax = new Axis(x0, x1, logX, LEFT, W - RIGHT);
        Axis ay = new Axis(logY ? y0 / 1.2 : y0, y1 * 1.1, logY, H - BOTTOM, TOP);
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, LEFT, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(LEFT, TOP, W - RIGHT - LEFT, H - BOTTOM - TOP);
        for (double tick : ax.ticks()) {
            int x = ax.pixel(tick);
            g.drawLine(x, H - BOTTOM, x, H - BOTTOM + 4);
            g.drawString(format(tick), x - 12, H - BOTTOM + 18);
        }
        for (double tick : ay.ticks()) {
            int y = ay.pixel(tick);
            g.drawLine(LEFT - 4, y, LEFT, y);
            String label = format(tick);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        g.drawString(xLabel, (LEFT + W - RIGHT) / 2 - 30, H - 20);
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(TOP + H - BOTTOM) / 2 - g.getFontMetrics().stringWidth(yLabel) / 2, 16);
        g.rotate(Math.PI / 2);
        int i = 0;
        int legendY = TOP + 10;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            boolean compare = e.getKey().endsWith(" (compare)") || e.getKey().endsWith(" (train)");
            Color color = COLORS[(compare ? i - 1 : i) % COLORS.length];
            if (!compare) {
                i++;
            }
            g.setColor(color);
            g.setStroke(compare ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f));
            Path2D.Double path = new Path2D.Double();
            List<double[]> points = e.getValue().stream().sorted((a, b) -> Double.compare(a[0], b[0])).toList();
            for (int k = 0; k < points.size(); k++) {
                int x = ax.pixel(points.get(k)[0]);
                int y = ay.pixel(points.get(k)[1]);
                if (k == 0) {
                    path.moveTo(x, y);
                } else {
                    path.lineTo(x, y);
                }
                g.fillOval(x - 3, y - 3, 6, 6);
            }
            g.draw(path);
            g.drawLine(W - RIGHT + 10, legendY, W - RIGHT + 34, legendY);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey(), W - RIGHT + 40, legendY + 4);
            legendY += 18;
        }
        g.dispose();
        ImageIO.write(image, "png", out.toFile());
    }

    private static String format(double v) {
        if (v >= 1024 && Math.abs(v / 1024 - Math.rint(v / 1024)) < 1e-9) {
            return (long) (v / 1024) + "K";
        }
        return Math.abs(v - Math.rint(v)) < 1e-9 ? Long.toString((long) Math.rint(v)) : String.format(Locale.ROOT, "%.3g", v);
    }

    /** A linear or logarithmic map from values to pixels. */
    private record Axis(double lo, double hi, boolean log, int from, int to) {
        int pixel(double v) {
            double t = log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo);
            return (int) Math.round(from + t * (to - from));
        }

        double[] ticks() {
            if (log) {
                double base = hi / lo > 64 ? 10 : 2;
                double first = Math.pow(base, Math.ceil(Math.log(lo) / Math.log(base) - 1e-9));
                java.util.List<Double> t = new java.util.ArrayList<>();
                for (double v = first; v <= hi * (1 + 1e-9); v *= base) {
                    t.add(v);
                }
                return t.stream().mapToDouble(Double::doubleValue).toArray();
            }
            double step = niceStep((hi - lo) / 5);
            java.util.List<Double> t = new java.util.ArrayList<>();
            for (double v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
                t.add(v);
            }
            return t.stream().mapToDouble(Double::doubleValue).toArray();
        }

        private static double niceStep(double raw) {
            double p = Math.pow(10, Math.floor(Math.log10(raw)));
            double m = raw / p;
            return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
        }
    }
}
