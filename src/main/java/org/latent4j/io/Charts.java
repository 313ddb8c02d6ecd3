package org.latent4j.io;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts and scatter plots drawn by XChart (an optional dependency: only this class
 * imports it, and {@link Pictures} checks it is there before calling). Every text is set in
 * the bundled fonts ({@link Fonts}), numbers in the root locale, so a chart is the same picture
 * on every machine, fonts installed or not. Inputs are checked by {@link Pictures}.
 */
final class Charts {
    private Charts() {}

    static final Color TEXT = new Color(0x202020), GRID = new Color(0xE0E0E0);

    private static XYChart chart(int width, int height, String title, String xLabel, String yLabel) {
        Fonts.prepare();   // before XChart touches Java's fonts
        XYChart c = new XYChart(width, height);
        c.setTitle(title);
        c.setXAxisTitle(xLabel);
        c.setYAxisTitle(yLabel == null ? "" : yLabel);
        XYStyler s = c.getStyler();
        s.setYAxisTitleVisible(yLabel != null);
        s.setBaseFont(Fonts.regular(12f));   // first: XChart derives its other fonts from it
        s.setChartTitleFont(Fonts.bold(18f));
        s.setAxisTitleFont(Fonts.regular(14f));
        s.setAxisTickLabelsFont(Fonts.regular(12f));
        s.setLegendFont(Fonts.regular(13f));
        s.setAnnotationTextPanelFont(Fonts.regular(12f));
        s.setToolTipFont(Fonts.regular(12f));
        s.setCursorFont(Fonts.regular(12f));
        s.setLocale(Locale.ROOT);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setChartFontColor(TEXT);
        s.setChartTitleFontColor(Color.BLACK);
        s.setAxisTickLabelsColor(TEXT);
        s.setPlotBorderColor(new Color(0x404040));
        s.setPlotGridLinesColor(GRID);
        s.setPlotGridLinesStroke(new BasicStroke(1f));
        s.setChartTitleBoxVisible(false);
        s.setLegendBorderColor(new Color(0xC0C0C0));
        s.setAntiAlias(true);
        s.setTextAntiAlias(true);
        return c;
    }

