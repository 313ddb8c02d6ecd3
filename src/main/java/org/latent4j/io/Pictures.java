package org.latent4j.io;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * PNG pictures of a model's work: image grids, interpolation strips, line charts and scatter
 * plots of latent codes. Pixels are set directly and
 * labels use a built-in bitmap font, so nothing here needs system fonts, fontconfig or a display
 * (a fresh server has none of them). Files are written atomically.
 */
public final class Pictures {
    private Pictures() {}

    /** One curve of a chart. */
    public record Series(String name, double[] values, int rgb) {}

    /** Colors for curves, distinguishable on white. */
    public static final int[] PALETTE = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b};

    /**
     * A grid of grayscale images (values in [0, 1], row-major {@code imgH x imgW}); row r of the
     * grid holds images r * cols ... r * cols + cols - 1; missing cells stay white.
     */
    public static void imageGrid(Path file, float[][] images, int cols, int imgW, int imgH, int scale) throws IOException {
        if (images.length == 0 || cols <= 0 || scale <= 0) {
            throw new IllegalArgumentException("an image grid needs images, columns and a scale");
        }
        int rows = (images.length + cols - 1) / cols;
        int gap = 2;
        int w = cols * (imgW * scale + gap) + gap, h = rows * (imgH * scale + gap) + gap;
        int[] px = new int[w * h];
        java.util.Arrays.fill(px, 0xFFFFFFFF);
        for (int k = 0; k < images.length; k++) {
            float[] img = images[k];
            if (img.length != imgW * imgH) {
                throw new IllegalArgumentException("image " + k + " has " + img.length + " pixels, not " + imgW + " x " + imgH);
            }
            int ox = gap + (k % cols) * (imgW * scale + gap), oy = gap + (k / cols) * (imgH * scale + gap);
            for (int y = 0; y < imgH; y++) {
                for (int x = 0; x < imgW; x++) {
                    float v = img[y * imgW + x];
                    int g = 255 - Math.round(255 * Math.max(0f, Math.min(1f, Float.isNaN(v) ? 0f : v)));
                    int argb = 0xFF000000 | g << 16 | g << 8 | g;
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) {
                            px[(oy + y * scale + dy) * w + ox + x * scale + dx] = argb;
                        }
                    }
                }
            }
        }
        write(file, px, w, h);
    }

    /**
     * Interpolation strips, one row per strip (e.g. the decoded points from one image to
     * another): every strip holds the same number of grayscale images, drawn as in
     * {@link #imageGrid}.
     */
    public static void interpolationStrip(Path file, float[][][] strips, int imgW, int imgH, int scale) throws IOException {
        if (strips == null || strips.length == 0 || strips[0] == null || strips[0].length == 0) {
            throw new IllegalArgumentException("an interpolation strip needs at least one strip of images");
        }
        int cols = strips[0].length;
        float[][] images = new float[strips.length * cols][];
        for (int s = 0; s < strips.length; s++) {
            if (strips[s] == null || strips[s].length != cols) {
                throw new IllegalArgumentException("strip " + s + " has " + (strips[s] == null ? 0 : strips[s].length)
                        + " images but strip 0 has " + cols);
            }
            System.arraycopy(strips[s], 0, images, s * cols, cols);
        }
        imageGrid(file, images, cols, imgW, imgH, scale);
    }

    /** Colors for labels (the ten of matplotlib's tab10), distinguishable on white; label k gets color k mod 10. */
    public static final int[] LABEL_COLORS = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
        0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

    /** {@link #latentScatter(Path, String, String, String, float[][], int[], String[])} with axes named "dimension 1" and "2". */
    public static void latentScatter(Path file, String title, float[][] points2d, int[] labels, String[] labelNames) throws IOException {
        latentScatter(file, title, "dimension 1", "dimension 2", points2d, labels, labelNames);
    }

    /**
     * A scatter plot of 2-D points (e.g. latent codes, or their projection) with axes, ticks, a
     * title and, when there are labels, one color per label and a legend naming them
     * ({@code labelNames[label]}, or the number when there is no such name). {@code labels} may be
     * null (one color, no legend). Points with a NaN or infinite coordinate are left out. Points
     * are drawn in a fixed shuffled order, so that no label hides the others just by coming last.
     */
    public static void latentScatter(Path file, String title, String xLabel, String yLabel, float[][] points2d, int[] labels,
                                     String[] labelNames) throws IOException {
        if (points2d == null || points2d.length == 0) {
            throw new IllegalArgumentException("a scatter plot needs at least one point");
        }
        if (labels != null && labels.length != points2d.length) {
            throw new IllegalArgumentException("a scatter plot needs one label per point, got " + labels.length + " labels for "
                    + points2d.length + " points");
        }
        double xlo = Double.POSITIVE_INFINITY, xhi = Double.NEGATIVE_INFINITY, ylo = xlo, yhi = xhi;
        for (int i = 0; i < points2d.length; i++) {
            float[] p = points2d[i];
            if (p == null || p.length != 2) {
                throw new IllegalArgumentException("point " + i + " has " + (p == null ? 0 : p.length) + " coordinates, not 2");
            }
            if (Float.isFinite(p[0]) && Float.isFinite(p[1])) {
                xlo = Math.min(xlo, p[0]);
                xhi = Math.max(xhi, p[0]);
                ylo = Math.min(ylo, p[1]);
                yhi = Math.max(yhi, p[1]);
            }
        }
        double[] xr = niceRange(xlo, xhi), yr = niceRange(ylo, yhi);   // lo, hi, step
        java.util.TreeSet<Integer> present = new java.util.TreeSet<>();
        if (labels != null) {
            for (int l : labels) {
                present.add(l);
            }
        }
        String[] legend = new String[present.size()];
        int k = 0, widest = 0;
        for (int l : present) {
            legend[k] = labelNames != null && l >= 0 && l < labelNames.length && labelNames[l] != null ? labelNames[l] : Integer.toString(l);
            widest = Math.max(widest, BitmapFont.width(legend[k++], 2));
        }
        int w = 900, h = 700, left = 100, top = 74, bottom = 70;
        int right = present.isEmpty() ? 30 : Math.min(300, widest + 60);
        int pw = w - left - right, ph = h - top - bottom;
        int[] px = new int[w * h];
        java.util.Arrays.fill(px, 0xFFFFFFFF);
        int axis = 0xFF404040, grid = 0xFFE0E0E0;
        for (double v = yr[0]; v <= yr[1] + yr[2] / 2; v += yr[2]) {
            int y = top + ph - (int) Math.round(ph * (v - yr[0]) / (yr[1] - yr[0]));
            line(px, w, h, left, y, left + pw, y, grid, 1);
            line(px, w, h, left - 6, y, left, y, axis, 1);
            String label = format(Math.abs(v) < yr[2] / 1e6 ? 0 : v);
            BitmapFont.draw(px, w, h, label, left - 10 - BitmapFont.width(label, 2), y - 7, 2, axis);
        }
        for (double v = xr[0]; v <= xr[1] + xr[2] / 2; v += xr[2]) {
            int x = left + (int) Math.round(pw * (v - xr[0]) / (xr[1] - xr[0]));
            line(px, w, h, x, top, x, top + ph, grid, 1);
            line(px, w, h, x, top + ph, x, top + ph + 6, axis, 1);
            String label = format(Math.abs(v) < xr[2] / 1e6 ? 0 : v);
            BitmapFont.draw(px, w, h, label, x - BitmapFont.width(label, 2) / 2, top + ph + 12, 2, axis);
        }
        // points, in a fixed shuffled order
        int[] order = new int[points2d.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.SplittableRandom shuffle = new java.util.SplittableRandom(1);
        for (int i = order.length - 1; i > 0; i--) {
            int j = shuffle.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i : order) {
            float[] p = points2d[i];
            if (!Float.isFinite(p[0]) || !Float.isFinite(p[1])) {
                continue;
            }
            int x = left + (int) Math.round(pw * (p[0] - xr[0]) / (xr[1] - xr[0]));
            int y = top + ph - (int) Math.round(ph * (p[1] - yr[0]) / (yr[1] - yr[0]));
            int rgb = labels == null ? LABEL_COLORS[0] : LABEL_COLORS[Math.floorMod(labels[i], LABEL_COLORS.length)];
            disc(px, w, h, x, y, 2, 0xFF000000 | rgb);
        }
        line(px, w, h, left, top, left, top + ph, axis, 2);
        line(px, w, h, left, top + ph, left + pw, top + ph, axis, 2);
        int titleScale = BitmapFont.width(title, 3) <= w - 20 ? 3 : 2;
        BitmapFont.draw(px, w, h, title, (w - BitmapFont.width(title, titleScale)) / 2, 14, titleScale, 0xFF000000);
        BitmapFont.draw(px, w, h, xLabel, left + (pw - BitmapFont.width(xLabel, 2)) / 2, h - 28, 2, axis);
        BitmapFont.draw(px, w, h, yLabel, Math.max(4, left - BitmapFont.width(yLabel, 2) / 2), top - 28, 2, axis);
        // legend, right of the plot: a square of each label's color and its name
        int ly = top + 4, lx = left + pw + 20;
        k = 0;
        for (int l : present) {
            if (ly + 20 > top + ph) {
                BitmapFont.draw(px, w, h, "+" + (present.size() - k) + " more", lx, ly, 2, 0xFF202020);
                break;
            }
            for (int y = ly; y < ly + 14; y++) {
                for (int x = lx; x < lx + 14; x++) {
                    set(px, w, h, x, y, 0xFF000000 | LABEL_COLORS[Math.floorMod(l, LABEL_COLORS.length)]);
                }
            }
            BitmapFont.draw(px, w, h, legend[k++], lx + 22, ly, 2, 0xFF202020);
            ly += 24;
        }
        write(file, px, w, h);
    }

    /** An axis from lo to hi widened to multiples of a 1-2-5 step (about five of them): {lo, hi, step}. */
    static double[] niceRange(double lo, double hi) {
        if (!(lo <= hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9 * Math.max(1, Math.abs(lo))) {
            lo -= 0.5 * Math.max(1, Math.abs(lo));
            hi += 0.5 * Math.max(1, Math.abs(hi));
        }
        double step = niceStep((hi - lo) / 5);
        return new double[] {Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step};
    }

    /** A line chart of the series against 1, 2, ... with axes, ticks, a title and a legend. */
    public static void lineChart(Path file, String title, String xLabel, List<Series> series) throws IOException {
        lineChart(file, title, xLabel, null, series);
    }

    /** The same with a label under each x position (null: 1, 2, ...). */
    public static void lineChart(Path file, String title, String xLabel, String[] xTicks, List<Series> series) throws IOException {
        int w = 900, h = 560, left = 90, right = 30, top = 50, bottom = 70;
        int[] px = new int[w * h];
        java.util.Arrays.fill(px, 0xFFFFFFFF);
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        int n = 0;
        for (Series s : series) {
            for (double v : s.values()) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            n = Math.max(n, s.values().length);
        }
        if (!(lo <= hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi - lo < 1e-9) {
            hi = lo + 1;
        }
        double step = niceStep((hi - lo) / 5);
        lo = Math.floor(lo / step) * step;
        hi = Math.ceil(hi / step) * step;
        int pw = w - left - right, ph = h - top - bottom;
        int axis = 0xFF404040, grid = 0xFFE0E0E0;
        // grid and y ticks at multiples of a 1-2-5 step
        for (double v = lo; v <= hi + step / 2; v += step) {
            int y = top + ph - (int) Math.round(ph * (v - lo) / (hi - lo));
            line(px, w, h, left, y, left + pw, y, grid, 1);
            String label = format(Math.abs(v) < step / 1e6 ? 0 : v);
            BitmapFont.draw(px, w, h, label, left - 8 - BitmapFont.width(label, 2), y - 7, 2, axis);
        }
        // x ticks
        int steps = Math.max(1, n - 1);
        int every = Math.max(1, (int) Math.ceil(n / 10.0));
        for (int i = 0; i < n; i += every) {
            int x = left + (int) Math.round(pw * (double) i / steps);
            line(px, w, h, x, top + ph, x, top + ph + 6, axis, 1);
            String label = xTicks != null && i < xTicks.length ? xTicks[i] : Integer.toString(i + 1);
            BitmapFont.draw(px, w, h, label, x - BitmapFont.width(label, 2) / 2, top + ph + 12, 2, axis);
        }
        line(px, w, h, left, top, left, top + ph, axis, 2);
        line(px, w, h, left, top + ph, left + pw, top + ph, axis, 2);
        BitmapFont.draw(px, w, h, title, (w - BitmapFont.width(title, 3)) / 2, 12, 3, 0xFF000000);
        BitmapFont.draw(px, w, h, xLabel, left + (pw - BitmapFont.width(xLabel, 2)) / 2, h - 28, 2, axis);
        // curves
        for (Series s : series) {
            double[] v = s.values();
            int argb = 0xFF000000 | s.rgb();
            int px0 = -1, py0 = -1;
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    px0 = -1;
                    continue;
                }
                int x = left + (int) Math.round(pw * (double) i / steps);
                int y = top + ph - (int) Math.round(ph * (v[i] - lo) / (hi - lo));
                if (px0 >= 0) {
                    line(px, w, h, px0, py0, x, y, argb, 3);
                }
                dot(px, w, h, x, y, argb);
                px0 = x;
                py0 = y;
            }
        }
        // legend, on a white box
        int ly = top + 10;
        int widest = 0;
        for (Series s : series) {
            widest = Math.max(widest, BitmapFont.width(s.name(), 2));
        }
        int boxX = left + pw - widest - 48;
        for (int y = ly - 6; y < ly + 24 * series.size() - 4 && y < h; y++) {
            for (int x = boxX; x < left + pw - 2; x++) {
                set(px, w, h, x, y, 0xFFFFFFFF);
            }
        }
        for (Series s : series) {
            int lx = boxX + 4;
            line(px, w, h, lx, ly + 7, lx + 24, ly + 7, 0xFF000000 | s.rgb(), 4);
            BitmapFont.draw(px, w, h, s.name(), lx + 32, ly, 2, 0xFF202020);
            ly += 24;
        }
        write(file, px, w, h);
    }

    /** The 1, 2 or 5 times a power of ten nearest above {@code raw}. */
    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double m = raw / p;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }

    static String format(double v) {
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        if (a != 0 && (a >= 1e5 || a < 1e-3)) {
            return String.format(Locale.ROOT, "%.2e", v);
        }
        return a >= 100 ? String.format(Locale.ROOT, "%.0f", v) : a >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.4f", v);
    }

    private static void dot(int[] px, int w, int h, int x, int y, int argb) {
        for (int dy = -3; dy <= 3; dy++) {
            for (int dx = -3; dx <= 3; dx++) {
                if (dx * dx + dy * dy <= 9) {
                    set(px, w, h, x + dx, y + dy, argb);
                }
            }
        }
    }

    private static void disc(int[] px, int w, int h, int x, int y, int radius, int argb) {
        for (int dy = -radius; dy <= radius; dy++) {
            for (int dx = -radius; dx <= radius; dx++) {
                if (dx * dx + dy * dy <= radius * radius + radius) {
                    set(px, w, h, x + dx, y + dy, argb);
                }
            }
        }
    }

    private static void set(int[] px, int w, int h, int x, int y, int argb) {
        if (x >= 0 && x < w && y >= 0 && y < h) {
            px[y * w + x] = argb;
        }
    }

    /** Bresenham's line, {@code thick} pixels wide. */
    private static void line(int[] px, int w, int h, int x0, int y0, int x1, int y1, int argb, int thick) {
        int dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        int half = thick / 2;
        while (true) {
            for (int a = -half; a < thick - half; a++) {
                for (int b = -half; b < thick - half; b++) {
                    set(px, w, h, x0 + a, y0 + b, argb);
                }
            }
            if (x0 == x1 && y0 == y1) {
                break;
            }
            int e2 = 2 * err;
            if (e2 >= dy) {
                err += dy;
                x0 += sx;
            }
            if (e2 <= dx) {
                err += dx;
                y0 += sy;
            }
        }
    }

    private static void write(Path file, int[] px, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, px, 0, w);
        AtomicFiles.write(file, tmp -> {
            if (!ImageIO.write(img, "png", tmp.toFile())) {
                throw new IOException("no PNG writer in this JDK");
            }
        });
    }
}
