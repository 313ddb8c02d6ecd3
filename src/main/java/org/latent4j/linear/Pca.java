package org.latent4j.linear;

import org.latent4j.data.Dataset;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;

/**
 * Principal component analysis, by the route the shape calls for: with at least as many rows as
 * features through the covariance matrix (D x D, accumulated from float GEMMs over row chunks
 * into double); with fewer rows than features through the Gram matrix (N x N, the SVD route).
 * Then a symmetric eigen-decomposition in double: subspace iteration for the top q when q is at
 * most a quarter of the size, else the full tridiagonal QL. Variances are per sample with 1/N
 * (the maximum-likelihood estimate that PPCA uses; scikit-learn divides by N - 1). Components
 * are unit vectors; each one's sign is fixed so that its largest entry is positive. Components
 * beyond the rank of the centered data have variance 0 and are unit vectors orthogonal to the
 * others (any such vectors serve; these are fixed, from a seeded stream).
 */
public final class Pca {
    private final float[] mean;          // D
    private final double[][] components; // q x D
    private final double[] variances;    // the q kept eigenvalues of the covariance, largest first
    private final int q;
    private final double totalVariance;  // trace of the covariance
    private final double discarded;      // sum of the other D - q eigenvalues

    /** Fits q components to the rows of data; errors name non-finite cells and impossible q. */
    public static Pca fit(Dataset data, int q, Parallelism parallelism) {
        int n = data.rows(), d = data.features();
        if (q <= 0 || q > d) {
            throw new IllegalArgumentException("PCA: " + q + " components asked for data with " + d + " features (1 to " + d + " possible)");
        }
        float[] x = data.x();
        double[] colMeans = columnMeans(data, "PCA");
        float[] mean = new float[d];
        for (int c = 0; c < d; c++) {
            mean[c] = (float) colMeans[c];
        }
        // More features than rows: the N x N Gram matrix X_c X_c^T / N has the same nonzero
        // eigenvalues as the D x D covariance and is the smaller problem (the SVD route); its
        // eigenvectors v give the components X_c^T v / sqrt(N lambda).
        Gemm gemm = new Gemm(parallelism);
        boolean gram = n < d;
        double[][] cov = gram ? gram(x, mean, n, d, gemm) : covariance(x, mean, n, d, gemm);
        int p = cov.length;
        int qe = Math.min(q, p);
        double trace = 0;
        for (int i = 0; i < p; i++) {
            trace += cov[i][i];
        }
        // Few components of many features: subspace iteration on the covariance finds the top
        // eigenpairs in O(D^2 k) per step; otherwise the full decomposition (O(D^3)).
        double[] values;
        double[][] vectors;   // p x (at least qe), columns
        if (p > 64 && qe <= p / 4) {
            SymmetricEigen top = topEigen(cov, qe, parallelism);
            values = top.values;
            vectors = top.vectors;
        } else {
            SymmetricEigen e = SymmetricEigen.of(cov);
            values = e.values;
            vectors = e.vectors;
        }
        // The covariance comes from float products: an eigenvalue below D * 2^-23 of the largest is
        // round-off of a direction without variance (rank-deficient data, constant columns) and is 0.
        double floor = Math.max(0.0, values[0]) * d * 0x1.0p-23;
        double[] variances = new double[q];
        double kept = 0;
        for (int k = 0; k < qe; k++) {
            variances[k] = values[k] > floor ? values[k] : 0.0;
            kept += variances[k];
        }
        double discarded = Math.max(0.0, trace - kept);
        if (discarded <= floor * Math.max(1, d - q)) {
            discarded = 0.0;
        }
        double[][] comps = new double[q][d];
        int defined = 0;      // components with a direction the data gives (the rest: zero variance)
        for (int k = 0; k < qe; k++) {
            if (gram) {
                if (variances[k] == 0) {
                    break;
                }
                double scale = 1.0 / Math.sqrt(n * values[k]);
                for (int r = 0; r < n; r++) {
                    double v = vectors[r][k] * scale;
                    for (int i = 0; i < d; i++) {
                        comps[k][i] += (x[r * d + i] - (double) mean[i]) * v;
                    }
                }
            } else {
                for (int i = 0; i < d; i++) {
                    comps[k][i] = vectors[i][k];
                }
            }
            defined = k + 1;
        }
        if (defined < q) {
            completeOrthonormal(comps, defined);
        }
        for (int k = 0; k < q; k++) {     // sign: the largest entry positive
            int arg = 0;
            for (int i = 0; i < d; i++) {
                if (Math.abs(comps[k][i]) > Math.abs(comps[k][arg])) {
                    arg = i;
                }
            }
            if (comps[k][arg] < 0) {
                for (int i = 0; i < d; i++) {
                    comps[k][i] = -comps[k][i];
                }
            }
        }
        return new Pca(mean, comps, variances, q, trace, discarded);
    }

