package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.model.LatentModel.Interpolation;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

/** Latent interpolation against closed forms, and interpolate / denoise on real models. */
class InterpolationTest {
    static float[] gaussian(SplittableRandom r, int d) {
        float[] v = new float[d];
        for (int j = 0; j < d; j++) {
            v[j] = (float) r.nextGaussian();
        }
        return v;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += (double) a[j] * b[j];
        }
        return s;
    }

    static double angle(float[] a, float[] b) {
        return Math.acos(Math.max(-1, Math.min(1, dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b)))));
    }

    @Test
    void endpointsAreExactAndTheLinearPathIsTheWeightedAverage() {
        SplittableRandom r = new SplittableRandom(1);
        for (int trial = 0; trial < 20; trial++) {
            int d = 1 + r.nextInt(40);
            float[] a = gaussian(r, d), b = gaussian(r, d);
            for (Interpolation how : Interpolation.values()) {
                float[][] p = LatentModel.interpolateCodes(a, b, 2 + r.nextInt(10), how);
                assertArrayEquals(a, p[0], how + ": first point is a's code");
                assertArrayEquals(b, p[p.length - 1], how + ": last point is b's code");
            }
            float[][] mid = LatentModel.interpolateCodes(a, b, 3, Interpolation.LINEAR);
            int steps = 7;
            float[][] lin = LatentModel.interpolateCodes(a, b, steps, Interpolation.LINEAR);
            for (int j = 0; j < d; j++) {
                assertEquals((float) (((double) a[j] + b[j]) / 2), mid[1][j], 0f, "midpoint is the average");
                for (int i = 0; i < steps; i++) {
                    double t = i / (steps - 1.0);
                    assertEquals((1 - t) * a[j] + t * b[j], lin[i][j], 1e-6 * (Math.abs(a[j]) + Math.abs(b[j])));
                }
            }
        }
    }

    @Test
    void slerpKeepsTheNormAndStepsTheAngleEvenly() {
        SplittableRandom r = new SplittableRandom(2);
        for (int trial = 0; trial < 20; trial++) {
            int d = 2 + r.nextInt(30);
            float[] a = gaussian(r, d), b = gaussian(r, d);
            // give b the norm of a
            double scale = Math.sqrt(dot(a, a) / dot(b, b));
            for (int j = 0; j < d; j++) {
                b[j] = (float) (b[j] * scale);
            }
            double norm = Math.sqrt(dot(a, a)), omega = angle(a, b);
            int steps = 2 + r.nextInt(12);
            float[][] p = LatentModel.interpolateCodes(a, b, steps, Interpolation.SPHERICAL);
            for (int i = 0; i < steps; i++) {
                assertEquals(norm, Math.sqrt(dot(p[i], p[i])), 1e-5 * norm, "norm of point " + i);
                assertEquals(omega * i / (steps - 1), angle(a, p[i]), 1e-3, "angle from a to point " + i);
                if (i > 0) {
                    assertEquals(omega / (steps - 1), angle(p[i - 1], p[i]), 1e-3, "equal angle steps at " + i);
                }
            }
        }
    }

    @Test
    void slerpOfOrthogonalUnitVectorsAtOneHalfIsTheirSumOverRootTwo() {
        float[] a = {1, 0, 0}, b = {0, 1, 0};
        float[][] p = LatentModel.interpolateCodes(a, b, 3, Interpolation.SPHERICAL);
        float h = (float) (1 / Math.sqrt(2));
        assertArrayEquals(new float[] {h, h, 0}, p[1], 1e-7f);
        // and at t = 1/3: (cos 30 degrees, sin 30 degrees)
        p = LatentModel.interpolateCodes(a, b, 4, Interpolation.SPHERICAL);
        assertArrayEquals(new float[] {(float) Math.cos(Math.PI / 6), 0.5f, 0}, p[1], 1e-7f);
    }

    @Test
    void slerpFallsBackToTheLineForParallelOppositeOrZeroCodes() {
        float[] a = {1, -2, 3};
        float[][] cases = {{2, -4, 6}, {-1, 2, -3}, {0, 0, 0}};
        for (float[] b : cases) {
            assertArrayEquals(LatentModel.interpolateCodes(a, b, 5, Interpolation.LINEAR),
                    LatentModel.interpolateCodes(a, b, 5, Interpolation.SPHERICAL), java.util.Arrays.toString(b));
            assertArrayEquals(LatentModel.interpolateCodes(b, a, 5, Interpolation.LINEAR),
                    LatentModel.interpolateCodes(b, a, 5, Interpolation.SPHERICAL), java.util.Arrays.toString(b));
        }
    }

    @Test
    void badArgumentsAreNamed() {
        float[] a = {1, 2}, b = {3, 4};
        var e = assertThrows(IllegalArgumentException.class, () -> LatentModel.interpolateCodes(a, b, 1, Interpolation.LINEAR));
        assertTrue(e.getMessage().contains("steps must be at least 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LatentModel.interpolateCodes(a, new float[3], 4, Interpolation.LINEAR));
        assertTrue(e.getMessage().contains("same positive length, got 2 and 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LatentModel.interpolateCodes(a, new float[] {1, Float.NaN}, 4, Interpolation.LINEAR));
        assertTrue(e.getMessage().contains("latent dimension 1"), e.getMessage());
        LatentModel pca = pcaModel();
        e = assertThrows(IllegalArgumentException.class, () -> pca.interpolate(new float[5], new float[6], 4, Interpolation.LINEAR));
        assertTrue(e.getMessage().contains("row a has 5 features but the model takes 6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pca.interpolate(new float[6], null, 4, Interpolation.LINEAR));
        assertTrue(e.getMessage().contains("row b has no features"), e.getMessage());
    }

    static float[][] data(int n, int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][d];
        for (int i = 0; i < n; i++) {
            double t = r.nextGaussian(), u = r.nextGaussian();
            for (int j = 0; j < d; j++) {
                x[i][j] = (float) (Math.sin(j + 1) * t + Math.cos(2 * j) * u + 0.05 * r.nextGaussian());
            }
        }
        return x;
    }

    static LatentModel pcaModel() {
        float[][] x = data(200, 6, 3);
        float[] flat = new float[200 * 6];
        for (int i = 0; i < 200; i++) {
            System.arraycopy(x[i], 0, flat, i * 6, 6);
        }
        return LinearModel.of(Pca.fit(new Dataset(flat, 200, 6, null, "test"), 2, Parallelism.serial()));
    }

    @Test
    void aLinearModelInterpolatesBetweenTheReconstructions() {
        LatentModel pca = pcaModel();
        float[][] x = data(2, 6, 9);
        float[][] rec = pca.reconstruct(x);
        for (Interpolation how : Interpolation.values()) {
            float[][] path = pca.interpolate(x[0], x[1], 5, how);
            assertEquals(5, path.length);
            assertArrayEquals(rec[0], path[0], how + ": starts at a's reconstruction");
            assertArrayEquals(rec[1], path[4], how + ": ends at b's reconstruction");
        }
        // The decoder is affine: the linear path's midpoint decodes to the average reconstruction.
        float[] mid = pca.interpolate(x[0], x[1], 3, Interpolation.LINEAR)[1];
        for (int j = 0; j < 6; j++) {
            assertEquals((rec[0][j] + (double) rec[1][j]) / 2, mid[j], 1e-5);
        }
    }

    @Test
    void denoiseIsTheReconstructionForEveryKind() {
        float[][] x = data(256, 8, 5);
        float[] flat = new float[256 * 8];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, flat, i * 8, 8);
        }
        Dataset ds = new Dataset(flat, 256, 8, null, "test");
        ModelSpec ae = Model.encoder(8).dense(6).tanh().latent(2).decoder().dense(6).tanh().dense(8).gaussian();
        ModelSpec vae = Model.encoder(8).dense(6).tanh().gaussianLatent(2).decoder().dense(6).tanh().dense(8).gaussian();
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(2).withBatchSize(32).withThreads(1);
        LatentModel[] models = {
            Trainer.fit(ae, ds, null, cfg, TrainingListener.NONE).model(),
            Trainer.fit(vae, ds, null, cfg, TrainingListener.NONE).model(),
            LinearModel.of(Pca.fit(ds, 2, Parallelism.serial()))};
        float[][] noisy = new float[20][];
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < noisy.length; i++) {
            noisy[i] = x[i].clone();
            for (int j = 0; j < 8; j++) {
                noisy[i][j] += (float) (0.3 * r.nextGaussian());
            }
        }
        for (LatentModel m : models) {
            assertArrayEquals(m.reconstruct(noisy), m.denoise(noisy), m.kind());
            assertArrayEquals(m.denoise(noisy), m.denoise(noisy), m.kind() + ": no random draw");
            // a row of a pair decodes as it does alone: the ends of a path are the reconstructions
            float[][] path = m.interpolate(noisy[0], noisy[1], 4, Interpolation.SPHERICAL);
            assertArrayEquals(m.reconstruct(new float[][] {noisy[0]})[0], path[0], 1e-6f, m.kind());
            assertArrayEquals(m.reconstruct(new float[][] {noisy[1]})[0], path[3], 1e-6f, m.kind());
        }
    }
}
