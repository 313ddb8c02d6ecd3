package org.latent4j.linear;

/**
 * Principal angles between the column spaces of two D x q matrices: orthonormal bases Q_a and
 * Q_b, then the cosines are the singular values of Q_a^T Q_b (from the eigenvalues of its Gram
 * matrix). Used to check that a linear autoencoder's decoder spans the PCA subspace.
 */
public final class Subspaces {
    private Subspaces() {}

    /** Angles in radians, smallest first. */
    public static double[] principalAngles(double[][] a, double[][] b) {
        int d = a.length;
        if (b.length != d) {
            throw new IllegalArgumentException("the matrices have " + d + " and " + b.length + " rows");
        }
        double[][] qa = orthonormal(a), qb = orthonormal(b);
        int p = qa[0].length, q = qb[0].length;
        double[][] m = new double[p][q];
        for (int i = 0; i < d; i++) {
            for (int x = 0; x < p; x++) {
                for (int y = 0; y < q; y++) {
                    m[x][y] += qa[i][x] * qb[i][y];
                }
            }
        }
        double[][] gram = new double[q][q];
        for (int x = 0; x < p; x++) {
            for (int y = 0; y < q; y++) {
                for (int z = 0; z < q; z++) {
                    gram[y][z] += m[x][y] * m[x][z];
                }
            }
        }
        double[] s2 = SymmetricEigen.of(gram).values;   // cos^2, largest first
        int k = Math.min(p, q);
        double[] angles = new double[k];
        for (int i = 0; i < k; i++) {
            double c = Math.sqrt(Math.max(0, Math.min(1, s2[i])));
            angles[i] = Math.acos(c);
        }
        return angles;
    }

    /** The largest principal angle in radians (0: same subspace, pi/2: a direction orthogonal to the other). */
    public static double largestAngle(double[][] a, double[][] b) {
        double[] t = principalAngles(a, b);
        return t[t.length - 1];
    }

    private static double[][] orthonormal(double[][] a) {
        double[][] o = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i].clone();
        }
        return orthonormalizeColumns(o, true);
    }

    /**
     * Gram-Schmidt (modified, two passes) on the columns of a, in place; returns a. A column
     * dependent on the ones before it is an error when {@code fullRank}, else it becomes zero.
     */
    static double[][] orthonormalizeColumns(double[][] a, boolean fullRank) {
        int d = a.length, q = a[0].length;
        double[][] cols = new double[q][d];   // the columns, each contiguous (a[i][k] jumps between rows)
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < q; j++) {
                cols[j][i] = a[i][j];
            }
        }
        for (int j = 0; j < q; j++) {
            double[] cj = cols[j];
            for (int pass = 0; pass < 2; pass++) {
                for (int k = 0; k < j; k++) {
                    double[] ck = cols[k];
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += ck[i] * cj[i];
                    }
                    for (int i = 0; i < d; i++) {
                        cj[i] -= dot * ck[i];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < d; i++) {
                norm += cj[i] * cj[i];
            }
            if (!(norm > 1e-300) && fullRank) {
                throw new IllegalArgumentException("column " + j + " is linearly dependent on the others: the matrix does not have rank " + q);
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < d; i++) {
                cj[i] = norm > 0 ? cj[i] / norm : 0;
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < q; j++) {
                a[i][j] = cols[j][i];
            }
        }
        return a;
    }
}
