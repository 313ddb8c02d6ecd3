package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Trainer;

/** calibrate and score: a detector file, a verdict column, per-feature parts, clear errors. */
class DetectCommandsTest {
    @Test
    void calibrateThenScoreWritesScoresVerdictsAndContributions(@TempDir Path dir) throws Exception {
        // Normal rows lie near a line in 3-D; anomalies are far off it.
        SplittableRandom r = new SplittableRandom(4);
        StringBuilder normal = new StringBuilder(), mixed = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            double t = r.nextGaussian();
            normal.append(t).append(',').append(2 * t + 0.05 * r.nextGaussian()).append(',').append(-t + 0.05 * r.nextGaussian()).append('\n');
        }
        for (int i = 0; i < 20; i++) {
            double t = r.nextGaussian();
            boolean odd = i % 2 == 0;
            mixed.append(t).append(',').append(2 * t + (odd ? 3 : 0)).append(',').append(-t).append('\n');
        }
        Path n = Files.writeString(dir.resolve("normal.csv"), normal), m = Files.writeString(dir.resolve("mixed.csv"), mixed);
        assertEquals(0, MainTest.run("pca", "--data", n.toString(), "-q", "1", "--out", dir.resolve("pca").toString()).code());
        Path model = dir.resolve("pca/model.safetensors"), det = dir.resolve("detector.safetensors");
        MainTest.Run c = MainTest.run("calibrate", "--model", model.toString(), "--normal", n.toString(), "--rule", "max", "--out", det.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("0 of 200 normal rows above it"), c.out());
        Path scores = dir.resolve("s.csv"), parts = dir.resolve("p.csv");
        MainTest.Run s = MainTest.run("score", "--model", det.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--contributions", parts.toString());
        assertEquals(0, s.code(), s.err());
        List<String> lines = Files.readAllLines(scores);
        assertEquals(20, lines.size());
        for (int i = 0; i < 20; i++) {
            assertEquals(i % 2 == 0 ? "1.0" : "0.0", lines.get(i).split(",")[1], "row " + i + ": " + lines.get(i));
        }
        assertEquals(3, Files.readAllLines(parts).get(0).split(",").length);
        assertEquals(3, AnomalyDetector.load(det).model().inputDim());

        CliErrorsTest.oneLine(MainTest.run("score", "--model", model.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--method", "elbo"), "NEG_ELBO needs a VAE");
        CliErrorsTest.oneLine(MainTest.run("score", "--model", model.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--method", "zscore"), "--method zscore");
        CliErrorsTest.oneLine(MainTest.run("calibrate", "--model", model.toString(), "--normal", n.toString(), "--rule", "median",
                "--out", det.toString()), "--rule median");
    }

    @Test
    void aVaeScoresByImportanceWeighting(@TempDir Path dir) throws Exception {
        ModelSpec spec = Model.encoder(4).dense(8).relu().gaussianLatent(2).decoder().dense(8).relu().dense(4).bernoulli();
        Path model = dir.resolve("vae.safetensors");
        Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 2)).save(model);
        Path data = Files.writeString(dir.resolve("x.csv"), "0,1,0,1\n1,1,0,0\n0.5,0.5,0.5,0.5\n");
        Path out = dir.resolve("s.csv");
        MainTest.Run s = MainTest.run("score", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--method", "iwae", "--samples", "16");
        assertEquals(0, s.code(), s.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        for (String l : lines) {
            double v = Double.parseDouble(l);
            assertTrue(v > 0 && v < 4 * Math.log(2) * 3, "-log p(x) of 4 binary pixels from an untrained VAE: " + v);
        }
    }
}
