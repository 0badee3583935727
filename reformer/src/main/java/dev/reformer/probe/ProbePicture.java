package dev.reformer.probe;

import dev.reformer.attention.Trace;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws what LSH attention did on a small case, for one example: on top, the bucket of every
 * position in every round (one colour per bucket); below, the final attention weights, query
 * positions down, key positions across, darker for more weight.
 */
public final class ProbePicture {
    /** Larger cases make unreadable pictures. */
    public static final int MAX_LENGTH = 128;

    private ProbePicture() {
    }

    public static void write(Probe.Result r, int row, Path out) throws IOException {
        Trace t = r.trace();
        int length = t.length();
        if (length > MAX_LENGTH) {
            throw new ProbeException("--png draws cases of at most " + MAX_LENGTH + " positions; this one has " + length);
        }
        int cell = Math.max(8, Math.min(32, 640 / length));
        int margin = 64;
        int bucketsHeight = t.hashes() * cell;
        int width = margin + length * cell + 20;
        int height = 64 + bucketsHeight + 50 + length * cell + 20;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        ProbeCase c = r.probeCase();
        g.drawString(String.format(Locale.ROOT, "LSH attention: L=%d, K=%d rounds, NB=%d buckets, C=%d, causal=%s",
                length, t.hashes(), c.buckets(), t.chunkLength(), c.causal()), 8, 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, cell / 2)));

        int top = 64;
        g.setColor(Color.BLACK);
        g.drawString("bucket of each position (across), per round (down)", margin, top - 18);
        for (int p = 0; p < length; p++) {
            if (cell >= 12 || p % 8 == 0) {
                g.drawString(Integer.toString(p), margin + p * cell + 2, top - 3);
            }
        }
        for (int k = 0; k < t.hashes(); k++) {
            g.setColor(Color.BLACK);
            g.drawString("k=" + k, 8, top + k * cell + cell * 2 / 3);
            for (int p = 0; p < length; p++) {
                long bucket = t.bucket(row, k * length + p) - (long) k * c.buckets();
                g.setColor(Color.getHSBColor((float) bucket / Math.max(1, c.buckets()), 0.45f, 1.0f));
                g.fillRect(margin + p * cell, top + k * cell, cell, cell);
                g.setColor(Color.DARK_GRAY);
                g.drawRect(margin + p * cell, top + k * cell, cell, cell);
                if (cell >= 14) {
                    g.drawString(Long.toString(bucket), margin + p * cell + 3, top + k * cell + cell * 2 / 3);
                }
            }
        }

        int matrixTop = top + bucketsHeight + 50;
        g.setColor(Color.BLACK);
        g.drawString("attention weights: query position (down) on key position (across)", margin, matrixTop - 22);
        for (int k = 0; k < length; k++) {
            if (cell >= 12 || k % 8 == 0) {
                g.drawString(Integer.toString(k), margin + k * cell + 2, matrixTop - 4);
            }
        }
        double[][] a = t.attentionMatrix(row);
        for (int q = 0; q < length; q++) {
            for (int k = 0; k < length; k++) {
                float shade = (float) Math.min(1.0, a[q][k]);
                g.setColor(new Color(1 - shade, 1 - shade * 0.7f, 1 - shade * 0.2f));
                g.fillRect(margin + k * cell, matrixTop + q * cell, cell, cell);
            }
            if (cell >= 12 || q % 8 == 0) {
                g.setColor(Color.BLACK);
                g.drawString(Integer.toString(q), 8, matrixTop + q * cell + cell * 2 / 3);
            }
        }
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawRect(margin, matrixTop, length * cell, length * cell);
        g.dispose();

        if (!ImageIO.write(image, "png", out.toFile())) {
            throw new IOException("no PNG writer is available in this JVM");
        }
    }
}
