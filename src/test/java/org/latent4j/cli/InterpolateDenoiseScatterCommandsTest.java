package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.io.Pictures;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.train.Trainer;

/** interpolate, denoise, encode --scatter and calibrate --scale on small model files. */
class InterpolateDenoiseScatterCommandsTest {
    static final Path BUNDLED = Path.of("src/main/resources/org/latent4j/data/fashion-mnist");
    @TempDir
    static Path dir;
    static Path model, data;
    static float[][] rows;

    @BeforeAll
    static void modelAndData() throws Exception {
        ModelSpec spec = Model.encoder(784).dense(16).relu().gaussianLatent(3).decoder().dense(16).relu().dense(784).bernoulli();
        model = dir.resolve("m.safetensors");
        // A model on features of 28x28 images records their shape (as `train` does), so pictures are drawn.
        Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 1)).withImageShape(org.latent4j.kernel.Shape.image(1, 28, 28))
                .save(model);
        rows = new float[5][];
        for (int i = 0; i < 5; i++) {
            rows[i] = FashionMnist.bundledTest().row(i);
        }
        data = dir.resolve("x.csv");
        Csv.write(data, rows);
    }

    static float[][] read(Path csv) throws Exception {
        Dataset d = Csv.read(csv);
        float[][] x = new float[d.rows()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    static BufferedImage png(Path p) throws Exception {
        return ImageIO.read(p.toFile());
    }

    @Test
    void interpolateWritesOneStripPerPairAsCsvAndPng() throws Exception {
        Path out = dir.resolve("strip.csv");
        MainTest.Run r = MainTest.run("interpolate", "--model", model.toString(), "--data", data.toString(), "--from", "0,1",
                "--to", "4,3", "--steps", "6", "--spherical", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 strips of 6 rows, spherical"), r.out());
        float[][] got = read(out);
        assertEquals(12, got.length);
        LatentModel m = Autoencoder.load(model);
        float[][] first = m.interpolate(rows[0], rows[4], 6, LatentModel.Interpolation.SPHERICAL);
        float[][] second = m.interpolate(rows[1], rows[3], 6, LatentModel.Interpolation.SPHERICAL);
        for (int i = 0; i < 6; i++) {
            assertArrayEquals(first[i], got[i], 1e-6f, "strip 0, point " + i);
            assertArrayEquals(second[i], got[6 + i], 1e-6f, "strip 1, point " + i);
        }
        BufferedImage strip = png(dir.resolve("strip.png"));
        assertEquals(6 * (28 * 3 + 2) + 2, strip.getWidth(), "six images a strip");
        assertEquals(2 * (28 * 3 + 2) + 2, strip.getHeight(), "two strips");

        r = MainTest.run("interpolate", "--model", model.toString(), "--data", data.toString(), "--from", "0", "--to", "4",
                "--out", dir.resolve("line.csv").toString());
        assertEquals(0, r.code(), r.err());
        float[][] line = read(dir.resolve("line.csv"));
        assertEquals(10, line.length, "ten steps by default");
        assertArrayEquals(m.interpolate(rows[0], rows[4], 10, LatentModel.Interpolation.LINEAR)[4], line[4], 1e-6f);
    }

    @Test
    void evalReportsErrorsKlPerDimensionCompressionRatioAndMeanSsim() throws Exception {
        MainTest.Run r = MainTest.run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, r.code(), r.err());
        double ssim = org.latent4j.model.Metrics.meanSsim(rows, Autoencoder.load(model).reconstruct(rows), 28, 28, 1.0);
        assertTrue(r.out().contains("\"compression_ratio\":261.3333"), r.out());
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "\"ssim\":%.4f}", ssim)), ssim + " in " + r.out());
        // errors of the reconstructions, from a plain double loop
        float[][] rec = Autoencoder.load(model).reconstruct(rows);
        double se = 0, ae = 0;
        int n = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < rows[i].length; j++, n++) {
                double e = (double) rows[i][j] - rec[i][j];
                se += e * e;
                ae += Math.abs(e);
            }
        }
        assertEquals(se / n, field(r.out(), "mse"), 1e-5 * se / n, r.out());
        assertEquals(Math.sqrt(se / n), field(r.out(), "rmse"), 1e-5, r.out());
        assertEquals(ae / n, field(r.out(), "mae"), 1e-5 * ae / n, r.out());
        assertEquals(10 * Math.log10(1 / (se / n)), field(r.out(), "psnr"), 1e-3, "pixels in [0, 1]: peak 1; " + r.out());
        // a VAE: the KL of each of its 3 latent dimensions, summing to the KL, and the active units
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"kl_per_dimension\":\\[([^\\]]*)\\]").matcher(r.out());
        assertTrue(m.find(), r.out());
        double[] kl = java.util.Arrays.stream(m.group(1).split(",")).mapToDouble(Double::parseDouble).toArray();
        assertEquals(3, kl.length);
        assertEquals(field(r.out(), "kl"), java.util.Arrays.stream(kl).sum(), 1e-3, r.out());
        double active = field(r.out(), "active_units");
        assertTrue(active >= 0 && active <= 3, r.out());
    }

    static double field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":([-0-9.eE+]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void denoiseWritesTheReconstructionsAndInputsAboveThem() throws Exception {
        Path out = dir.resolve("clean.csv");
        MainTest.Run r = MainTest.run("denoise", "--model", model.toString(), "--data", data.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        float[][] got = read(out), want = Autoencoder.load(model).reconstruct(rows);
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(want[i], got[i], 1e-6f, "row " + i);
        }
        BufferedImage p = png(dir.resolve("clean.png"));
        assertEquals(8 * (28 * 3 + 2) + 2, p.getWidth());
        assertEquals(2 * (28 * 3 + 2) + 2, p.getHeight(), "one row of inputs above one row of outputs");
    }

    /** The label colors that at least 12 pixels have exactly (a point and its legend mark; stray anti-aliased pixels do not count). */
    static Set<Integer> labelColors(BufferedImage img) {
        java.util.Map<Integer, Integer> count = new java.util.HashMap<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xFFFFFF;
                for (int c : Pictures.LABEL_COLORS) {
                    if (c == rgb) {
                        count.merge(c, 1, Integer::sum);
                    }
                }
            }
        }
        Set<Integer> seen = new HashSet<>();
        count.forEach((c, n) -> {
            if (n >= 12) {
                seen.add(c);
            }
        });
        return seen;
    }

    @Test
    void encodeDrawsTheCodesColouredByLabel() throws Exception {
        // a Fashion-MNIST folder brings its labels
        Path scatter = dir.resolve("codes.png");
        MainTest.Run r = MainTest.run("encode", "--model", model.toString(), "--data", BUNDLED.toString(), "--out",
                dir.resolve("codes.csv").toString(), "--variance", "--scatter", scatter.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1000 codes: the first two principal components of the 3-d codes"), r.out());
        assertEquals(6, Csv.read(dir.resolve("codes.csv")).features(), "means and log-variances in the CSV");
        BufferedImage p = png(scatter);
        assertEquals(900, p.getWidth());
        assertEquals(700, p.getHeight());
        assertEquals(10, labelColors(p).size(), "ten classes, ten colours");
        // a CSV with a labels file beside it
        Path labels = Files.writeString(dir.resolve("labels.csv"), "0\n2\n2\n5\n5\n");
        r = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("z.csv").toString(),
                "--scatter", scatter.toString(), "--labels", labels.toString());
        assertEquals(0, r.code(), r.err());
        Set<Integer> seen = labelColors(png(scatter));
        // label 7's grey (7f7f7f) is also a shade of the anti-aliased dark text, so it is left out of this count
        seen.remove(Pictures.LABEL_COLORS[7]);
        assertEquals(Set.of(Pictures.LABEL_COLORS[0], Pictures.LABEL_COLORS[2], Pictures.LABEL_COLORS[5]), seen);
    }

    @Test
    void calibrateSavesAnInputScalingThatScoreKeeps() throws Exception {
        StringBuilder normal = new StringBuilder();
        java.util.SplittableRandom g = new java.util.SplittableRandom(2);
        for (int i = 0; i < 100; i++) {
            double t = g.nextGaussian();
            normal.append(1000 * t + 50).append(',').append(0.01 * t).append(',').append(-t + 0.05 * g.nextGaussian()).append('\n');
        }
        Path n = Files.writeString(dir.resolve("normal.csv"), normal);
        assertEquals(0, MainTest.run("pca", "--data", n.toString(), "-q", "1", "--out", dir.resolve("pca").toString()).code());
        Path det = dir.resolve("det.safetensors");
        MainTest.Run c = MainTest.run("calibrate", "--model", dir.resolve("pca/model.safetensors").toString(), "--normal", n.toString(),
                "--scale", "standard", "--rule", "max", "--out", det.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("standard scaling of 3 features") && c.out().contains("0 of 100 normal rows above it"), c.out());
        AnomalyDetector d = AnomalyDetector.load(det);
        assertEquals("standard", d.scaling().kind());
        Path scores = dir.resolve("s.csv");
        MainTest.Run s = MainTest.run("score", "--model", det.toString(), "--data", n.toString(), "--out", scores.toString(), "--method", "mae");
        assertEquals(0, s.code(), s.err());
        float[][] x = read(n);
        double[] want = AnomalyDetector.of(d.model(), AnomalyDetector.Score.MAE, 10, 1).withScaling(d.scaling()).score(x);
        float[][] got = read(scores);
        for (int i = 0; i < x.length; i++) {
            assertEquals((float) want[i], got[i][0], 0f, "row " + i + ": --method keeps the saved scaling");
        }
    }
}
