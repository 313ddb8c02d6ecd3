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
import org.latent4j.model.AnomalyDetectorTest;
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

    /** ROC-AUC by its definition: the fraction of (anomaly, normal) pairs the scores order right, ties half. */
    static double pairAuc(double[] s, boolean[] a) {
        double good = 0;
        long pairs = 0;
        for (int i = 0; i < s.length; i++) {
            for (int j = 0; j < s.length; j++) {
                if (a[i] && !a[j]) {
                    pairs++;
                    good += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                }
            }
        }
        return good / pairs;
    }

    static double number(String out, String after) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(after) + " ([0-9.eE+-]+)").matcher(out);
        assertTrue(m.find(), "no '" + after + "' in: " + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void labelledRowsGiveAucsAndTheBestF1Threshold(@TempDir Path dir) throws Exception {
        // Normal rows near a line in 3-D; among 60 held-out rows every third is pushed off it by a varying amount,
        // so that scores of the two kinds overlap a little.
        SplittableRandom r = new SplittableRandom(7);
        StringBuilder normal = new StringBuilder(), mixed = new StringBuilder(), truth = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            double t = r.nextGaussian();
            normal.append(t).append(',').append(2 * t + 0.1 * r.nextGaussian()).append(',').append(-t + 0.1 * r.nextGaussian()).append('\n');
        }
        boolean[] anomalous = new boolean[60];
        for (int i = 0; i < 60; i++) {
            double t = r.nextGaussian();
            anomalous[i] = i % 3 == 0;
            double off = anomalous[i] ? 0.05 + 0.4 * r.nextDouble() : 0.1 * r.nextGaussian();
            mixed.append(t).append(',').append(2 * t + off).append(',').append(-t + 0.1 * r.nextGaussian()).append('\n');
            truth.append(anomalous[i] ? 1 : 0).append('\n');
        }
        Path n = Files.writeString(dir.resolve("normal.csv"), normal), m = Files.writeString(dir.resolve("mixed.csv"), mixed);
        Path t = Files.writeString(dir.resolve("truth.csv"), truth);
        assertEquals(0, MainTest.run("pca", "--data", n.toString(), "-q", "1", "--out", dir.resolve("pca").toString()).code());
        Path model = dir.resolve("pca/model.safetensors"), det = dir.resolve("detector.safetensors"), scores = dir.resolve("s.csv");

        MainTest.Run s = MainTest.run("score", "--model", model.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--truth", t.toString());
        assertEquals(0, s.code(), s.err());
        double[] sc = Files.readAllLines(scores).stream().mapToDouble(Double::parseDouble).toArray();
        double auc = pairAuc(sc, anomalous);
        assertTrue(auc > 0.6 && auc < 1, "the two kinds overlap a little: " + auc);
        assertEquals(auc, number(s.out(), "ROC-AUC"), 1e-4, s.out());
        assertTrue(s.out().contains("(20 anomalies among 60 rows)"), s.out());

        MainTest.Run c = MainTest.run("calibrate", "--model", model.toString(), "--data", m.toString(), "--truth", t.toString(),
                "--rule", "best-f1", "--out", det.toString());
        assertEquals(0, c.code(), c.err());
        // score with the detector (its scores are per feature, its threshold in the same unit): the same AUC, and
        // at its threshold the best F1 any threshold gives
        s = MainTest.run("score", "--model", det.toString(), "--data", m.toString(), "--out", scores.toString(), "--truth", t.toString());
        assertEquals(0, s.code(), s.err());
        double[] ds = Files.readAllLines(scores).stream().mapToDouble(l -> Double.parseDouble(l.split(",")[0])).toArray();
        double threshold = AnomalyDetector.load(det).threshold(), best = AnomalyDetectorTest.f1(ds, anomalous, -1);
        for (double candidate : ds) {
            best = Math.max(best, AnomalyDetectorTest.f1(ds, anomalous, candidate));
        }
        assertTrue(best > 0.5 && best < 1, "an F1 between chance and perfect: " + best);
        assertEquals(best, AnomalyDetectorTest.f1(ds, anomalous, threshold), 1e-9, "no threshold has a better F1 than the calibrated one");
        assertEquals(best, number(c.out(), "F1"), 1e-4, c.out());
        assertEquals(auc, number(s.out(), "ROC-AUC"), 1e-4, s.out());
        assertEquals(best, number(s.out(), "F1"), 1e-4, s.out());

        CliErrorsTest.oneLine(MainTest.run("calibrate", "--model", model.toString(), "--data", m.toString(), "--rule", "best-f1",
                "--out", det.toString()), "--rule best-f1 sets the threshold on labelled rows");
        CliErrorsTest.oneLine(MainTest.run("calibrate", "--model", model.toString(), "--normal", n.toString(), "--truth", t.toString(),
                "--out", det.toString()), "go with --rule best-f1");
        CliErrorsTest.oneLine(MainTest.run("score", "--model", model.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--anomalous-classes", "3"), "has none; give --truth FILE");
        Path two = Files.writeString(dir.resolve("two.csv"), truth.toString().replaceFirst("0", "2"));
        CliErrorsTest.oneLine(MainTest.run("score", "--model", model.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--truth", two.toString()), "row 1: 2 is not 1 (anomalous) or 0 (normal)");
        Path none = Files.writeString(dir.resolve("none.csv"), "0\n".repeat(60));
        CliErrorsTest.oneLine(MainTest.run("score", "--model", model.toString(), "--data", m.toString(), "--out", scores.toString(),
                "--truth", none.toString()), "marks no row");
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
