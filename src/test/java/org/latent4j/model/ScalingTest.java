package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;

/** The anomaly detector's input scaling: its closed forms, its use in every score, and its place in the model file. */
class ScalingTest {
    /** Rows whose features live on very different scales (and one constant feature). */
    static float[][] rows(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][5];
        for (int i = 0; i < n; i++) {
            double t = r.nextGaussian();
            x[i][0] = (float) (1000 * t + 5000 + 30 * r.nextGaussian());
            x[i][1] = (float) (0.01 * t + 0.001 * r.nextGaussian());
            x[i][2] = (float) (-t + 0.1 * r.nextGaussian());
            x[i][3] = 7f;
            x[i][4] = (float) r.nextGaussian();
        }
        return x;
    }

    static Dataset dataset(float[][] x) {
        float[] flat = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, flat, i * x[0].length, x[0].length);
        }
        return new Dataset(flat, x.length, x[0].length, null, "test rows");
    }

    @Test
    void minMaxAndStandardizationFollowTheirDefinitions() {
        float[][] x = rows(300, 1);
        float[][] mm = Scaling.minMax(x).apply(x), st = Scaling.standardize(x).apply(x);
        for (int j = 0; j < 5; j++) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, mean = 0, var = 0;
            for (float[] r : mm) {
                lo = Math.min(lo, r[j]);
                hi = Math.max(hi, r[j]);
            }
            for (float[] r : st) {
                mean += r[j] / 300.0;
            }
            for (float[] r : st) {
                var += (r[j] - mean) * (r[j] - mean) / 300.0;
            }
            assertEquals(0, lo, 0.0, "feature " + j + ": the smallest value maps to 0");
            assertEquals(0, mean, 1e-5, "feature " + j + " centered");
            if (j == 3) {
                assertEquals(0, hi, 0.0, "a constant feature maps to 0 (scale 1)");
                assertEquals(0, var, 0.0);
            } else {
                assertEquals(1, hi, 1e-6, "feature " + j + ": the largest value maps to 1");
                assertEquals(1, var, 1e-5, "feature " + j + ": unit variance");
            }
        }
        assertSame(x, Scaling.none().apply(x), "none leaves the rows alone");
        var e = assertThrows(IllegalArgumentException.class, () -> Scaling.of(new float[] {1, 2}, new float[] {1, 0}));
        assertTrue(e.getMessage().contains("the scale of feature 1 is 0.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Scaling.minMax(new float[][] {{1, 2}, {3, Float.NaN}}));
        assertTrue(e.getMessage().contains("row 1, feature 1 is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Scaling.standardize(x).apply(new float[][] {{1, 2}}));
        assertTrue(e.getMessage().contains("input row 0 has 2 features but the scaling takes 5"), e.getMessage());
    }

    @Test
    void theDetectorScalesEveryRowBeforeTheModel() {
        float[][] x = rows(400, 2);
        Scaling s = Scaling.standardize(x);
        float[][] scaled = s.apply(x);
        LatentModel pca = LinearModel.of(Pca.fit(dataset(scaled), 1, Parallelism.serial()));
        AnomalyDetector d = AnomalyDetector.of(pca, AnomalyDetector.Score.MSE, 1, 1).withScaling(s);
        float[][] test = rows(20, 3);
        test[5][2] += 3;   // off the line the others follow
        double[] got = d.score(test);
        float[][] st = s.apply(test), rec = pca.reconstruct(st);
        for (int i = 0; i < test.length; i++) {
            double mse = 0;
            for (int j = 0; j < 5; j++) {
                double e = (test[i][j] - (double) s.offset()[j]) / s.scale()[j] - rec[i][j];
                mse += e * e / 5;
            }
            assertEquals(mse, got[i], 1e-5 * mse + 1e-9, "row " + i + ": the MSE of the scaled row");
        }
        int worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = got[i] > got[worst] ? i : worst;
        }
        assertEquals(5, worst, "the row off the line scores highest once features are comparable");
        assertArrayEquals(AnomalyDetector.of(pca, AnomalyDetector.Score.MSE, 1, 1).contributions(st), d.contributions(test));
        assertTrue(Double.isNaN(AnomalyDetector.of(pca, AnomalyDetector.Score.MSE, 1, 1).withThreshold(1).withScaling(s).threshold()),
                "a new scaling drops the old threshold");
        var e = assertThrows(IllegalArgumentException.class, () -> AnomalyDetector.of(pca, AnomalyDetector.Score.MSE, 1, 1)
                .withScaling(Scaling.of(new float[3], new float[] {1, 1, 1})));
        assertTrue(e.getMessage().contains("the scaling has 3 features but the model takes 5"), e.getMessage());
    }

    @Test
    void theScalingSavesInTheModelFileAndLoadsBackBitwise(@TempDir Path dir) throws IOException {
        float[][] x = rows(400, 4);
        for (Scaling s : new Scaling[] {Scaling.minMax(x), Scaling.standardize(x), Scaling.none()}) {
            LatentModel pca = LinearModel.of(Pca.fit(dataset(s.apply(x)), 2, Parallelism.serial()));
            AnomalyDetector d = AnomalyDetector.of(pca, AnomalyDetector.Score.MAE, 1, 1).withScaling(s)
                    .calibrate(x, AnomalyDetector.Rule.PERCENTILE, 95);
            Path f = dir.resolve(s.kind() + ".safetensors");
            d.save(f);
            AnomalyDetector back = AnomalyDetector.load(f);
            assertEquals(s.kind(), back.scaling().kind());
            assertArrayEquals(s.offset(), back.scaling().offset());
            assertArrayEquals(s.scale(), back.scaling().scale());
            assertEquals(d.threshold(), back.threshold());
            float[][] test = rows(30, 5);
            assertArrayEquals(d.score(test), back.score(test), s.kind() + ": bitwise the same scores");
        }
    }

    @Test
    void aDamagedScalingEntryNamesTheFileAndTheKey(@TempDir Path dir) throws IOException {
        float[][] x = rows(100, 6);
        LatentModel pca = LinearModel.of(Pca.fit(dataset(x), 2, Parallelism.serial()));
        String five = "0.5,1,2,3,4";
        String[][] cases = {   // kind, offset, scale, what the message must say
            {"minmax", five, "1,1,0,1,1", Scaling.SCALE_KEY + ", entry 2 is 0.0"},
            {"minmax", five, "1,1,1,Infinity,1", Scaling.SCALE_KEY + ", entry 3 is Infinity"},
            {"standard", "0.5,NaN,2,3,4", five, Scaling.OFFSET_KEY + ", entry 1 is NaN"},
            {"standard", five, "1,1,1,1", Scaling.SCALE_KEY + " has 4 entries but the model takes 5 features"},
            {"standard", five, "1,1,one,1,1", Scaling.SCALE_KEY + ", entry 2 is 'one', not a number"},
            {"zscore", five, five, Scaling.KIND_KEY + " is 'zscore'"},
            {"minmax", five, null, "some are missing"},
        };
        for (String[] c : cases) {
            Map<String, String> md = new LinkedHashMap<>();
            md.put(AnomalyDetector.SCORE_KEY, "MSE");
            md.put(Scaling.KIND_KEY, c[0]);
            md.put(Scaling.OFFSET_KEY, c[1]);
            if (c[2] != null) {
                md.put(Scaling.SCALE_KEY, c[2]);
            }
            Path f = dir.resolve("damaged.safetensors");
            pca.save(f, md);
            var e = assertThrows(IOException.class, () -> AnomalyDetector.load(f));
            assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains(c[3]), e.getMessage());
        }
    }
}
