package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
import org.latent4j.kernel.Shape;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

/**
 * Convolutional models through the use commands as dense ones: encode, reconstruct, denoise,
 * interpolate, eval, sample, calibrate and score give what the Java API gives, and the pictures
 * take their shape from the model (or the data), never from a count of 784 features.
 */
class ConvModelCommandsTest {
    @TempDir
    static Path dir;
    static Path model, data;
    static float[][] rows;
    static Autoencoder ae;

    @BeforeAll
    static void trainASmallConvolutionalAutoencoder() throws Exception {
        // A denoising convolutional autoencoder, briefly trained on 600 bundled images.
        ModelSpec spec = Model.encoder(1, 28, 28).maskingNoise(0.25f).conv2d(8, 4, 2, 1).relu().conv2d(16, 4, 2, 1).relu().flatten().latent(8)
                .decoder().dense(16 * 7 * 7).relu().reshape(16, 7, 7).convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
        Dataset train = FashionMnist.bundledTrain().head(600);
        assertEquals(Shape.image(1, 28, 28), train.sampleShape(), "IDX images carry their shape");
        ae = Trainer.fit(spec, train, null, TrainingConfig.defaults().withEpochs(2).withThreads(2), TrainingListener.NONE).model();
        model = dir.resolve("conv.safetensors");
        ae.save(model);
        rows = new float[6][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = FashionMnist.bundledTest().row(i);
        }
        data = dir.resolve("x.csv");
        Csv.write(data, rows);   // plain CSV rows: the shape comes from the model
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
        assertTrue(Files.exists(p), p + " was not written");
        return ImageIO.read(p.toFile());
    }

    @Test
    void theModelFileKeepsTheImageShapeAndReadsBackBitwise() throws Exception {
        Autoencoder back = Autoencoder.load(model);
        assertEquals(Shape.image(1, 28, 28), back.imageShape());
        assertArrayEquals(ae.parameters(), back.parameters());
        assertArrayEquals(ae.reconstruct(rows)[2], back.reconstruct(rows)[2]);
    }