    /** X_c^T X_c / N (D x D) from chunks of centered rows through the float GEMM, summed in double. */
    private static double[][] covariance(float[] x, float[] mean, int n, int d, Gemm gemm) {
        // Covariance: chunks of centered rows, X_c^T X_c by the float GEMM, summed in double.
        int chunk = Math.max(1, Math.min(n, 4096));
        float[] xc = new float[chunk * d];
        float[] part = new float[d * d];
        double[][] cov = new double[d][d];
        int bs = Math.max(Gemm.NR, (d / 4 + Gemm.NR - 1) / Gemm.NR * Gemm.NR);   // column blocks
        for (int start = 0; start < n; start += chunk) {
            int m = Math.min(chunk, n - start);
            for (int r = 0; r < m; r++) {
                for (int c = 0; c < d; c++) {
                    xc[r * d + c] = x[(start + r) * d + c] - mean[c];
                }
            }
            // X_c^T X_c is symmetric: compute the blocks on and above the diagonal only.
            // One call per block row (its diagonal block and everything right of it): few, large calls.
            for (int bi = 0; bi < d; bi += bs) {
                int mi = Math.min(bs, d - bi);
                gemm.gemm(part, bi * d + bi, d, true, false, mi, d - bi, m, 1f, xc, bi, d, xc, bi, d, 0f);
                for (int i = bi; i < bi + mi; i++) {
                    double[] ci = cov[i];
                    for (int j = bi; j < d; j++) {
                        ci[j] += part[i * d + j];
                    }
                }
            }
        }
        for (int i = 0; i < d; i++) {          // the blocks below the diagonal mirror those above
            for (int j = 0; j < i; j++) {
                if (i / bs != j / bs) {
                    cov[i][j] = cov[j][i];
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                cov[i][j] /= n;
            }
        }
        for (int i = 0; i < d; i++) {          // exact symmetry for the eigen-solver
            for (int j = 0; j < i; j++) {
                double s = 0.5 * (cov[i][j] + cov[j][i]);
                cov[i][j] = s;
                cov[j][i] = s;
            }
        }
        return cov;
    }

    /** X_c X_c^T / N (N x N) through the float GEMM, for data with fewer rows than features. */
    private static double[][] gram(float[] x, float[] mean, int n, int d, Gemm gemm) {
        float[] xc = new float[n * d];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) {
                xc[r * d + c] = x[r * d + c] - mean[c];
            }
        }
        float[] g = new float[n * n];
        gemm.gemm(g, 0, n, false, true, n, n, d, 1f, xc, 0, d, xc, 0, d, 0f);
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = 0.5 * ((double) g[i * n + j] + g[j * n + i]) / n;
                out[i][j] = v;
                out[j][i] = v;
            }
        }
        return out;
    }

    /**
     * Components from index {@code from} on have no variance (the data has fewer directions than
     * components asked for): any unit vectors orthogonal to the others will do; these are seeded
     * Gaussian directions put through the same Gram-Schmidt as the subspace iteration.
     */
    private static void completeOrthonormal(double[][] comps, int from) {
        int q = comps.length, d = comps[0].length;
        float[] r = new float[(q - from) * d];
        org.latent4j.kernel.Philox.fillNormal(r, 0, r.length, 0xC0FFEE, 13, 0);
        double[][] cols = new double[d][q];
        for (int i = 0; i < d; i++) {
            for (int k = 0; k < q; k++) {
                cols[i][k] = k < from ? comps[k][i] : r[(k - from) * d + i];
            }
        }
        Subspaces.orthonormalizeColumns(cols, true);
        for (int k = from; k < q; k++) {
            for (int i = 0; i < d; i++) {
                comps[k][i] = cols[i][k];
            }
        }
    }

    /**
     * The mean of each column in double; a NaN or infinite cell is an error naming the data set,
     * the row and the column ({@code what} names the method that needs finite values).
     */
    static double[] columnMeans(Dataset data, String what) {
        int n = data.rows(), d = data.features();
        float[] x = data.x();
        double[] mean = new double[d];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) {
                float v = x[r * d + c];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException(data.source() + ": row " + r + ", column " + c + " is " + v + "; " + what + " needs finite values");
                }
                mean[c] += v;
            }
        }
        for (int c = 0; c < d; c++) {
            mean[c] /= n;
        }
        return mean;
    }

    /**
     * Top-q eigenpairs of a symmetric positive semi-definite matrix by subspace iteration with
     * q + 8..q/2 extra vectors and Rayleigh-Ritz, until the top q Ritz values change by less than
     * 1e-7 of the largest (the iterations multiply in float). Deterministic (the start block comes from Philox with a fixed seed).
     */
    static SymmetricEigen topEigen(double[][] c, int q, Parallelism parallelism) {
        int d = c.length;
        int k = Math.min(d, q + Math.max(8, q / 2));
        float[] start = new float[d * k];
        org.latent4j.kernel.Philox.fillNormal(start, 0, start.length, 0x5EED, 11, 0);
        double[][] qm = new double[d][k];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < k; j++) {
                qm[i][j] = start[i * k + j];
            }
        }
        Subspaces.orthonormalizeColumns(qm, false);
        // The iterations multiply in float through the GEMM; the final Rayleigh-Ritz step is in double.
        float[] cf = new float[d * d], qf = new float[d * k], yf = new float[d * k];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                cf[i * d + j] = (float) c[i][j];
            }
        }
        Gemm gemm = new Gemm(parallelism);
        double[] prev = null;
        SymmetricEigen ritz = null;
        for (int it = 1; it <= 500; it++) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < k; j++) {
                    qf[i * k + j] = (float) qm[i][j];
                }
            }
            gemm.gemm(yf, 0, k, false, false, d, k, d, 1f, cf, 0, d, qf, 0, k, 0f);
            double[][] y = new double[d][k];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < k; j++) {
                    y[i][j] = yf[i * k + j];
                }
            }
            if (it % 4 == 0 || it == 500) {
                ritz = SymmetricEigen.of(transposeTimes(qm, y));
                if (prev != null) {
                    double change = 0;
                    for (int j = 0; j < q; j++) {
                        change = Math.max(change, Math.abs(ritz.values[j] - prev[j]) / Math.max(1e-300, Math.abs(ritz.values[0])));
                    }
                    if (change < 1e-7) {
                        break;
                    }
                }
                prev = ritz.values.clone();
            }
            Subspaces.orthonormalizeColumns(y, false);
            qm = y;
        }
        double[][] t = transposeTimes(qm, times(c, qm));
        ritz = SymmetricEigen.of(t);
        double[][] vectors = new double[d][k];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    s += qm[i][l] * ritz.vectors[l][j];
                }
                vectors[i][j] = s;
            }
        }
        return SymmetricEigen.raw(ritz.values, vectors);
    }

    private static double[][] times(double[][] a, double[][] b) {
        int n = a.length, m = b.length, k = b[0].length;
        double[][] out = new double[n][k];
        for (int i = 0; i < n; i++) {
            double[] oi = out[i];
            double[] ai = a[i];
            for (int j = 0; j < m; j++) {
                double v = ai[j];
                double[] bj = b[j];
                for (int l = 0; l < k; l++) {
                    oi[l] += v * bj[l];
                }
            }
        }
        return out;
    }

    private static double[][] transposeTimes(double[][] a, double[][] b) {
        int n = a.length, p = a[0].length, k = b[0].length;
        double[][] out = new double[p][k];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < p; i++) {
                double v = a[r][i];
                double[] oi = out[i];
                for (int l = 0; l < k; l++) {
                    oi[l] += v * b[r][l];
                }
            }
        }
        return out;
    }

    private Pca(float[] mean, double[][] components, double[] variances, int q, double totalVariance, double discarded) {
        this.mean = mean;
        this.components = components;
        this.variances = variances;
        this.q = q;
        this.totalVariance = totalVariance;
        this.discarded = discarded;
    }

    public int components() {
        return q;
    }

    public int features() {
        return mean.length;
    }

    public float[] mean() {
        return mean.clone();
    }

    /** Component k as a unit vector of D entries. */
    public double[] component(int k) {
        return components[k].clone();
    }

    /** Variance along each kept component (eigenvalues of the covariance), largest first. */
    public double[] explainedVariance() {
        return variances.clone();
    }

    /** Each kept component's share of the total variance (the trace of the covariance). */
    public double[] explainedVarianceRatio() {
        double[] r = new double[q];
        for (int k = 0; k < q; k++) {
            r[k] = totalVariance == 0 ? 0 : variances[k] / totalVariance;
        }
        return r;
    }

    /** Total variance: the sum of all D eigenvalues. */
    public double totalVariance() {
        return totalVariance;
    }

    /** Mean of the discarded eigenvalues (PPCA's closed-form noise variance); 0 when q = D. */
    public double discardedMeanVariance() {
        int d = mean.length;
        return q == d ? 0 : discarded / (d - q);
    }

    /** Coordinates along the components (whitened: divided by each component's standard deviation). */
    public float[][] transform(float[][] x, boolean whiten) {
        int d = features();
        float[][] out = new float[x.length][q];
        for (int r = 0; r < x.length; r++) {
            if (x[r].length != d) {
                throw new IllegalArgumentException("row " + r + " has " + x[r].length + " features but the PCA was fitted on " + d);
            }
            for (int k = 0; k < q; k++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += components[k][i] * (x[r][i] - mean[i]);
                }
                if (whiten) {
                    s = variances[k] > 0 ? s / Math.sqrt(variances[k]) : 0;
                }
                out[r][k] = (float) s;
            }
        }
        return out;
    }

    /** Back from coordinates (whitened or not) to the data space. */
    public float[][] inverseTransform(float[][] z, boolean whitened) {
        int d = features();
        float[][] out = new float[z.length][d];
        for (int r = 0; r < z.length; r++) {
            if (z[r].length != q) {
                throw new IllegalArgumentException("row " + r + " has " + z[r].length + " coordinates but the PCA has " + q + " components");
            }
            for (int i = 0; i < d; i++) {
                double s = mean[i];
                for (int k = 0; k < q; k++) {
                    double c = whitened ? z[r][k] * Math.sqrt(variances[k]) : z[r][k];
                    s += components[k][i] * c;
                }
                out[r][i] = (float) s;
            }
        }
        return out;
    }

    /** Anomaly score of each row: its squared reconstruction error, summed over the features. */
    public double[] score(float[][] x) {
        float[][] r = reconstruct(x);
        double[] s = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                double e = x[i][j] - r[i][j];
                s[i] += e * e;
            }
        }
        return s;
    }

    /** inverseTransform(transform(x)): the projection onto the principal subspace. */
    public float[][] reconstruct(float[][] x) {
        return inverseTransform(transform(x, false), false);
    }
}
