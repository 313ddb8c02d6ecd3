package org.latent4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pictures render without fonts: the renderer uses no Java text API (checked in its source), and
 * a child JVM with fontconfig pointed at nothing, headless, still writes every kind of PNG.
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
    void rendererUsesNoFontApis() throws IOException {
        for (String f : new String[] {"Pictures.java", "BitmapFont.java"}) {
            String src = Files.readString(Path.of("src/main/java/org/latent4j/io", f));
            assertTrue(!src.contains("java.awt.Font") && !src.contains("drawString") && !src.contains("Graphics2D"), f);
        }
    }

    @Test
    void rendersInAJvmWithoutFonts(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Djava.awt.headless=true", "-Dsun.java2d.fontpath=/nonexistent",
                "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), PicturesTest.class.getName(), dir.toString());
        pb.environment().put("FONTCONFIG_FILE", "/nonexistent/fonts.conf");
        pb.environment().put("FONTCONFIG_PATH", "/nonexistent");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("rendered"), out);
        assertTrue(Files.size(dir.resolve("chart.png")) > 1000 && Files.size(dir.resolve("grid.png")) > 500);
        assertTrue(Files.size(dir.resolve("scatter.png")) > 1000 && Files.size(dir.resolve("strip.png")) > 500);
    }
}
