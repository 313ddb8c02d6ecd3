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
        int d = a.length, q = a[0].length;
        double[][] o = new double[d][q];
        for (int i = 0; i < d; i++) {
            System.arraycopy(a[i], 0, o[i], 0, q);
        }
        for (int j = 0; j < q; j++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int k = 0; k < j; k++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += o[i][k] * o[i][j];
                    }
                    for (int i = 0; i < d; i++) {
                        o[i][j] -= dot * o[i][k];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < d; i++) {
                norm += o[i][j] * o[i][j];
            }
            if (!(norm > 1e-300)) {
                throw new IllegalArgumentException("column " + j + " is linearly dependent on the others: the matrix does not have rank " + q);
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < d; i++) {
                o[i][j] /= norm;
            }
        }
        return o;
    }
}
