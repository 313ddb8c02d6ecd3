package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.linear.Ppca;

/** PCA and PPCA behind the common use API, checked against the linear package's double-precision forms. */
class LinearModelTest {
    static final int D = 12, Q = 3;

    /** Rows mean + sum_k s_k g_k v_k + 0.1 noise, with random directions v_k and scales 3, 2, 1.5. */
    static Dataset data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] v = new double[Q][D];
        for (double[] row : v) {
            for (int i = 0; i < D; i++) {
                row[i] = r.nextGaussian() / Math.sqrt(D);
            }
        }
        double[] s = {3, 2, 1.5};
        float[] x = new float[n * D];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < D; c++) {
                x[i * D + c] = (float) (c * 0.5 + 0.1 * r.nextGaussian());
            }
            for (int k = 0; k < Q; k++) {
                double g = r.nextGaussian() * s[k];
                for (int c = 0; c < D; c++) {
                    x[i * D + c] += (float) (g * v[k][c]);
                }
            }
        }
        return new Dataset(x, n, D, null, "synthetic");
    }

    static float[][] rows(Dataset d, int n) {
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    @Test
    void pcaModelMatchesPcaAndItsFileGivesTheSameBits(@TempDir Path dir) throws IOException {
        Dataset d = data(500, 1);
        Pca pca = Pca.fit(d, Q, Parallelism.serial());
        LinearModel m = LinearModel.of(pca);
        float[][] x = rows(d, 20);
        float[][] z = m.encode(x), zRef = pca.transform(x, false);
        float[][] r = m.reconstruct(x), rRef = pca.reconstruct(x);
        for (int i = 0; i < x.length; i++) {
            for (int k = 0; k < Q; k++) {
                assertEquals(zRef[i][k], z[i][k], 1e-5 * (1 + Math.abs(zRef[i][k])), "code " + i + "," + k);
            }
            for (int c = 0; c < D; c++) {
                assertEquals(rRef[i][c], r[i][c], 1e-5 * (1 + Math.abs(rRef[i][c])), "reconstruction " + i + "," + c);
            }
        }
        double[] sc = m.score(x), scRef = pca.score(x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(scRef[i], sc[i], 1e-4 * (1 + scRef[i]));
        }
        Path f = dir.resolve("pca.safetensors");
        m.save(f);
        LatentModel back = Models.load(f);
        assertInstanceOf(LinearModel.class, back);
        assertEquals("pca", back.kind());
        assertBitwiseSame(m, back, x);
    }

    @Test
    void ppcaModelMatchesThePosteriorAndTheLikelihoodAndRoundTrips(@TempDir Path dir) throws IOException {
        Dataset d = data(800, 2);
        Ppca ppca = Ppca.closedForm(Pca.fit(d, Q, Parallelism.serial()));
        LinearModel m = LinearModel.of(ppca);
        float[][] x = rows(d, 15);
        float[][] z = m.encode(x);
        double[] nll = m.negativeLogLikelihood(x), nllRef = ppca.score(x);
        float[] lv = m.encodeLogVariance();
        for (int i = 0; i < x.length; i++) {
            Ppca.Posterior p = ppca.posterior(x[i]);
            for (int k = 0; k < Q; k++) {
                assertEquals(p.mean()[k], z[i][k], 1e-5 * (1 + Math.abs(p.mean()[k])), "posterior mean " + i + "," + k);
                if (i == 0) {
                    assertEquals(Math.log(p.covariance()[k][k]), lv[k], 1e-5, "posterior log-variance " + k);
                }
            }
            assertEquals(nllRef[i], nll[i], 1e-5 * (1 + Math.abs(nllRef[i])), "-log p(x) of row " + i);
        }
        Path f = dir.resolve("ppca.safetensors");
        m.save(f);
        LinearModel back = (LinearModel) Models.load(f);
        assertEquals("ppca", back.kind());
        assertEquals(m.noiseVariance(), back.noiseVariance());
        assertBitwiseSame(m, back, x);
        assertArrayEquals(m.negativeLogLikelihood(x), back.negativeLogLikelihood(x));
        assertArrayEquals(m.encodeLogVariance(), back.encodeLogVariance());
    }

    @Test
    void samplesHaveTheModelsCovariance() {
        Dataset d = data(2000, 3);
        Pca pca = Pca.fit(d, Q, Parallelism.serial());
        int n = 6000;
        // PCA: codes of its samples have the component variances; PPCA: samples have W W^T + s2 I,
        // so their total variance is sum(lambda_k) + (D - q) s2 = the data's total variance.
        float[][] zs = LinearModel.of(pca).encode(LinearModel.of(pca).sample(n, 5));
        double[] lambda = pca.explainedVariance();
        for (int k = 0; k < Q; k++) {
            double s = 0;
            for (float[] z : zs) {
                s += z[k] * (double) z[k];
            }
            assertEquals(lambda[k], s / n, 0.08 * lambda[k], "variance of code " + k);
        }
        float[][] xs = LinearModel.of(Ppca.closedForm(pca)).sample(n, 6);
        double total = 0;
        for (int c = 0; c < D; c++) {
            double m = 0, v = 0;
            for (float[] x : xs) {
                m += x[c];
            }
            m /= n;
            for (float[] x : xs) {
                v += (x[c] - m) * (x[c] - m);
            }
            total += v / n;
        }
        assertEquals(pca.totalVariance(), total, 0.05 * pca.totalVariance(), "total variance of PPCA samples");
        assertArrayEquals(LinearModel.of(pca).sample(4, 9)[3], LinearModel.of(pca).sample(4, 9)[3], "same seed, same rows");
    }

    @Test
    void badFilesAndInputsGetClearErrors(@TempDir Path dir) throws IOException {
        LinearModel m = LinearModel.of(Pca.fit(data(100, 4), Q, Parallelism.serial()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.encode(new float[][] {new float[D + 1]}));
        assertTrue(e.getMessage().contains("row 0 has 13 features but the model takes 12"), e.getMessage());
        assertThrows(IllegalStateException.class, m::encodeLogVariance);

        Path f = dir.resolve("bad.safetensors");
        SafeTensors.write(f, Map.of(LinearModel.KIND_KEY, "pca"), List.of(
                new SafeTensors.Entry("encoder.weight", new int[] {Q, D}, new float[Q * D], 0),
                new SafeTensors.Entry("encoder.bias", new int[] {Q}, new float[Q], 0),
                new SafeTensors.Entry("decoder.weight", new int[] {D, Q + 1}, new float[D * (Q + 1)], 0),
                new SafeTensors.Entry("decoder.bias", new int[] {D}, new float[D], 0),
                new SafeTensors.Entry("prior_std", new int[] {Q}, new float[Q], 0)));
        IOException io = assertThrows(IOException.class, () -> Models.load(f));
        assertTrue(io.getMessage().contains("decoder.weight [12, 4]") && io.getMessage().contains(f.toString()), io.getMessage());

        SafeTensors.write(f, Map.of(LinearModel.KIND_KEY, "ica"), List.of(new SafeTensors.Entry("x", new int[] {1}, new float[1], 0)));
        io = assertThrows(IOException.class, () -> Models.load(f));
        assertTrue(io.getMessage().contains("'ica'"), io.getMessage());

        SafeTensors.write(f, Map.of("other", "x"), List.of(new SafeTensors.Entry("x", new int[] {1}, new float[1], 0)));
        io = assertThrows(IOException.class, () -> Models.load(f));
        assertTrue(io.getMessage().contains("is it a latent4j model file"), io.getMessage());
    }

    static void assertBitwiseSame(LatentModel a, LatentModel b, float[][] x) {
        assertEquals(a.inputDim(), b.inputDim());
        assertEquals(a.latentDim(), b.latentDim());
        float[][] za = a.encode(x), zb = b.encode(x);
        float[][] ra = a.reconstruct(x), rb = b.reconstruct(x);
        float[][] sa = a.sample(5, 11), sb = b.sample(5, 11);
        for (int i = 0; i < x.length; i++) {
            assertArrayEquals(za[i], zb[i]);
            assertArrayEquals(ra[i], rb[i]);
        }
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(sa[i], sb[i]);
        }
        assertArrayEquals(a.score(x), b.score(x));
    }
}
