package org.latent4j.linear;

import org.latent4j.data.Dataset;
import org.latent4j.kernel.Philox;

/**
 * Probabilistic PCA (Tipping and Bishop): z ~ N(0, I_q), x | z ~ N(W z + mu, sigma^2 I_D).
 * Fitted in closed form from a {@link Pca} (mu = mean, sigma^2 = mean of the discarded
 * eigenvalues, W = U_q (Lambda_q - sigma^2 I)^1/2) or by EM on the data, which never forms a
 * D x D matrix: each step costs O(N D q) and inverts only q x q matrices. All in double.
 */
public final class Ppca {
    private final double[] mean;   // D
    private final double[][] w;    // D x q
    private final double sigma2;

    private Ppca(double[] mean, double[][] w, double sigma2) {
        this.mean = mean;
        this.w = w;
        this.sigma2 = sigma2;
    }

    public int features() {
        return mean.length;
    }

    public int components() {
        return w[0].length;
    }

    /** mu: the data's column means. */
    public double[] mean() {
        return mean.clone();
    }

    public double noiseVariance() {
        return sigma2;
    }

    /** W as D rows of q. */
    public double[][] loadings() {
        double[][] c = new double[w.length][];
        for (int i = 0; i < w.length; i++) {
            c[i] = w[i].clone();
        }
        return c;
    }

    /** The maximum-likelihood PPCA of the data PCA was fitted to. */
    public static Ppca closedForm(Pca pca) {
        int d = pca.features(), q = pca.components();
        if (q >= d) {
            throw new IllegalArgumentException("PPCA needs fewer components than features (" + q + " >= " + d + "): nothing is left for the noise");
        }
        double s2 = pca.discardedMeanVariance();
        if (!(s2 > 0)) {
            throw new IllegalArgumentException("PPCA: the discarded eigenvalues are all zero (the data has rank <= " + q
                    + "), so the noise variance would be 0; use fewer components");
        }
        double[] lambda = pca.explainedVariance();
        double[][] w = new double[d][q];
        for (int k = 0; k < q; k++) {
            double[] u = pca.component(k);
            double scale = Math.sqrt(Math.max(0, lambda[k] - s2));
            for (int i = 0; i < d; i++) {
                w[i][k] = u[i] * scale;
            }
        }
        float[] m = pca.mean();
        double[] mean = new double[d];
        for (int i = 0; i < d; i++) {
            mean[i] = m[i];
        }
        return new Ppca(mean, w, s2);
    }

    /** Result of EM: the model, the iterations run, and whether the tolerance was met. */
    public record EmResult(Ppca model, int iterations, boolean converged, double logLikelihood) {}

    /**
     * EM from a random start (seeded): stops when the mean log-likelihood per sample changes by
     * less than {@code tolerance} (relative) or after {@code maxIterations}.
     */
    public static EmResult fitEm(Dataset data, int q, double tolerance, int maxIterations, long seed) {
        return fitEm(data, q, tolerance, maxIterations, seed, org.latent4j.kernel.Parallelism.serial());
    }