    /** Series against x = 1, 2, ... (labelled {@code xTicks[x - 1]} when given); NaN values break the line. */
    static BufferedImage lineChart(String title, String xLabel, String[] xTicks, List<Pictures.Series> series) {
        XYChart c = chart(900, 560, title, xLabel, null);
        XYStyler s = c.getStyler();
        s.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);   // beside the plot: never over a curve
        s.setLegendVisible(!series.isEmpty());
        s.setMarkerSize(7);
        int n = 1;
        for (Pictures.Series ser : series) {
            n = Math.max(n, ser.values().length);
        }
        // A long series starts its axis at 0, so that XChart's ticks fall on round numbers (0, 100, 200 ...), not on 1, 21, 41 ...
        s.setXAxisMin(n == 1 ? 0.5 : n > 30 ? 0.0 : 1.0);
        s.setXAxisMax(n == 1 ? 1.5 : (double) n);
        s.setXAxisMaxLabelCount(Math.min(n, 12));
        s.setXAxisTickLabelsFormattingFunction(x -> tickLabel(x, xTicks));
        int drawn = 0;
        for (Pictures.Series ser : series) {
            double[] v = ser.values();
            if (v.length == 0) {
                continue;
            }
            double[] x = new double[v.length];
            double[] y = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                x[i] = i + 1;
                y[i] = Double.isFinite(v[i]) ? v[i] : Double.NaN;
            }
            XYSeries xy = c.addSeries(ser.name(), x, y);
            drawn++;
            Color color = new Color(ser.rgb());
            xy.setLineColor(color);
            xy.setMarkerColor(color);
            xy.setMarker(v.length > 60 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);   // hundreds of dots would hide the curve
            xy.setLineStyle(new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        }
        if (drawn == 0) {
            s.setYAxisMin(0.0);
            s.setYAxisMax(1.0);
        }
        return BitmapEncoder.getBufferedImage(c);
    }

    /** The label under an x tick: the whole number, or its name in {@code ticks}; nothing between whole numbers. */
    static String tickLabel(double x, String[] ticks) {
        long i = Math.round(x);
        if (Math.abs(x - i) > 1e-9) {
            return "";
        }
        if (ticks == null) {
            return Long.toString(i);
        }
        return i >= 1 && i <= ticks.length && ticks[(int) i - 1] != null ? ticks[(int) i - 1] : "";
    }

    /** How many rounds each label's points are split into, drawn round by round, so that no label lies on top of the others. */
    static final int ROUNDS = 8;

    /**
     * Points colored by label ({@code Pictures.LABEL_COLORS}, legend names from {@code labelNames});
     * non-finite points left out. Each label's points, shuffled with a fixed seed, are drawn in
     * {@link #ROUNDS} rounds of all labels in turn.
     */
    static BufferedImage scatter(String title, String xLabel, String yLabel, float[][] points, int[] labels,
                                 String[] labelNames) {
        XYChart c = chart(900, 700, title, xLabel, yLabel);
        XYStyler s = c.getStyler();
        s.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendVisible(labels != null);
        s.setMarkerSize(5);
        TreeMap<Integer, List<Integer>> byLabel = new TreeMap<>();
        int[] order = shuffled(points.length);
        for (int i : order) {
            if (Float.isFinite(points[i][0]) && Float.isFinite(points[i][1])) {
                byLabel.computeIfAbsent(labels == null ? 0 : labels[i], k -> new ArrayList<>()).add(i);
            }
        }
        for (int round = 0; round < ROUNDS; round++) {
            for (var e : byLabel.entrySet()) {
                List<Integer> idx = e.getValue();
                // rounds of ceil(size / ROUNDS) points: the first (named in the legend) is never empty
                int from = (int) (((long) idx.size() * round + ROUNDS - 1) / ROUNDS);
                int to = (int) (((long) idx.size() * (round + 1) + ROUNDS - 1) / ROUNDS);
                if (from == to) {
                    continue;
                }
                double[] x = new double[to - from], y = new double[to - from];
                for (int k = from; k < to; k++) {
                    x[k - from] = points[idx.get(k)][0];
                    y[k - from] = points[idx.get(k)][1];
                }
                int label = e.getKey();
                String name = labelName(label, labelNames);
                // series names must differ; the later rounds' names are never shown
                XYSeries xy = c.addSeries(round == 0 ? name : name + "\u0000" + round, x, y);
                xy.setShowInLegend(round == 0);
                Color color = new Color(Pictures.LABEL_COLORS[Math.floorMod(label, Pictures.LABEL_COLORS.length)]);
                xy.setMarkerColor(color);
                xy.setMarker(SeriesMarkers.CIRCLE);
            }
        }
        if (byLabel.isEmpty()) {
            s.setXAxisMin(0.0);
            s.setXAxisMax(1.0);
            s.setYAxisMin(0.0);
            s.setYAxisMax(1.0);
            s.setLegendVisible(false);
        }
        return BitmapEncoder.getBufferedImage(c);
    }

    /**
     * A picture with a title above it and a label at the left of each of its rows of images (row r
     * spans {@code rowTop + r * rowStep} to {@code + rowHeight}); a null label leaves its row
     * unlabelled, a null title leaves the band out. Text in the bundled fonts, black on white.
     */
    static BufferedImage captioned(BufferedImage picture, String title, String[] rowLabels, int rowTop, int rowStep, int rowHeight) {
        Fonts.prepare();   // before Java's fonts are first touched
        java.awt.Font labelFont = Fonts.regular(13f), titleFont = Fonts.bold(15f);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D m = probe.createGraphics();
        java.awt.FontMetrics lm = m.getFontMetrics(labelFont), tm = m.getFontMetrics(titleFont);
        int margin = 0;
        if (rowLabels != null) {
            for (String l : rowLabels) {
                margin = Math.max(margin, l == null ? 0 : lm.stringWidth(l));
            }
        }
        margin = margin == 0 ? 0 : margin + 14;
        int band = title == null ? 0 : tm.getHeight() + 10;
        int width = Math.max(margin + picture.getWidth(), title == null ? 0 : tm.stringWidth(title) + 16);
        m.dispose();
        BufferedImage out = new BufferedImage(width, band + picture.getHeight(), BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.drawImage(picture, margin, band, null);
        g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        if (title != null) {
            g.setFont(titleFont);
            g.drawString(title, 8, 5 + tm.getAscent());
        }
        if (rowLabels != null) {
            g.setFont(labelFont);
            g.setColor(TEXT);
            for (int r = 0; r < rowLabels.length; r++) {
                if (rowLabels[r] != null) {
                    int mid = band + rowTop + r * rowStep + rowHeight / 2;
                    g.drawString(rowLabels[r], margin - 8 - lm.stringWidth(rowLabels[r]), mid + (lm.getAscent() - lm.getDescent()) / 2);
                }
            }
        }
        g.dispose();
        return out;
    }

    static String labelName(int label, String[] names) {
        return names != null && label >= 0 && label < names.length && names[label] != null ? names[label] : Integer.toString(label);
    }

    /** 0 .. n-1 in an order fixed by seed 1. */
    private static int[] shuffled(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(1);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
