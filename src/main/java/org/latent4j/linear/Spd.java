package org.latent4j.linear;

/** Small symmetric positive definite matrices (q x q in PPCA), in double: Cholesky, inverse, log det. */
public final class Spd {
    private Spd() {}

    /** Cholesky factor L of a symmetric positive definite matrix. */
    public static double[][] cholesky(double[][] m) {
        int n = m.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = m[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new ArithmeticException("matrix is not positive definite");
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        return l;
    }

    /** log det of a symmetric positive definite matrix. */
    public static double logDet(double[][] m) {
        double[][] l = cholesky(m);
        double s = 0;
        for (int i = 0; i < l.length; i++) {
            s += 2 * Math.log(l[i][i]);
        }
        return s;
    }

    /** The inverse of a symmetric positive definite matrix, through its Cholesky factor. */
    public static double[][] inverse(double[][] m) {
        int n = m.length;
        double[][] l = cholesky(m);
        double[][] inv = new double[n][n];
        for (int col = 0; col < n; col++) {
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {          // L y = e_col
                double s = i == col ? 1 : 0;
                for (int k = 0; k < i; k++) {
                    s -= l[i][k] * y[k];
                }
                y[i] = s / l[i][i];
            }
            for (int i = n - 1; i >= 0; i--) {     // L^T x = y
                double s = y[i];
                for (int k = i + 1; k < n; k++) {
                    s -= l[k][i] * inv[k][col];
                }
                inv[i][col] = s / l[i][i];
            }
        }
        return inv;
    }
}
