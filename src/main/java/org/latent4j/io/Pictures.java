package org.latent4j.io;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * PNG pictures of a model's work: image grids and interpolation strips (pixels set directly),
 * line charts and scatter plots of latent codes (drawn by XChart, an optional dependency, with
 * the bundled DejaVu Sans; see {@link Fonts} for why they render where the system has no fonts
 * or fontconfig). Nothing needs a display. Files are written atomically.
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
        write(file, gridImage(images, cols, imgW, imgH, scale));
    }

    /**
     * {@link #imageGrid} with a title above the grid and a label at the left of each grid row
     * ({@code rowLabels[r]} for row r; null, or a null entry, for none), e.g. "input" and
     * "reconstruction". The text is set in the bundled fonts, which come with the charts (the CLI
     * artifact, with XChart).
     */
    public static void imageGrid(Path file, float[][] images, int cols, int imgW, int imgH, int scale, String title,
                                 String[] rowLabels) throws IOException {
        BufferedImage grid = gridImage(images, cols, imgW, imgH, scale);
        int rows = (images.length + cols - 1) / cols;
        if (rowLabels != null && rowLabels.length > rows) {
            throw new IllegalArgumentException("an image grid of " + rows + " rows got " + rowLabels.length + " row labels");
        }
        requireXChart();
        write(file, Charts.captioned(grid, title, rowLabels, GAP, imgH * scale + GAP, imgH * scale));
    }

    private static final int GAP = 2;

    private static BufferedImage gridImage(float[][] images, int cols, int imgW, int imgH, int scale) {
        if (images.length == 0 || cols <= 0 || scale <= 0) {
            throw new IllegalArgumentException("an image grid needs images, columns and a scale");
        }
        int rows = (images.length + cols - 1) / cols;
        int gap = GAP;
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
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, px, 0, w);
        return img;
    }

    /**
     * Interpolation strips, one row per strip (e.g. the decoded points from one image to
     * another): every strip holds the same number of grayscale images, drawn as in
     * {@link #imageGrid}.
     */
    public static void interpolationStrip(Path file, float[][][] strips, int imgW, int imgH, int scale) throws IOException {
        interpolationStrip(file, strips, imgW, imgH, scale, null, null);
    }

    /** {@link #interpolationStrip} with a title and a label per strip, as {@link #imageGrid(Path, float[][], int, int, int, int, String, String[])}. */
    public static void interpolationStrip(Path file, float[][][] strips, int imgW, int imgH, int scale, String title,
                                          String[] stripLabels) throws IOException {
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
        if (title == null && stripLabels == null) {
            imageGrid(file, images, cols, imgW, imgH, scale);
        } else {
            imageGrid(file, images, cols, imgW, imgH, scale, title, stripLabels);
        }
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
     * title and, when there are labels, one color per label ({@link #LABEL_COLORS}, label k gets
     * color k mod 10) and a legend naming them ({@code labelNames[label]}, or the number when
     * there is no such name). {@code labels} may be null (one color, no legend). Points with a
     * NaN or infinite coordinate are left out. The labels' points are drawn interleaved in a fixed
     * shuffled order, so that no label hides the others just by coming last. Drawn by XChart.
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
        for (int i = 0; i < points2d.length; i++) {
            float[] p = points2d[i];
            if (p == null || p.length != 2) {
                throw new IllegalArgumentException("point " + i + " has " + (p == null ? 0 : p.length) + " coordinates, not 2");
            }
        }
        requireXChart();
        write(file, Charts.scatter(title, xLabel, yLabel, points2d, labels, labelNames));
    }

    /** A line chart of the series against 1, 2, ... with axes, ticks, a title and a legend. */
    public static void lineChart(Path file, String title, String xLabel, List<Series> series) throws IOException {
        lineChart(file, title, xLabel, null, series);
    }

    /**
     * The same with a label under each x position (null: 1, 2, ...). A non-finite value breaks
     * its curve. Drawn by XChart.
     */
    public static void lineChart(Path file, String title, String xLabel, String[] xTicks, List<Series> series) throws IOException {
        for (Series s : series) {
            if (s == null || s.name() == null || s.values() == null) {
                throw new IllegalArgumentException("a line chart's series needs a name and values");
            }
        }
        if (series.stream().map(Series::name).distinct().count() != series.size()) {
            throw new IllegalArgumentException("a line chart's series need different names, got "
                    + series.stream().map(Series::name).toList());
        }
        requireXChart();
        write(file, Charts.lineChart(title, xLabel, xTicks, series));
    }

    /** Charts are drawn by XChart, an optional dependency: names it when an application left it out. */
    private static void requireXChart() {
        try {
            Class.forName("org.knowm.xchart.XYChart", false, Pictures.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("charts are drawn with XChart, which is not on the class path; add"
                    + " org.knowm.xchart:xchart:4.0.3 (an optional dependency of latent4j) to the application");
        }
        try {
            Class.forName("org.latent4j.io.Charts", false, Pictures.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("charts (with their fonts) come with the CLI artifact: add org.latent4j:latent4j with"
                    + " classifier cli beside org.knowm.xchart:xchart:4.0.3 to the application");
        }
    }

    private static void write(Path file, BufferedImage img) throws IOException {
        AtomicFiles.write(file, tmp -> {
            if (!ImageIO.write(img, "png", tmp.toFile())) {
                throw new IOException("no PNG writer in this JDK");
            }
        });
    }
}
