package org.latent4j.linear;

import org.latent4j.data.Dataset;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;

/**
 * Principal component analysis through the covariance matrix (D x D, accumulated from float
 * GEMMs over row chunks into double) and its symmetric eigen-decomposition in double.
 * Variances are per sample with 1/N (the maximum-likelihood estimate that PPCA uses; scikit-learn
 * divides by N - 1). Components are unit vectors; each one's sign is fixed so that its largest
 * entry is positive.
 */
public final class Pca {
    private final float[] mean;          // D
    private final double[][] components; // q x D
    private final double[] variances;    // all D eigenvalues of the covariance, largest first
    private final int q;

    private Pca(float[] mean, double[][] components, double[] variances, int q) {
        this.mean = mean;
        this.components = components;
        this.variances = variances;
        this.q = q;
    }

    /** Fits q components to the rows of data; errors name non-finite cells and impossible q. */
    public static Pca fit(Dataset data, int q, Parallelism parallelism) {
        int n = data.rows(), d = data.features();
        if (q <= 0 || q > d) {
            throw new IllegalArgumentException("PCA: " + q + " components asked for data with " + d + " features (1 to " + d + " possible)");
        }
        float[] x = data.x();
        double[] sum = new double[d];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) {
                float v = x[r * d + c];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException(data.source() + ": row " + r + ", column " + c + " is " + v + "; PCA needs finite values");
                }
                sum[c] += v;
            }
        }
        float[] mean = new float[d];
        for (int c = 0; c < d; c++) {
            mean[c] = (float) (sum[c] / n);
        }
        // Covariance: chunks of centered rows, X_c^T X_c by the float GEMM, summed in double.
        int chunk = Math.max(1, Math.min(n, 2048));
        float[] xc = new float[chunk * d];
        float[] part = new float[d * d];
        double[][] cov = new double[d][d];
        Gemm gemm = new Gemm(parallelism);
        for (int start = 0; start < n; start += chunk) {
            int m = Math.min(chunk, n - start);
            for (int r = 0; r < m; r++) {
                for (int c = 0; c < d; c++) {
                    xc[r * d + c] = x[(start + r) * d + c] - mean[c];
                }
            }
            gemm.gemm(part, 0, d, true, false, d, d, m, 1f, xc, 0, d, xc, 0, d, 0f);
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    cov[i][j] += part[i * d + j];
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
        SymmetricEigen e = SymmetricEigen.of(cov);
        // The covariance comes from float products: an eigenvalue below D * 2^-23 of the largest is
        // round-off of a direction without variance (rank-deficient data, constant columns) and is 0.
        double floor = Math.max(0.0, e.values[0]) * d * 0x1.0p-23;
        double[] variances = new double[d];
        for (int k = 0; k < d; k++) {
            variances[k] = e.values[k] > floor ? e.values[k] : 0.0;
        }
        double[][] comps = new double[q][d];
        for (int k = 0; k < q; k++) {
            int arg = 0;
            for (int i = 0; i < d; i++) {
                if (Math.abs(e.vectors[i][k]) > Math.abs(e.vectors[arg][k])) {
                    arg = i;
                }
            }
            double sign = e.vectors[arg][k] < 0 ? -1 : 1;
            for (int i = 0; i < d; i++) {
                comps[k][i] = sign * e.vectors[i][k];
            }
        }
        return new Pca(mean, comps, variances, q);
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
        return java.util.Arrays.copyOf(variances, q);
    }

    /** Each kept component's share of the total variance. */
    public double[] explainedVarianceRatio() {
        double total = 0;
        for (double v : variances) {
            total += v;
        }
        double[] r = new double[q];
        for (int k = 0; k < q; k++) {
            r[k] = total == 0 ? 0 : variances[k] / total;
        }
        return r;
    }

    /** All D eigenvalues of the covariance, largest first. */
    public double[] allVariances() {
        return variances.clone();
    }

    /** Mean of the discarded eigenvalues (PPCA's closed-form noise variance); 0 when q = D. */
    public double discardedMeanVariance() {
        int d = variances.length;
        if (q == d) {
            return 0;
        }
        double s = 0;
        for (int k = q; k < d; k++) {
            s += variances[k];
        }
        return s / (d - q);
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

    /** inverseTransform(transform(x)): the projection onto the principal subspace. */
    public float[][] reconstruct(float[][] x) {
        return inverseTransform(transform(x, false), false);
    }
}
