package org.latent4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pictures: sizes and colors, charts drawn by XChart with the bundled fonts, byte for byte the
 * same in a JVM that sees no fonts and no fontconfig at all (a fresh machine), and image grids
 * without the optional XChart.
 */
class PicturesTest {
    static void render(Path dir) throws IOException {
        float[][] imgs = new float[10][784];
        for (int k = 0; k < imgs.length; k++) {
            for (int i = 0; i < 784; i++) {
                imgs[k][i] = ((i / 28 + k) % 7) / 6f;
            }
        }
        Pictures.imageGrid(dir.resolve("grid.png"), imgs, 4, 28, 28, 2);
        Pictures.lineChart(dir.resolve("chart.png"), "loss per image", "epoch", List.of(
                new Pictures.Series("train", new double[] {300, 250, 230}, Pictures.PALETTE[0]),
                new Pictures.Series("kl", new double[] {10, 12, Double.NaN}, Pictures.PALETTE[1])));
        Pictures.interpolationStrip(dir.resolve("strip.png"), new float[][][] {
            java.util.Arrays.copyOfRange(imgs, 0, 5), java.util.Arrays.copyOfRange(imgs, 5, 10)}, 28, 28, 2);
        // three labelled clusters on a circle, and one point without finite coordinates
        float[][] pts = new float[301][];
        int[] labels = new int[301];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < 300; i++) {
            labels[i] = i % 3;
            double a = 2 * Math.PI * labels[i] / 3;
            pts[i] = new float[] {(float) (5 * Math.cos(a) + r.nextGaussian()), (float) (5 * Math.sin(a) + r.nextGaussian())};
        }
        pts[300] = new float[] {Float.NaN, 1};
        labels[300] = 1;
        Pictures.latentScatter(dir.resolve("scatter.png"), "latent codes", pts, labels, new String[] {"T-shirt/top", "Trouser"});
    }

    public static void main(String[] args) throws IOException {
        render(Path.of(args[0]));
        System.out.println("rendered");
    }

    @Test
    void gridAndChartHaveTheRightSizeAndContent(@TempDir Path dir) throws IOException {
        render(dir);
        BufferedImage g = ImageIO.read(dir.resolve("grid.png").toFile());
        assertEquals(4 * (28 * 2 + 2) + 2, g.getWidth());
        assertEquals(3 * (28 * 2 + 2) + 2, g.getHeight());
        assertEquals(0xFFFFFF, g.getRGB(0, 0) & 0xFFFFFF, "gap is white");
        BufferedImage c = ImageIO.read(dir.resolve("chart.png").toFile());
        assertEquals(900, c.getWidth());
        int colored = 0;
        for (int y = 0; y < c.getHeight(); y++) {
            for (int x = 0; x < c.getWidth(); x++) {
                if ((c.getRGB(x, y) & 0xFFFFFF) == Pictures.PALETTE[0]) {
                    colored++;
                }
            }
        }
        assertTrue(colored > 500, "the first curve is drawn (" + colored + " pixels)");
    }

    static java.util.Map<Integer, Integer> colorCounts(BufferedImage img) {
        java.util.Map<Integer, Integer> n = new java.util.HashMap<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n.merge(img.getRGB(x, y) & 0xFFFFFF, 1, Integer::sum);
            }
        }
        return n;
    }

    @Test
    void stripAndScatterHaveTheRightSizeAndColors(@TempDir Path dir) throws IOException {
        render(dir);
        BufferedImage s = ImageIO.read(dir.resolve("strip.png").toFile());
        assertEquals(5 * (28 * 2 + 2) + 2, s.getWidth(), "five images per strip");
        assertEquals(2 * (28 * 2 + 2) + 2, s.getHeight(), "two strips");
        BufferedImage p = ImageIO.read(dir.resolve("scatter.png").toFile());
        assertEquals(900, p.getWidth());
        assertEquals(700, p.getHeight());
        java.util.Map<Integer, Integer> n = colorCounts(p);
        for (int k = 0; k < 3; k++) {
            int c = n.getOrDefault(Pictures.LABEL_COLORS[k], 0);
            // 100 points of 13 pixels, some overlapping, plus the legend's 14 x 14 square
            assertTrue(c > 14 * 14 + 300, "label " + k + " drawn in its color (" + c + " pixels)");
        }
        assertEquals(0, n.getOrDefault(Pictures.LABEL_COLORS[3], 0), "no fourth label");
        assertTrue(n.getOrDefault(0x000000, 0) > 200, "the title is drawn");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Pictures.latentScatter(
                dir.resolve("x.png"), "t", new float[][] {{1, 2}, {3, 4}}, new int[] {1}, null));
        assertTrue(e.getMessage().contains("1 labels for 2 points"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Pictures.interpolationStrip(
                dir.resolve("x.png"), new float[][][] {new float[3][784], new float[2][784]}, 28, 28, 1));
        assertTrue(e.getMessage().contains("strip 1 has 2 images but strip 0 has 3"), e.getMessage());
    }

    @Test
    void lineChartTicksAndRefusals(@TempDir Path dir) {
        assertEquals("2", Charts.tickLabel(2.0, null));
        assertEquals("", Charts.tickLabel(1.5, null), "nothing between whole numbers");
        assertEquals("b", Charts.tickLabel(2.0, new String[] {"a", "b"}));
        assertEquals("", Charts.tickLabel(3.0, new String[] {"a", "b"}), "no name past the last");
        var e = assertThrows(IllegalArgumentException.class, () -> Pictures.lineChart(dir.resolve("x.png"), "t", "epoch", List.of(
                new Pictures.Series("a", new double[] {1}, 0), new Pictures.Series("a", new double[] {2}, 0))));
        assertTrue(e.getMessage().contains("different names"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("x.png")));
    }

    @Test
    void scatterOfFewPointsAndLabelsWithoutFinitePoints(@TempDir Path dir) throws IOException {
        // label 2: one point; label 4: only a NaN point (left out, no legend entry); label 0: three points
        float[][] pts = {{0, 0}, {1, 1}, {2, 0.5f}, {1.5f, 2}, {Float.NaN, 0}};
        Pictures.latentScatter(dir.resolve("few.png"), "few", pts, new int[] {0, 0, 0, 2, 4}, null);
        java.util.Map<Integer, Integer> n = colorCounts(ImageIO.read(dir.resolve("few.png").toFile()));
        assertTrue(n.getOrDefault(Pictures.LABEL_COLORS[2], 0) > 2 * 5, "the lone point and its legend mark");
        assertTrue(n.getOrDefault(Pictures.LABEL_COLORS[0], 0) > 4 * 5, "three points and their legend mark");
        assertEquals(0, n.getOrDefault(Pictures.LABEL_COLORS[4], 0), "label 4 has no finite point");
        Pictures.latentScatter(dir.resolve("none.png"), "none", new float[][] {{Float.NaN, 1}}, null, null);
        assertEquals(0, colorCounts(ImageIO.read(dir.resolve("none.png").toFile())).getOrDefault(Pictures.LABEL_COLORS[0], 0));
    }

    /** The command that runs {@code PicturesTest.main} (rendering into {@code out}) in a child JVM with these options. */
    static List<String> child(String classPath, Path out, String... options) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.awt.headless=true", "--add-modules=jdk.incubator.vector"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-cp", classPath, PicturesTest.class.getName(), out.toString()));
        return cmd;
    }

    static String run(List<String> cmd, int expectedExit) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish: " + out);
        assertEquals(expectedExit, p.exitValue(), String.join(" ", cmd) + "\n" + out);
        return out;
    }

    static void assertSamePictures(Path expected, Path actual) throws IOException {
        for (String f : new String[] {"grid.png", "chart.png", "strip.png", "scatter.png"}) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(actual.resolve(f)), f + " differs");
        }
    }

    /**
     * A fresh machine, for real: a child JVM in a mount namespace where the font folders and
     * fontconfig's configuration are empty and every libfontconfig is an empty file. Java's own
     * text fails there (the control run with -Dlatent4j.fonts=system shows it, with the advice
     * our error gives); with the default the pictures come out byte for byte as in this JVM,
     * where the system's fonts exist. Needs Linux and unshare (CI runs as root).
     */
    @Test
    void chartsRenderTheSameOnAMachineWithoutFontsOrFontconfig(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).startsWith("linux"), "Linux only");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "no /usr/bin/unshare");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        StringBuilder hide = new StringBuilder("set -e; ");
        String home = System.getProperty("user.home");
        for (String d : new String[] {"/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts", home + "/.fonts", home + "/.local/share/fonts"}) {
            if (Files.isDirectory(Path.of(d))) {
                hide.append("mount --bind '").append(empty).append("' '").append(d).append("'; ");
            }
        }
        int libs = 0;
        for (String d : new String[] {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"}) {
            if (!Files.isDirectory(Path.of(d))) {
                continue;
            }
            try (var s = Files.find(Path.of(d), 2, (f, a) -> f.getFileName().toString().startsWith("libfontconfig.so") && !a.isDirectory())) {
                for (Path lib : s.toList()) {
                    if (!Files.isSymbolicLink(lib)) {
                        hide.append("mount --bind /dev/null '").append(lib).append("'; ");
                        libs++;
                    }
                }
            }
        }
        String probe = hide + "test -z \"$(ls -A /usr/share/fonts)\"; exec \"$@\"";
        Assumptions.assumeTrue(new ProcessBuilder("/usr/bin/unshare", "-rm", "true").start().waitFor() == 0,
                "this user may not make a mount namespace (unshare -rm)");
        Path here = Files.createDirectories(dir.resolve("here")), fresh = Files.createDirectories(dir.resolve("fresh"));
        render(here);
        String cp = System.getProperty("java.class.path");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/unshare", "-rm", "bash", "-c", probe, "bash"));
        cmd.addAll(child(cp, fresh));
        String out = run(cmd, 0);
        assertTrue(out.contains("rendered") && out.contains("bundled DejaVu Sans"), out);
        assertSamePictures(here, fresh);

        List<String> control = new ArrayList<>(List.of("/usr/bin/unshare", "-rm", "bash", "-c", probe, "bash"));
        control.addAll(child(cp, Files.createDirectories(dir.resolve("control")), "-Dlatent4j.fonts=system"));
        out = run(control, 1);
        assertTrue(out.contains("Java cannot draw text") && out.contains("-Dlatent4j.fonts=bundled"),
                "without the bundled configuration Java's fonts must fail there (" + libs + " libraries hidden):\n" + out);
    }

    @Test
    void theBundledFontConfigurationGivesTheSamePictures(@TempDir Path dir) throws Exception {
        Path here = Files.createDirectories(dir.resolve("here")), bundled = Files.createDirectories(dir.resolve("bundled"));
        render(here);
        String out = run(child(System.getProperty("java.class.path"), bundled, "-Dlatent4j.fonts=bundled"), 0);
        assertTrue(out.contains("rendered") && out.contains("sun.awt.fontconfig="), out);
        assertSamePictures(here, bundled);
        out = run(child(System.getProperty("java.class.path"), dir.resolve("x"), "-Dlatent4j.fonts=fancy"), 1);
        assertTrue(out.contains("-Dlatent4j.fonts=fancy is not a font choice; use auto, bundled or system"), out);
    }

    /** XChart is optional: without it image grids still work, and a chart names what is missing. */
    @Test
    void withoutXChartGridsWorkAndChartsNameTheLibrary(@TempDir Path dir) throws Exception {
        String cp = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> !e.contains("xchart")).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        String out = run(child(cp, dir), 1);
        assertTrue(Files.size(dir.resolve("grid.png")) > 500, "the grid is written before the chart fails");
        assertTrue(out.contains("charts are drawn with XChart, which is not on the class path; add org.knowm.xchart:xchart:4.0.3"), out);
    }

    static int dark(BufferedImage img, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                int rgb = img.getRGB(x, y);
                n += ((rgb >> 16) & 0xFF) < 128 && ((rgb >> 8) & 0xFF) < 128 && (rgb & 0xFF) < 128 ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void labelledGridHasATitleAndRowLabelsBesideTheSameGrid(@TempDir Path dir) throws IOException {
        float[][] imgs = new float[16][784];
        for (int k = 0; k < imgs.length; k++) {
            for (int i = 0; i < 784; i++) {
                imgs[k][i] = ((i % 28 + k) % 5) / 4f;
            }
        }
        Pictures.imageGrid(dir.resolve("plain.png"), imgs, 8, 28, 28, 2);
        Pictures.imageGrid(dir.resolve("labelled.png"), imgs, 8, 28, 28, 2, "Reconstructions", new String[] {"input", "reconstruction"});
        BufferedImage plain = ImageIO.read(dir.resolve("plain.png").toFile()), lab = ImageIO.read(dir.resolve("labelled.png").toFile());
        int dx = lab.getWidth() - plain.getWidth(), dy = lab.getHeight() - plain.getHeight();
        assertTrue(dx > 40 && dy > 15, "a margin for the labels (" + dx + " px) and a band for the title (" + dy + " px)");
        for (int y = 0; y < plain.getHeight(); y++) {
            for (int x = 0; x < plain.getWidth(); x++) {
                assertEquals(plain.getRGB(x, y), lab.getRGB(x + dx, y + dy), "the grid is unchanged at (" + x + ", " + y + ")");
            }
        }
        int row = 28 * 2 + 2;
        for (int r = 0; r < 2; r++) {
            int n = dark(lab, 0, dy + 2 + r * row, dx, dy + 2 + r * row + 56);
            assertTrue(n > 20, "row " + r + "'s label is drawn beside it (" + n + " dark pixels)");
        }
        assertTrue(dark(lab, 0, 0, lab.getWidth(), dy) > 50, "the title is drawn");
        Pictures.imageGrid(dir.resolve("one.png"), imgs, 8, 28, 28, 2, null, new String[] {"input", null});
        BufferedImage one = ImageIO.read(dir.resolve("one.png").toFile());
        int m = one.getWidth() - plain.getWidth();
        assertEquals(plain.getHeight(), one.getHeight(), "no title, no band");
        assertTrue(dark(one, 0, 2, m, 58) > 20, "row 0 labelled");
        assertEquals(0, dark(one, 0, 2 + row, m, 2 + row + 56), "row 1 left unlabelled");
        var e = assertThrows(IllegalArgumentException.class, () -> Pictures.imageGrid(dir.resolve("x.png"), imgs, 8, 28, 28, 2,
                "t", new String[] {"a", "b", "c"}));
        assertTrue(e.getMessage().contains("2 rows got 3 row labels"), e.getMessage());
    }
}
