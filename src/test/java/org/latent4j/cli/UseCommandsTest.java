package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Csv;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Trainer;

class UseCommandsTest {
    @Test
    void encodeReconstructSampleEvalAndInfoOnAModelFile(@TempDir Path dir) throws Exception {
        ModelSpec spec = Model.encoder(784).dense(16).relu().gaussianLatent(3).decoder().dense(16).relu().dense(784).bernoulli();
        Path model = dir.resolve("m.safetensors");
        Autoencoder plain = Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 1));
        // Rows of 784 values are not taken for images unless the model (or the data) says so.
        Path flat = dir.resolve("flat.safetensors");
        plain.save(flat);
        plain.withImageShape(org.latent4j.kernel.Shape.image(1, 28, 28)).save(model);
        float[][] rows = new float[5][];
        for (int i = 0; i < 5; i++) {
            rows[i] = FashionMnist.bundledTest().row(i);
        }
        Path data = dir.resolve("x.csv");
        Csv.write(data, rows);

        MainTest.Run r = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("z.csv").toString(), "--variance");
        assertEquals(0, r.code(), r.err());
        assertEquals(5, Csv.read(dir.resolve("z.csv")).rows());
        assertEquals(6, Csv.read(dir.resolve("z.csv")).features());

        r = MainTest.run("reconstruct", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("r.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(784, Csv.read(dir.resolve("r.csv")).features());
        assertTrue(Files.size(dir.resolve("r.png")) > 100);
        r = MainTest.run("reconstruct", "--model", flat.toString(), "--data", data.toString(), "--out", dir.resolve("f.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(!Files.exists(dir.resolve("f.png")), "a model on plain features with CSV rows draws no picture");

        r = MainTest.run("sample", "--model", model.toString(), "-n", "7", "--out", dir.resolve("s.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(7, Csv.read(dir.resolve("s.csv")).rows());

        r = MainTest.run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"neg_elbo\":") && r.out().contains("\"rows\":5"), r.out());

        r = MainTest.run("info", "--model", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("VAE") && r.out().contains("total: "), r.out());
    }

    @Test
    void pcaAndPpcaModelFilesServeTheSameCommands(@TempDir Path dir) throws Exception {
        float[][] rows = new float[300][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = FashionMnist.bundledTrain().row(i);
        }
        Path data = dir.resolve("x.csv");
        Csv.write(data, rows);
        for (String kind : new String[] {"pca", "ppca"}) {
            Path out = dir.resolve(kind);
            MainTest.Run r = MainTest.run(kind, "--data", data.toString(), "-q", "5", "--out", out.toString(), "--json");
            assertEquals(0, r.code(), r.err());
            Path model = out.resolve("model.safetensors");
            assertTrue(Files.size(out.resolve("metrics.json")) > 10 && Files.size(model) > 784 * 5 * 8);

            r = MainTest.run("info", "--model", model.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains(kind.toUpperCase() + ", 784 inputs, 5 latent dimensions"), r.out());

            r = MainTest.run("score", "--model", model.toString(), "--data", data.toString(), "--out", out.resolve("s.csv").toString());
            assertEquals(0, r.code(), r.err());
            org.latent4j.data.Dataset scores = Csv.read(out.resolve("s.csv"));
            assertEquals(300, scores.rows());
            float[][] rec = org.latent4j.model.Models.load(model).reconstruct(new float[][] {rows[7]});
            double se = 0;
            for (int j = 0; j < 784; j++) {
                se += (rows[7][j] - rec[0][j]) * (double) (rows[7][j] - rec[0][j]);
            }
            assertEquals(se, scores.row(7)[0], 1e-5 * se, "row 7's score is its squared reconstruction error");

            r = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out", out.resolve("z.csv").toString(), "--variance");
            assertEquals(kind.equals("ppca") ? 0 : 2, r.code(), r.err());
            if (kind.equals("ppca")) {
                assertEquals(10, Csv.read(out.resolve("z.csv")).features());
            } else {
                assertTrue(r.err().contains("a pca model has no latent variance"), r.err());
            }
            r = MainTest.run("eval", "--model", model.toString(), "--data", data.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("\"squared_error\":") && (kind.equals("pca") || r.out().contains("neg_log_likelihood")), r.out());

            r = MainTest.run("sample", "--model", model.toString(), "-n", "3", "--out", out.resolve("samples.csv").toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(3, Csv.read(out.resolve("samples.csv")).rows());
        }
    }

    @Test
    void demoWritesTheRunFolderAndTheModelFile(@TempDir Path dir) throws Exception {
        MainTest.Run r = MainTest.run("demo", "--epochs", "1", "--latent", "4", "--threads", "1",
                "--out", dir.resolve("run").toString(), "--model", dir.resolve("m.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"model.safetensors", "loss.png", "reconstructions.png", "samples.png", "metrics.json"}) {
            assertTrue(Files.size(dir.resolve("run").resolve(f)) > 100, f);
        }
        assertTrue(Files.readString(dir.resolve("run/metrics.json")).contains("\"test_neg_elbo\":"));
        assertEquals(4, Autoencoder.load(dir.resolve("m.safetensors")).latentDim());
        // labelled pictures: a title band above and the row labels (input, reconstruction) left of the 4 x 8 grid of 28 x 3 px images
        java.awt.image.BufferedImage rec = javax.imageio.ImageIO.read(dir.resolve("run/reconstructions.png").toFile());
        assertTrue(rec.getWidth() > 8 * 86 + 2 + 40 && rec.getHeight() > 4 * 86 + 2 + 15, rec.getWidth() + " x " + rec.getHeight());
    }

    @Test
    void demoFindsTheFullSetOnlyWhenAllFourFilesAreThere(@TempDir Path dir) throws Exception {
        assertTrue(!DemoCommand.hasFullSet(dir), "an empty folder");
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte.gz"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        assertTrue(!DemoCommand.hasFullSet(dir), "no test labels");
        Files.writeString(dir.resolve("t10k-labels-idx1-ubyte.gz"), "x");
        assertTrue(DemoCommand.hasFullSet(dir), "all four, gzipped or not");
    }

    @Test
    void missingFilesAndWrongWidthsAreOneLineExitTwo(@TempDir Path dir) throws Exception {
        MainTest.Run r = MainTest.run("info", "--model", dir.resolve("nope.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no such file") && !r.err().contains("\tat "), r.err());
        ModelSpec spec = Model.encoder(4).dense(3).relu().latent(2).decoder().dense(4).gaussian();
        Path model = dir.resolve("m.safetensors");
        Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 1)).save(model);
        Path data = dir.resolve("x.csv");
        Files.writeString(data, "1,2,3\n");
        r = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("z.csv").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has 3 features per row but the model takes 4"), r.err());
    }
}