    /** EM with the GEMMs on the given threads. */
    public static EmResult fitEm(Dataset data, int q, double tolerance, int maxIterations, long seed,
                                 org.latent4j.kernel.Parallelism parallelism) {
        int n = data.rows(), d = data.features();
        if (q <= 0 || q >= d) {
            throw new IllegalArgumentException("PPCA: " + q + " components for " + d + " features (1 to " + (d - 1) + " possible)");
        }
        if (n < 2) {
            throw new IllegalArgumentException("PPCA needs at least 2 rows, got " + n);
        }
        double[] mean = Pca.columnMeans(data, "PPCA");
        float[] x = data.x();
        double trS = 0;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) {
                double v = x[r * d + c] - mean[c];
                trS += v * v;
            }
        }
        trS /= n;
        if (!(trS > 0)) {
            throw new IllegalArgumentException("PPCA: every column of the data is constant");
        }
        float[] init = new float[d * q];
        Philox.fillNormal(init, 0, init.length, seed, 7, 0);
        double[][] w = new double[d][q];
        for (int i = 0; i < d; i++) {
            for (int k = 0; k < q; k++) {
                w[i][k] = init[i * q + k] * Math.sqrt(trS / d);
            }
        }
        double s2 = trS / d;
        double prev = Double.NEGATIVE_INFINITY, ll = prev;
        int it = 0;
        boolean converged = false;
        // The O(N D q) products go through the float GEMM over chunks of centered rows, summed in
        // double: per chunk A^T = W^T Xc^T, A^T A and A^T Xc. Each chunk is packed for the GEMM once
        // (as Xc^T and as Xc) and kept when two packed copies of the data fit in a quarter of the
        // heap; otherwise it is centered and packed again on every iteration (same results).
        // The posterior means are E[z] = A M^-1, so Sum E[z] E[z]^T = M^-1 (A^T A) M^-1 and
        // Xc^T E[z] = (Xc^T A) M^-1: only q x q work remains per iteration besides the GEMMs.
        org.latent4j.kernel.Gemm gemm = new org.latent4j.kernel.Gemm(parallelism);
        int chunk = Math.min(n, 4096);
        int chunks = (n + chunk - 1) / chunk;
        boolean keep = 2.0 * n * d * Float.BYTES < Runtime.getRuntime().maxMemory() / 4.0;
        float[][] packedT = new float[chunks][], packedN = new float[chunks][];
        float[] xc = new float[chunk * d];
        float[] wf = new float[d * q], atf = new float[q * chunk], ataf = new float[q * q], atxf = new float[q * d];
        while (true) {
            double[][] minv = Spd.inverse(mMatrix(w, s2));
            for (int i = 0; i < d; i++) {
                for (int k = 0; k < q; k++) {
                    wf[i * q + k] = (float) w[i][k];
                }
            }
            double[][] ata = new double[q][q], xta = new double[d][q];
            for (int ci = 0; ci < chunks; ci++) {
                int start = ci * chunk, rows = Math.min(chunk, n - start);
                float[] pt = packedT[ci], pn = packedN[ci];
                if (pt == null) {
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < d; c++) {
                            xc[r * d + c] = (float) (x[(start + r) * d + c] - mean[c]);
                        }
                    }
                    pt = org.latent4j.kernel.Gemm.packB(true, d, rows, xc, 0, d);    // Xc^T: d x rows
                    pn = org.latent4j.kernel.Gemm.packB(false, rows, d, xc, 0, d);   // Xc: rows x d
                    if (keep) {
                        packedT[ci] = pt;
                        packedN[ci] = pn;
                    }
                }
                gemm.gemmPacked(atf, 0, rows, true, q, rows, d, 1f, wf, 0, q, pt, 0f);     // A^T = W^T Xc^T
                gemm.gemm(ataf, 0, q, false, true, q, q, rows, 1f, atf, 0, rows, atf, 0, rows, 0f);   // A^T A
                gemm.gemmPacked(atxf, 0, d, false, q, d, rows, 1f, atf, 0, rows, pn, 0f);   // A^T Xc
                for (int i = 0; i < q; i++) {
                    for (int j = 0; j < q; j++) {
                        ata[i][j] += ataf[i * q + j];
                    }
                }
                for (int k = 0; k < q; k++) {
                    for (int i = 0; i < d; i++) {
                        xta[i][k] += atxf[k * d + i];
                    }
                }
            }
            for (int i = 0; i < q; i++) {          // exact symmetry
                for (int j = 0; j < i; j++) {
                    double v = 0.5 * (ata[i][j] + ata[j][i]);
                    ata[i][j] = v;
                    ata[j][i] = v;
                }
            }
            double[][] szz = multiply(multiply(minv, ata), minv);
            double[][] sxz = multiply(xta, minv);
            ll = logLikelihoodFrom(d, n, w, s2, trS, ata, minv);
            if (it > 0 && Math.abs(ll - prev) <= tolerance * Math.abs(ll)) {
                converged = true;
                break;
            }
            if (it >= maxIterations) {
                break;
            }
            prev = ll;
            it++;
            // M step: W = Sxz (Szz + N s2 M^-1)^-1; s2 from the expected squared residuals.
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    szz[i][j] += n * s2 * minv[i][j];
                }
            }
            double[][] wNew = multiply(sxz, Spd.inverse(szz));
            double cross = 0;
            for (int c = 0; c < d; c++) {
                for (int k = 0; k < q; k++) {
                    cross += wNew[c][k] * sxz[c][k];
                }
            }
            double quad = 0;
            double[][] wtw = transposeTimes(wNew, wNew);
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    quad += szz[i][j] * wtw[j][i];
                }
            }
            w = wNew;
            s2 = (n * trS - 2 * cross + quad) / ((double) n * d);
            if (!(s2 > 0)) {
                throw new IllegalArgumentException("PPCA EM: the noise variance fell to " + s2 + " (the data has rank <= " + q + "); use fewer components");
            }
        }
        return new EmResult(new Ppca(mean, w, s2), it, converged, ll);
    }

    /** The mean log-likelihood from A^T A = sum_n (W^T xc_n)(W^T xc_n)^T and M^-1. */
    private static double logLikelihoodFrom(int d, int n, double[][] w, double s2, double trS, double[][] ata, double[][] minv) {
        int q = w[0].length;
        double t = 0;
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < q; j++) {
                t += minv[i][j] * ata[j][i] / n;
            }
        }
        double logDetC = (d - q) * Math.log(s2) + Spd.logDet(mMatrix(w, s2));
        return -0.5 * (d * Math.log(2 * Math.PI) + logDetC + (trS - t) / s2);
    }

    /** Mean log-likelihood per row of data under this model. */
    public double logLikelihood(Dataset data) {
        int n = data.rows(), d = data.features();
        if (d != features()) {
            throw new IllegalArgumentException("data has " + d + " features but the PPCA has " + features());
        }
        float[] x = data.x();
        double trS = 0;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) {
                double v = x[r * d + c] - mean[c];
                trS += v * v;
            }
        }
        return meanLogLikelihood(x, n, d, mean, w, sigma2, trS / n, new double[n][components()]);
    }

    /**
     * -1/2 [D ln 2pi + ln|C| + tr(C^-1 S)] with C = W W^T + s2 I, through the q x q matrix
     * M = W^T W + s2 I: ln|C| = (D - q) ln s2 + ln|M|, tr(C^-1 S) = (tr S - tr(M^-1 W^T S W)) / s2.
     */
    private static double meanLogLikelihood(float[] x, int n, int d, double[] mean, double[][] w, double s2, double trS, double[][] a) {
        int q = w[0].length;
        double[][] m = mMatrix(w, s2);
        double[][] minv = Spd.inverse(m);
        project(x, n, d, mean, w, a);
        double[][] wsw = transposeTimes(a, a);
        double t = 0;
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < q; j++) {
                t += minv[i][j] * wsw[j][i] / n;
            }
        }
        double logDetC = (d - q) * Math.log(s2) + Spd.logDet(m);
        return -0.5 * (d * Math.log(2 * Math.PI) + logDetC + (trS - t) / s2);
    }

    /** Posterior of z given x: mean M^-1 W^T (x - mu) and covariance s2 M^-1. */
    public record Posterior(double[] mean, double[][] covariance) {}

    public Posterior posterior(float[] x) {
        int d = features(), q = components();
        if (x.length != d) {
            throw new IllegalArgumentException("x has " + x.length + " features but the PPCA has " + d);
        }
        double[][] minv = Spd.inverse(mMatrix(w, sigma2));
        double[] wtx = new double[q];
        for (int i = 0; i < d; i++) {
            double v = x[i] - mean[i];
            for (int k = 0; k < q; k++) {
                wtx[k] += w[i][k] * v;
            }
        }
        double[] mu = new double[q];
        double[][] cov = new double[q][q];
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < q; j++) {
                mu[i] += minv[i][j] * wtx[j];
                cov[i][j] = sigma2 * minv[i][j];
            }
        }
        return new Posterior(mu, cov);
    }

    /**
     * Anomaly score of each row: -log p(x) under the model, from the q x q matrix M:
     * x_c^T C^-1 x_c = (|x_c|^2 - (W^T x_c)^T M^-1 (W^T x_c)) / s2. The mean over a data set is
     * minus {@link #logLikelihood}.
     */
    public double[] score(float[][] x) {
        int d = features(), q = components();
        double[][] m = mMatrix(w, sigma2);
        double[][] minv = Spd.inverse(m);
        double logDetC = (d - q) * Math.log(sigma2) + Spd.logDet(m);
        double[] out = new double[x.length];
        double[] a = new double[q];
        for (int r = 0; r < x.length; r++) {
            if (x[r].length != d) {
                throw new IllegalArgumentException("row " + r + " has " + x[r].length + " features but the PPCA has " + d);
            }
            java.util.Arrays.fill(a, 0);
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double v = x[r][i] - mean[i];
                sq += v * v;
                for (int k = 0; k < q; k++) {
                    a[k] += w[i][k] * v;
                }
            }
            double quad = 0;
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    quad += a[i] * minv[i][j] * a[j];
                }
            }
            out[r] = 0.5 * (d * Math.log(2 * Math.PI) + logDetC + (sq - quad) / sigma2);
        }
        return out;
    }

    /** W z + mu. */
    public float[] decode(double[] z) {
        int d = features(), q = components();
        if (z.length != q) {
            throw new IllegalArgumentException("z has " + z.length + " entries but the PPCA has " + q + " components");
        }
        float[] out = new float[d];
        for (int i = 0; i < d; i++) {
            double s = mean[i];
            for (int k = 0; k < q; k++) {
                s += w[i][k] * z[k];
            }
            out[i] = (float) s;
        }
        return out;
    }

    /** n draws of x = W z + mu + noise, z ~ N(0, I), noise ~ N(0, s2 I), from the counter-based generator. */
    public float[][] sample(int n, long seed) {
        int d = features(), q = components();
        float[] z = new float[n * q], e = new float[n * d];
        Philox.fillNormal(z, 0, z.length, seed, 1, 0);
        Philox.fillNormal(e, 0, e.length, seed, 2, 0);
        float[][] out = new float[n][];
        double sd = Math.sqrt(sigma2);
        for (int r = 0; r < n; r++) {
            double[] zr = new double[q];
            for (int k = 0; k < q; k++) {
                zr[k] = z[r * q + k];
            }
            out[r] = decode(zr);
            for (int i = 0; i < d; i++) {
                out[r][i] += (float) (sd * e[r * d + i]);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ small dense helpers

    private static double[][] mMatrix(double[][] w, double s2) {
        double[][] m = transposeTimes(w, w);
        for (int i = 0; i < m.length; i++) {
            m[i][i] += s2;
        }
        return m;
    }

    /** a[r] = W^T (x_r - mean) for every row. */
    private static void project(float[] x, int n, int d, double[] mean, double[][] w, double[][] a) {
        int q = w[0].length;
        for (int r = 0; r < n; r++) {
            double[] ar = a[r];
            java.util.Arrays.fill(ar, 0);
            for (int c = 0; c < d; c++) {
                double v = x[r * d + c] - mean[c];
                double[] wc = w[c];
                for (int k = 0; k < q; k++) {
                    ar[k] += wc[k] * v;
                }
            }
        }
    }

    static double[][] transposeTimes(double[][] a, double[][] b) {
        int n = a.length, p = a[0].length, q = b[0].length;
        double[][] c = new double[p][q];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < p; i++) {
                double v = a[r][i];
                for (int j = 0; j < q; j++) {
                    c[i][j] += v * b[r][j];
                }
            }
        }
        return c;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length, p = b.length, q = b[0].length;
        double[][] c = new double[n][q];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < p; k++) {
                double v = a[r][k];
                for (int j = 0; j < q; j++) {
                    c[r][j] += v * b[k][j];
                }
            }
        }
        return c;
    }
}