    @Test
    void useCommandsGiveWhatTheJavaApiGives() throws Exception {
        MainTest.Run r = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("z.csv").toString());
        assertEquals(0, r.code(), r.err());
        float[][] z = read(dir.resolve("z.csv")), want = ae.encode(rows);
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(want[i], z[i], 1e-6f, "code of row " + i);
        }
        r = MainTest.run("reconstruct", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("r.csv").toString());
        assertEquals(0, r.code(), r.err());
        float[][] rec = read(dir.resolve("r.csv")), wantRec = ae.reconstruct(rows);
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(wantRec[i], rec[i], 1e-6f, "reconstruction of row " + i);
        }
        assertEquals(3 * 28 + 2 + 2, png(dir.resolve("r.png")).getHeight(), "one row of 28x28 images, from the model's shape");

        r = MainTest.run("denoise", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("d.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(2 * (28 * 3 + 2) + 2, png(dir.resolve("d.png")).getHeight(), "inputs above their denoised rows");

        r = MainTest.run("interpolate", "--model", model.toString(), "--data", data.toString(), "--from", "0", "--to", "1", "--steps", "5",
                "--out", dir.resolve("i.csv").toString());
        assertEquals(0, r.code(), r.err());
        float[][] strip = read(dir.resolve("i.csv")), wantStrip = ae.interpolate(rows[0], rows[1], 5, LatentModel.Interpolation.LINEAR);
        assertArrayEquals(wantStrip[2], strip[2], 1e-6f);
        assertEquals(5 * (28 * 3 + 2) + 2, png(dir.resolve("i.png")).getWidth());

        r = MainTest.run("sample", "--model", model.toString(), "-n", "3", "--out", dir.resolve("s.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(3, read(dir.resolve("s.csv")).length);
        assertTrue(Files.exists(dir.resolve("s.png")), "samples drawn with the model's shape, without data");

        r = MainTest.run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, r.code(), r.err());
        double ssim = org.latent4j.model.Metrics.meanSsim(rows, wantRec, 28, 28, 1.0);
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "\"ssim\":%.4f", ssim)), ssim + " in " + r.out());
    }

    @Test
    void calibrateAndScoreAConvolutionalModel() throws Exception {
        Path normal = dir.resolve("normal.csv");
        float[][] normals = new float[40][];
        for (int i = 0; i < normals.length; i++) {
            normals[i] = FashionMnist.bundledTest().row(10 + i);
        }
        Csv.write(normal, normals);
        Path det = dir.resolve("detector.safetensors");
        MainTest.Run c = MainTest.run("calibrate", "--model", model.toString(), "--normal", normal.toString(), "--rule", "max",
                "--out", det.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("0 of 40 normal rows above it"), c.out());
        // An image turned to noise (a checkerboard of 0/1) scores far above every normal image.
        float[][] mixed = {rows[0], new float[784]};
        for (int i = 0; i < 784; i++) {
            mixed[1][i] = (i / 28 + i % 28) % 2;
        }
        Path m = dir.resolve("mixed.csv");
        Csv.write(m, mixed);
        Path scores = dir.resolve("scores.csv");
        MainTest.Run s = MainTest.run("score", "--model", det.toString(), "--data", m.toString(), "--out", scores.toString());
        assertEquals(0, s.code(), s.err());
        List<String> lines = Files.readAllLines(scores);
        double[] want = org.latent4j.model.AnomalyDetector.load(det).score(mixed);   // the Java API's scores of the same detector
        assertEquals(want[0], Double.parseDouble(lines.get(0).split(",")[0]), 1e-6 * want[0]);
        assertEquals(want[1], Double.parseDouble(lines.get(1).split(",")[0]), 1e-6 * want[1]);
        assertTrue(Double.parseDouble(lines.get(1).split(",")[0]) > 2 * Double.parseDouble(lines.get(0).split(",")[0]), lines.toString());
        assertEquals("1.0", lines.get(1).split(",")[1], "the noise image is flagged: " + lines);
    }

    @Test
    void aConditionalConvolutionalVaeThroughTheCommands() throws Exception {
        // A CVAE on images: each image's class joins the input as 10 planes and z as 10 values.
        ModelSpec spec = Model.encoder(1, 28, 28).conditionedOn(10).conv2d(8, 4, 2, 1).relu().conv2d(8, 4, 2, 1).relu().flatten()
                .gaussianLatent(4).decoder().dense(8 * 7 * 7).relu().reshape(8, 7, 7).convTranspose2d(8, 4, 2, 1).relu()
                .convTranspose2d(1, 4, 2, 1).bernoulli();
        Autoencoder cvae = Trainer.fit(spec, FashionMnist.bundledTrain().head(300), null,
                TrainingConfig.defaults().withEpochs(1).withThreads(2), TrainingListener.NONE).model();
        Path file = dir.resolve("cvae.safetensors");
        cvae.save(file);
        float[][] three = new float[rows.length][10];
        for (float[] c : three) {
            c[3] = 1f;
        }
        MainTest.Run e = MainTest.run("encode", "--model", file.toString(), "--data", data.toString(), "--condition", "3",
                "--out", dir.resolve("cz.csv").toString());
        assertEquals(0, e.code(), e.err());
        float[][] z = read(dir.resolve("cz.csv")), want = cvae.encode(rows, three);
        for (int i = 0; i < rows.length; i++) {
            assertArrayEquals(want[i], z[i], 1e-6f);
        }
        float[][] other = cvae.encode(rows, new float[rows.length][10]);
        assertTrue(Math.abs(other[0][0] - want[0][0]) > 1e-6, "the condition reaches the encoder");
        MainTest.Run s = MainTest.run("sample", "--model", file.toString(), "--condition", "3", "-n", "8", "--out",
                dir.resolve("cs.csv").toString());
        assertEquals(0, s.code(), s.err());
        float[][] drawn = read(dir.resolve("cs.csv"));
        assertEquals(8, drawn.length);
        assertEquals(784, drawn[0].length);
        assertTrue(Files.exists(dir.resolve("cs.png")), "the samples are drawn as 28x28 images");
    }

    @Test
    void shapesAreCheckedWhereTheyMeet() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> ae.withImageShape(Shape.image(1, 14, 14)));
        assertThrows(IllegalArgumentException.class, () -> FashionMnist.bundledTest().withSampleShape(Shape.image(3, 28, 28)));
        ModelSpec flat = Model.encoder(784).dense(8).relu().latent(2).decoder().dense(784).bernoulli();
        Autoencoder plain = Autoencoder.of(flat, Trainer.initialParams(Graph.build(flat).fuse(), 1));
        assertEquals(null, plain.imageShape(), "784 features are not taken for an image");
        assertEquals(Shape.image(1, 28, 28), plain.withImageShape(Shape.image(1, 28, 28)).imageShape());
        Path bad = dir.resolve("bad.safetensors");
        plain.save(bad, java.util.Map.of(Autoencoder.IMAGE_SHAPE_KEY, "1x28x27"));
        var e = assertThrows(java.io.IOException.class, () -> Autoencoder.load(bad));
        assertTrue(e.getMessage().contains(Autoencoder.IMAGE_SHAPE_KEY) && e.getMessage().contains("1x28x27"), e.getMessage());
    }
}
