package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.AnomalyDetector.Rule;
import org.latent4j.model.AnomalyDetector.Score;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

public class AnomalyDetectorTest {
    static final int HELD_OUT = 8;   // bags
    static Autoencoder vae;
    static float[][] test;
    static boolean[] anomalous;

    /** A VAE trained on the bundled slice without the held-out class. */
    @BeforeAll
    static void train() {
        Dataset all = FashionMnist.bundledTrain();
        int keep = 0;
        for (int l : all.labels()) {
            keep += l == HELD_OUT ? 0 : 1;
        }
        float[] x = new float[keep * 784];
        for (int r = 0, k = 0; r < all.rows(); r++) {
            if (all.labels()[r] != HELD_OUT) {
                System.arraycopy(all.x(), r * 784, x, k++ * 784, 784);
            }
        }
        ModelSpec spec = Model.encoder().dense(256).relu().gaussianLatent(16).decoder().dense(256).relu().dense(784).bernoulli();
        vae = Trainer.fit(spec, new Dataset(x, keep, 784, null, "without bags"), null,
                TrainingConfig.defaults().withEpochs(5).withBatchSize(64).withThreads(2), TrainingListener.NONE).model();
        Dataset t = FashionMnist.bundledTest();
        test = new float[t.rows()][];
        anomalous = new boolean[t.rows()];
        for (int i = 0; i < t.rows(); i++) {
            test[i] = t.row(i);
            anomalous[i] = t.labels()[i] == HELD_OUT;
        }
    }

    @Test
    void aHeldOutClassScoresHigherWithRocAucAboveEightTenths() {
        double[] s = AnomalyDetector.of(vae, Score.MSE, 1, 1).score(test);
        double auc = Metrics.rocAuc(s, anomalous);
        System.out.println("held-out class " + HELD_OUT + ": MSE ROC-AUC " + auc + ", PR-AUC " + Metrics.averagePrecision(s, anomalous));
        assertTrue(auc > 0.8, "ROC-AUC " + auc);
    }

    @Test
    void importanceWeightingIsNeverLooserThanTheElboAndTightensWithK() {
        float[][] x = java.util.Arrays.copyOf(test, 200);
        double elbo = AnomalyDetector.mean(AnomalyDetector.of(vae, Score.NEG_ELBO, 50, 3).score(x));
        double k1 = AnomalyDetector.mean(AnomalyDetector.of(vae, Score.IMPORTANCE_WEIGHTED, 1, 3).score(x));
        double k10 = AnomalyDetector.mean(AnomalyDetector.of(vae, Score.IMPORTANCE_WEIGHTED, 10, 3).score(x));
        double k100 = AnomalyDetector.mean(AnomalyDetector.of(vae, Score.IMPORTANCE_WEIGHTED, 100, 3).score(x));
        System.out.println("-ELBO " + elbo + ", -log p(x) estimates K=1 " + k1 + ", K=10 " + k10 + ", K=100 " + k100);
        assertTrue(k100 <= elbo, "-IWAE_100 " + k100 + " vs -ELBO " + elbo);
        assertTrue(k100 < k10 && k10 < k1, k1 + " > " + k10 + " > " + k100);
        // A row's score depends on the row alone, not on the batch around it.
        double[] one = AnomalyDetector.of(vae, Score.IMPORTANCE_WEIGHTED, 10, 3).score(new float[][] {x[7]});
        assertEquals(AnomalyDetector.of(vae, Score.IMPORTANCE_WEIGHTED, 10, 3).score(x)[7], one[0], 0.0);
    }

