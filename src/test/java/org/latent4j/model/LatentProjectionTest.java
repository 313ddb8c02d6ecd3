package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The plane of a scatter plot: the codes themselves in 2-D, else the principal directions known by construction. */
class LatentProjectionTest {
    /** d orthonormal rows from Gram-Schmidt on fixed random vectors: a rotated basis. */
    static double[][] basis(int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] u = new double[d][d];
        for (int k = 0; k < d; k++) {
            for (int j = 0; j < d; j++) {
                u[k][j] = r.nextGaussian();
            }
            for (int p = 0; p < k; p++) {
                double dot = 0;
                for (int j = 0; j < d; j++) {
                    dot += u[k][j] * u[p][j];
                }
                for (int j = 0; j < d; j++) {
                    u[k][j] -= dot * u[p][j];
                }
            }
            double n = 0;
            for (int j = 0; j < d; j++) {
                n += u[k][j] * u[k][j];
            }
            for (int j = 0; j < d; j++) {
                u[k][j] /= Math.sqrt(n);
            }
        }
        return u;
    }

    /** The sign PCA gives a direction: its largest entry positive. */
    static double sign(double[] u) {
        int arg = 0;
        for (int j = 0; j < u.length; j++) {
            if (Math.abs(u[j]) > Math.abs(u[arg])) {
                arg = j;
            }
        }
        return Math.signum(u[arg]);
    }

    @Test
    void aSymmetricCloudProjectsOntoItsTwoLongestAxesExactly() {
        // Every sign pattern of (5, 2, 0.5, 0.1) along a rotated basis, around a center: the
        // covariance is exactly diag(25, 4, 0.25, 0.01) in that basis, so the first two principal
        // directions are its first two vectors and the plane holds (+-5, +-2).
        int d = 4;
        double[][] u = basis(d, 11);
        double[] len = {5, 2, 0.5, 0.1}, center = {3, -1, 2, 7};
        float[][] codes = new float[16][d];
        for (int m = 0; m < 16; m++) {
            for (int j = 0; j < d; j++) {
                double v = center[j];
                for (int k = 0; k < d; k++) {
                    v += ((m >> k & 1) == 0 ? 1 : -1) * len[k] * u[k][j];
                }
                codes[m][j] = (float) v;
            }
        }
        LatentProjection.Plane plane = LatentProjection.plane(codes);
        for (int m = 0; m < 16; m++) {
            double x = ((m & 1) == 0 ? 1 : -1) * len[0] * sign(u[0]), y = ((m >> 1 & 1) == 0 ? 1 : -1) * len[1] * sign(u[1]);
            assertEquals(x, plane.points()[m][0], 1e-4, "point " + m + ", first coordinate");
            assertEquals(y, plane.points()[m][1], 1e-4, "point " + m + ", second coordinate");
        }
        assertEquals("principal component 1", plane.xAxis());
        assertTrue(plane.how().contains("4-d codes (99% of their variance)"), plane.how());   // 29 / 29.26
    }

    @Test
    void aGaussianCloudProjectsOntoItsLongestAxes() {
        int d = 6, n = 4000;
        double[][] u = basis(d, 5);
        double[] std = {5, 3, 1, 0.5, 0.3, 0.2};
        SplittableRandom r = new SplittableRandom(6);
        float[][] codes = new float[n][d];
        double[][] truth = new double[n][2];
        for (int i = 0; i < n; i++) {
            double[] c = new double[d];
            for (int k = 0; k < d; k++) {
                c[k] = std[k] * r.nextGaussian();
            }
            truth[i][0] = c[0];
            truth[i][1] = c[1];
            for (int j = 0; j < d; j++) {
                double v = 1;
                for (int k = 0; k < d; k++) {
                    v += c[k] * u[k][j];
                }
                codes[i][j] = (float) v;
            }
        }
        float[][] p = LatentProjection.twoDimensions(codes);
        for (int axis = 0; axis < 2; axis++) {
            double sxy = 0, sxx = 0, syy = 0, mean = 0;
            for (int i = 0; i < n; i++) {
                mean += p[i][axis] / n;
            }
            assertEquals(0, mean, 1e-4, "centered");
            for (int i = 0; i < n; i++) {
                sxy += p[i][axis] * truth[i][axis];
                sxx += p[i][axis] * (double) p[i][axis];
                syy += truth[i][axis] * truth[i][axis];
            }
            double corr = sxy / Math.sqrt(sxx * syy);
            assertTrue(Math.abs(corr) > 0.99, "axis " + axis + " follows the cloud's axis " + axis + ": correlation " + corr);
            assertEquals(std[axis] * std[axis], sxx / n, 0.05 * std[axis] * std[axis], "variance along axis " + axis);
        }
    }

    @Test
    void twoDimensionalCodesAreTheirOwnPlaneAndOneDimensionalOnesSitOnALine() {
        float[][] codes = {{1, 2}, {-3, 0.5f}, {Float.MIN_VALUE, 7}};
        float[][] p = LatentProjection.twoDimensions(codes);
        assertArrayEquals(codes, p);
        assertNotSame(codes[0], p[0], "a copy");
        assertArrayEquals(new float[][] {{4, 0}, {-1, 0}}, LatentProjection.twoDimensions(new float[][] {{4}, {-1}}));
        var e = assertThrows(IllegalArgumentException.class, () -> LatentProjection.twoDimensions(new float[][] {{1, 2, 3}, {1, 2}}));
        assertTrue(e.getMessage().contains("code 1 has 2 dimensions but code 0 has 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LatentProjection.twoDimensions(new float[][] {{1, 2, 3}, {1, Float.NaN, 3}}));
        assertTrue(e.getMessage().contains("dimension 1 of code 1 is NaN"), e.getMessage());
    }
}
