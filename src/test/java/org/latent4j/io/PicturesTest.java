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
 * a child JVM with fontconfig pointed at nothing, headless, still writes both kinds of PNG.
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
    }
}