    @Test
    void contributionsAddUpToTheScore() {
        float[][] x = java.util.Arrays.copyOf(test, 20);
        for (Score s : new Score[] {Score.MSE, Score.MAE, Score.NEG_LOG_LIKELIHOOD}) {
            AnomalyDetector d = AnomalyDetector.of(vae, s, 3, 1);
            double[] score = d.score(x);
            double[][] parts = d.contributions(x);
            for (int r = 0; r < x.length; r++) {
                double sum = 0;
                for (double p : parts[r]) {
                    sum += p;
                }
                assertEquals(score[r], sum, 1e-9 * Math.abs(score[r]), s + " row " + r);
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> AnomalyDetector.of(
                LinearModel.of(org.latent4j.linear.Pca.fit(FashionMnist.bundledTrain().head(300), 4, org.latent4j.kernel.Parallelism.serial())),
                Score.NEG_ELBO, 1, 1));
        assertTrue(e.getMessage().contains("needs a VAE"), e.getMessage());
    }

    @Test
    void rocAndPrAucMatchBruteForce() {
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 20; trial++) {
            int n = 5 + r.nextInt(60);
            double[] s = new double[n];
            boolean[] a = new boolean[n];
            for (int i = 0; i < n; i++) {
                s[i] = r.nextInt(12);   // many ties
                a[i] = r.nextDouble() < 0.3;
            }
            a[0] = true;
            a[1] = false;
            double pairs = 0, wins = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (a[i] && !a[j]) {
                        pairs++;
                        wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                    }
                }
            }
            assertEquals(wins / pairs, Metrics.rocAuc(s, a), 1e-12);
            // Average precision: for each anomaly, precision among rows scoring at least as high.
            double ap = 0;
            int pos = 0;
            for (int i = 0; i < n; i++) {
                if (a[i]) {
                    pos++;
                    int tp = 0, all = 0;
                    for (int j = 0; j < n; j++) {
                        if (s[j] >= s[i]) {
                            all++;
                            tp += a[j] ? 1 : 0;
                        }
                    }
                    ap += (double) tp / all;
                }
            }
            assertEquals(ap / pos, Metrics.averagePrecision(s, a), 1e-12);
        }
        assertEquals(1.0, Metrics.rocAuc(new double[] {1, 2, 3, 4}, new boolean[] {false, false, true, true}));
        assertEquals(1.0, Metrics.averagePrecision(new double[] {1, 2, 3, 4}, new boolean[] {false, false, true, true}));
    }

    @Test
    void thresholdRulesAndBestF1() {
        double[] normal = new double[101];
        for (int i = 0; i <= 100; i++) {
            normal[i] = i;   // percentile p is p itself
        }
        assertEquals(95.0, AnomalyDetector.threshold(normal, Rule.PERCENTILE, 95), 1e-12);
        assertEquals(100.0, AnomalyDetector.threshold(normal, Rule.MAX, 0));
        assertEquals(90.0, AnomalyDetector.threshold(normal, Rule.CONTAMINATION, 0.1), 1e-12);
        assertEquals(75 + 1.5 * 50, AnomalyDetector.threshold(normal, Rule.IQR, 1.5), 1e-12);
        assertEquals(50 + 3 * 1.4826 * 25, AnomalyDetector.threshold(normal, Rule.MAD, 3), 1e-9);
        SplittableRandom r = new SplittableRandom(9);
        double[] s = new double[80];
        boolean[] a = new boolean[80];
        for (int i = 0; i < s.length; i++) {
            a[i] = r.nextDouble() < 0.25;
            s[i] = r.nextGaussian() + (a[i] ? 1.5 : 0);
        }
        double t = AnomalyDetector.bestF1Threshold(s, a), best = 0, got = f1(s, a, t);
        for (double cand : s) {
            best = Math.max(best, f1(s, a, Math.nextDown(cand)));
        }
        assertEquals(best, got, 1e-12, "no threshold does better");
        // Calibration on the normal test rows flags about the chosen share of them.
        int normals = 0;
        for (boolean b : anomalous) {
            normals += b ? 0 : 1;
        }
        float[][] normalRows = new float[normals][];
        for (int i = 0, k = 0; i < test.length; i++) {
            if (!anomalous[i]) {
                normalRows[k++] = test[i];
            }
        }
        AnomalyDetector d = AnomalyDetector.of(vae, Score.MSE, 1, 1).calibrate(normalRows, Rule.CONTAMINATION, 0.05);
        int flagged = 0;
        for (boolean v : d.isAnomalous(normalRows)) {
            flagged += v ? 1 : 0;
        }
        assertEquals(0.05, (double) flagged / normals, 0.01);
    }

    /** F1 of flagging the rows scoring above t (0 when nothing is found). */
    public static double f1(double[] s, boolean[] a, double t) {
        int tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < s.length; i++) {
            boolean flag = s[i] > t;
            tp += flag && a[i] ? 1 : 0;
            fp += flag && !a[i] ? 1 : 0;
            fn += !flag && a[i] ? 1 : 0;
        }
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    @Test
    void theDetectorSavesWithItsModelAndThreshold(@TempDir Path dir) throws IOException {
        AnomalyDetector d = AnomalyDetector.of(vae, Score.IMPORTANCE_WEIGHTED, 8, 11).withThreshold(123.5);
        Path f = dir.resolve("detector.safetensors");
        d.save(f);
        AnomalyDetector back = AnomalyDetector.load(f);
        assertEquals(123.5, back.threshold());
        assertEquals(Score.IMPORTANCE_WEIGHTED, back.scoreKind());
        float[][] x = java.util.Arrays.copyOf(test, 10);
        assertArrayEquals(d.score(x), back.score(x));
        Path plain = dir.resolve("plain.safetensors");
        vae.save(plain);
        var e = assertThrows(IOException.class, () -> AnomalyDetector.load(plain));
        assertTrue(e.getMessage().contains("without a detector"), e.getMessage());
        assertTrue(Models.load(f) instanceof Autoencoder, "a detector file is also a model file");
    }
}
