package org.latent4j.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.kernel.Parallelism;

/**
 * PCA and PPCA against closed forms on data built to have an exactly known sample covariance
 * U diag(lambda) U^T (1/N normalization): centered orthonormal columns scaled by sqrt(N lambda).
 */
class PcaPpcaTest {
    static final double[] LAMBDA = {10, 8, 6, 5, 4, 3, 2, 1.5, 1, 0.7, 0.5, 0.3};
    static final int D = LAMBDA.length;

    /** Gram-Schmidt on the columns of a (rows x cols), in place; returns a. */
    static double[][] orthonormalColumns(double[][] a) {
        return Subspaces.orthonormalizeColumns(a, true);
    }

    record Synthetic(Dataset data, double[][] u, double[] mean) {}

    static Synthetic synthetic(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] g = new double[n][D];
        for (int j = 0; j < D; j++) {
            double m = 0;
            for (int i = 0; i < n; i++) {
                g[i][j] = r.nextGaussian();
                m += g[i][j];
            }
            for (int i = 0; i < n; i++) {
                g[i][j] -= m / n;     // centered columns stay centered through Gram-Schmidt
            }
        }
        double[][] q = orthonormalColumns(g);
        double[][] u = new double[D][D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                u[i][j] = r.nextGaussian();
            }
        }
        orthonormalColumns(u);
        double[] mean = new double[D];
        for (int j = 0; j < D; j++) {
            mean[j] = r.nextDouble() * 4 - 2;
        }
        float[] x = new float[n * D];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < D; c++) {
                double s = mean[c];
                for (int k = 0; k < D; k++) {
                    s += Math.sqrt(n * LAMBDA[k]) * q[i][k] * u[c][k];
                }
                x[i * D + c] = (float) s;
            }
        }
        return new Synthetic(new Dataset(x, n, D, null, "synthetic"), u, mean);
    }

    @Test
    void pcaRecoversEigenvaluesEigenvectorsAndTheOptimalLoss() {
        Synthetic s = synthetic(600, 1);
        int q = 4;
        Pca pca = Pca.fit(s.data(), q, Parallelism.serial());
        double[] ev = pca.explainedVariance();
        for (int k = 0; k < q; k++) {
            assertEquals(LAMBDA[k], ev[k], 1e-4 * LAMBDA[k], "eigenvalue " + k);
            double dot = 0;
            double[] c = pca.component(k);
            for (int i = 0; i < D; i++) {
                dot += c[i] * s.u()[i][k];
            }
            assertEquals(1.0, Math.abs(dot), 1e-4, "eigenvector " + k + " up to sign");
        }
        double total = 0, discarded = 0;
        for (int k = 0; k < D; k++) {
            total += LAMBDA[k];
            discarded += k >= q ? LAMBDA[k] : 0;
        }
        assertEquals(LAMBDA[0] / total, pca.explainedVarianceRatio()[0], 1e-5);
        // Reconstruction loss (squared error summed over features, mean over rows) = sum of discarded eigenvalues.
        float[][] rows = new float[s.data().rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = s.data().row(i);
        }
        float[][] rec = pca.reconstruct(rows);
        double loss = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < D; c++) {
                double e = rows[i][c] - rec[i][c];
                loss += e * e;
            }
        }
        loss /= rows.length;
        assertEquals(discarded, loss, 1e-4 * discarded);
        // Whitened coordinates have unit variance.
        float[][] z = pca.transform(rows, true);
        double v0 = 0;
        for (float[] zr : z) {
            v0 += zr[0] * zr[0];
        }
        assertEquals(1.0, v0 / z.length, 1e-4);
        float[][] back = pca.inverseTransform(z, true);
        assertEquals(rec[5][3], back[5][3], 1e-4);
    }

    @Test
    void ppcaClosedFormAndEmAgree() {
        Synthetic s = synthetic(400, 2);
        int q = 3;
        Pca pca = Pca.fit(s.data(), q, Parallelism.serial());
        Ppca closed = Ppca.closedForm(pca);
        double discardedMean = 0;
        for (int k = q; k < D; k++) {
            discardedMean += LAMBDA[k];
        }
        discardedMean /= D - q;
        assertEquals(discardedMean, closed.noiseVariance(), 1e-4 * discardedMean);
        double llClosed = closed.logLikelihood(s.data());
        double expect = -0.5 * (D * Math.log(2 * Math.PI) + D + (D - q) * Math.log(discardedMean)
                + Math.log(LAMBDA[0]) + Math.log(LAMBDA[1]) + Math.log(LAMBDA[2]));
        assertEquals(expect, llClosed, 1e-4 * Math.abs(expect), "closed-form log-likelihood from the eigenvalues");
        Ppca.EmResult em = Ppca.fitEm(s.data(), q, 1e-9, 5000, 9);
        assertTrue(em.converged(), "EM converged in " + em.iterations() + " iterations");
        assertEquals(llClosed, em.logLikelihood(), 1e-4 * Math.abs(llClosed), "EM reaches the maximum likelihood");
        assertEquals(closed.noiseVariance(), em.model().noiseVariance(), 1e-3 * closed.noiseVariance());
    }

    @Test
    void scoresAreReconstructionErrorsAndNegativeLogLikelihoods() {
        Synthetic s = synthetic(300, 8);
        int q = 3;
        Pca pca = Pca.fit(s.data(), q, Parallelism.serial());
        Ppca ppca = Ppca.closedForm(pca);
        float[][] rows = new float[s.data().rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = s.data().row(i);
        }
        double[] pcaScore = pca.score(rows), ppcaScore = ppca.score(rows);
        double meanRecon = 0, meanNll = 0;
        for (int i = 0; i < rows.length; i++) {
            meanRecon += pcaScore[i] / rows.length;
            meanNll += ppcaScore[i] / rows.length;
        }
        assertEquals(pca.discardedMeanVariance() * (D - q), meanRecon, 1e-4 * meanRecon, "mean PCA score = optimal loss");
        assertEquals(-ppca.logLikelihood(s.data()), meanNll, 1e-8 * Math.abs(meanNll), "mean PPCA score = -log-likelihood");
        // A point far off the principal subspace scores higher than the data.
        float[] far = rows[0].clone();
        double[] last = new double[D];
        for (int i = 0; i < D; i++) {
            last[i] = s.u()[i][D - 1];   // the least-variance direction
            far[i] += (float) (20 * last[i]);
        }
        double[] farScores = ppca.score(new float[][] {far});
        double max = 0;
        for (double v : ppcaScore) {
            max = Math.max(max, v);
        }
        assertTrue(farScores[0] > max, "outlier " + farScores[0] + " vs largest inlier " + max);
    }

    @Test
    void posteriorMatchesBruteForceBayes() {
        // D = 3, q = 1: p(z | x) by quadrature on a fine grid.
        Synthetic s = synthetic(200, 3);
        float[] x3 = new float[200 * 3];
        for (int i = 0; i < 200; i++) {
            for (int c = 0; c < 3; c++) {
                x3[i * 3 + c] = s.data().x()[i * D + c];
            }
        }
        Ppca p = Ppca.closedForm(Pca.fit(new Dataset(x3, 200, 3, null, "x3"), 1, Parallelism.serial()));
        float[] x = {0.7f, -1.2f, 2.5f};
        double[][] w = p.loadings();
        double s2 = p.noiseVariance();
        float[] mu = p.decode(new double[] {0});
        double z0 = 0, z1 = 0, z2 = 0;
        for (int i = -200000; i <= 200000; i++) {
            double z = i * 1e-4;
            double e = -0.5 * z * z;
            for (int c = 0; c < 3; c++) {
                double r = x[c] - w[c][0] * z - mu[c];
                e -= r * r / (2 * s2);
            }
            double pz = Math.exp(e);
            z0 += pz;
            z1 += pz * z;
            z2 += pz * z * z;
        }
        double mean = z1 / z0, var = z2 / z0 - mean * mean;
        Ppca.Posterior post = p.posterior(x);
        assertEquals(mean, post.mean()[0], 1e-6);
        assertEquals(var, post.covariance()[0][0], 1e-6);
    }

    @Test
    void subspaceIterationFindsTheTopOfAManyFeatureSpectrum() {
        // 200 features, 8 components: the subspace route; compared with the full decomposition.
        int d = 200, n = 1000;
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                x[i * d + c] = (float) (r.nextGaussian() * 3.0 / (1 + c * 0.1) + (c % 7 == 0 ? 2 * r.nextGaussian() : 0));
            }
        }
        Dataset data = new Dataset(x, n, d, null, "wide");
        Pca fast = Pca.fit(data, 8, Parallelism.serial());
        double[][] cov = new double[d][d];
        double[] m = new double[d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                m[c] += x[i * d + c] / (double) n;
            }
        }
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < d; b++) {
                    cov[a][b] += (x[i * d + a] - m[a]) * (x[i * d + b] - m[b]) / n;
                }
            }
        }
        SymmetricEigen full = SymmetricEigen.of(cov);
        for (int k = 0; k < 8; k++) {
            assertEquals(full.values[k], fast.explainedVariance()[k], 1e-5 * full.values[k], "eigenvalue " + k);
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += full.vectors[i][k] * fast.component(k)[i];
            }
            assertEquals(1.0, Math.abs(dot), 1e-4, "eigenvector " + k);
        }
    }

    @Test
    void badInputsGetClearErrorsOrDocumentedResults() {
        Synthetic s = synthetic(50, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> Pca.fit(s.data(), D + 1, Parallelism.serial()));
        assertTrue(e.getMessage().contains("13 components asked for data with 12 features"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ppca.closedForm(Pca.fit(s.data(), D, Parallelism.serial())));
        assertTrue(e.getMessage().contains("fewer components than features"), e.getMessage());
        float[] bad = s.data().x().clone();
        bad[3 * D + 5] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> Pca.fit(new Dataset(bad, 50, D, null, "bad.csv"), 2, Parallelism.serial()));
        assertTrue(e.getMessage().contains("bad.csv: row 3, column 5 is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ppca.fitEm(new Dataset(bad, 50, D, null, "bad.csv"), 2, 1e-6, 10, 1));
        assertTrue(e.getMessage().contains("row 3, column 5"), e.getMessage());
        // Rank-deficient: 3 rows in 12 dimensions have rank 2 after centering.
        Dataset few = new Dataset(java.util.Arrays.copyOf(s.data().x(), 3 * D), 3, D, null, "few");
        Pca p = Pca.fit(few, 4, Parallelism.serial());
        assertEquals(0.0, p.explainedVariance()[3], 1e-9, "the missing directions have zero variance");
        e = assertThrows(IllegalArgumentException.class, () -> Ppca.closedForm(p));
        assertTrue(e.getMessage().contains("rank <= 4"), e.getMessage());
        // Constant columns: documented as zero-variance directions, not an error.
        float[] flat = s.data().x().clone();
        for (int i = 0; i < 50; i++) {
            flat[i * D] = 3f;
        }
        Pca pf = Pca.fit(new Dataset(flat, 50, D, null, "flat"), 2, Parallelism.serial());
        assertEquals(pf.totalVariance() - pf.explainedVariance()[0] - pf.explainedVariance()[1], pf.discardedMeanVariance() * (D - 2), 1e-6);
    }

    @Test
    void moreFeaturesThanRowsTakesTheGramRouteAndMatchesTheCovarianceInDouble() {
        // 40 rows of 300 features (rank 39 after centering): the N x N route. Reference: the
        // D x D covariance built in double and decomposed by the full solver.
        int n = 40, d = 300;
        SplittableRandom r = new SplittableRandom(77);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                x[i * d + c] = (float) (r.nextGaussian() * (1 + 3 * Math.exp(-c / 20.0)) + c * 0.01);
            }
        }
        Dataset data = new Dataset(x, n, d, null, "wide");
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                mean[c] += x[i * d + c] / (double) n;
            }
        }
        double[][] cov = new double[d][d];
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) {
                double va = x[i * d + a] - mean[a];
                for (int b = 0; b < d; b++) {
                    cov[a][b] += va * (x[i * d + b] - mean[b]) / n;
                }
            }
        }
        SymmetricEigen ref = SymmetricEigen.of(cov);
        int q = 45;   // more than the rank: components 39.. have no variance
        Pca pca = Pca.fit(data, q, Parallelism.of(2));
        double[] var = pca.explainedVariance();
        for (int k = 0; k < 10; k++) {
            assertEquals(ref.values[k], var[k], 1e-4 * ref.values[k], "eigenvalue " + k);
            double dot = 0;
            double[] u = pca.component(k);
            for (int i = 0; i < d; i++) {
                dot += u[i] * ref.vectors[i][k];
            }
            assertEquals(1.0, Math.abs(dot), 1e-4, "component " + k + " against the reference eigenvector");
        }
        for (int k = n - 1; k < q; k++) {
            assertEquals(0.0, var[k], "component " + k + " is beyond the rank of the centered data");
        }
        for (int a = 0; a < q; a++) {          // all q components orthonormal, the made-up ones too
            for (int b = 0; b <= a; b++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += pca.component(a)[i] * pca.component(b)[i];
                }
                assertEquals(a == b ? 1.0 : 0.0, dot, 1e-6, "components " + a + " and " + b);
            }
        }
        double total = 0;
        for (int c = 0; c < d; c++) {
            total += cov[c][c];
        }
        assertEquals(total, pca.totalVariance(), 1e-5 * total);
    }
}
