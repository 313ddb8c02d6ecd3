package org.latent4j.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {
    @Test
    void reconstructsTheMatrixWithOrthonormalVectorsAndSortedValues() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : new int[] {1, 2, 3, 7, 40, 101}) {
            double[][] a = new double[n][n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    a[i][j] = a[j][i] = r.nextDouble() * 2 - 1;
                }
            }
            SymmetricEigen e = SymmetricEigen.of(a);
            for (int k = 1; k < n; k++) {
                assertEquals(true, e.values[k - 1] >= e.values[k], "sorted");
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, dot = 0;
                    for (int k = 0; k < n; k++) {
                        s += e.vectors[i][k] * e.values[k] * e.vectors[j][k];
                        dot += e.vectors[k][i] * e.vectors[k][j];
                    }
                    assertEquals(a[i][j], s, 1e-10, "A = V L V^T at (" + i + "," + j + "), n=" + n);
                    assertEquals(i == j ? 1 : 0, dot, 1e-10, "V^T V = I, n=" + n);
                }
            }
        }
    }

    @Test
    void knownSpectrum() {
        double[][] a = {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}};
        SymmetricEigen e = SymmetricEigen.of(a);
        assertEquals(5, e.values[0], 1e-12);
        assertEquals(3, e.values[1], 1e-12);
        assertEquals(1, e.values[2], 1e-12);
        assertEquals(1.0, Math.abs(e.vectors[2][0]), 1e-12);
    }
}
