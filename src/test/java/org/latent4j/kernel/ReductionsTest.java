package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Row and column sums against double sums; tolerance (n + 2) u sum|x|. */
class ReductionsTest {
    @Test
    void rowAndColumnSumsMatchDoubleSums() {
        SplittableRandom r = new SplittableRandom(1);
        int[] dims = {1, 2, 3, 7, 8, 9, 16, 17, 33, 100};
        double u = Math.ulp(1f) / 2;
        for (int rows : dims) {
            for (int cols : dims) {
                float[] x = GemmTest.random(r, rows * cols + 1);
                float[] rs = new float[rows], cs = new float[cols];
                Reductions.rowSums(rs, 0, x, 1, rows, cols);
                Reductions.colSums(cs, 0, x, 1, rows, cols, false);
                for (int i = 0; i < rows; i++) {
                    double s = 0, a = 0;
                    for (int c = 0; c < cols; c++) {
                        s += x[1 + i * cols + c];
                        a += Math.abs(x[1 + i * cols + c]);
                    }
                    assertEquals(s, rs[i], (cols + 2) * u * a + 1e-30, "row " + i + " of " + rows + "x" + cols);
                }
                for (int c = 0; c < cols; c++) {
                    double s = 0, a = 0;
                    for (int i = 0; i < rows; i++) {
                        s += x[1 + i * cols + c];
                        a += Math.abs(x[1 + i * cols + c]);
                    }
                    assertEquals(s, cs[c], (rows + 2) * u * a + 1e-30, "column " + c + " of " + rows + "x" + cols);
                }
                float[] before = cs.clone();
                Reductions.colSums(cs, 0, x, 1, rows, cols, true);
                for (int c = 0; c < cols; c++) {
                    double a = Math.abs(before[c]);
                    for (int i = 0; i < rows; i++) {
                        a += Math.abs(x[1 + i * cols + c]);
                    }
                    assertEquals(2.0 * before[c], cs[c], 2 * (rows + 2) * u * a + 1e-30, "accumulated column " + c);
                }
            }
        }
    }

    @Test
    void columnSumsDoNotDependOnTheColumnPosition() {
        // Each column is summed in row order: a column gives the same bits at any offset.
        SplittableRandom r = new SplittableRandom(2);
        int rows = 50;
        float[] col = GemmTest.random(r, rows);
        for (int cols : new int[] {1, 5, 8, 19}) {
            for (int at = 0; at < cols; at++) {
                float[] x = new float[rows * cols];
                for (int i = 0; i < rows; i++) {
                    x[i * cols + at] = col[i];
                }
                float[] out = new float[cols];
                Reductions.colSums(out, 0, x, 0, rows, cols, false);
                float expect = 0;
                for (float v : col) {
                    expect += v;
                }
                assertEquals(Float.floatToIntBits(expect), Float.floatToIntBits(out[at]));
            }
        }
    }

    @Test
    void zeroSizeIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> Reductions.rowSums(new float[1], 0, new float[1], 0, 0, 1));
        assertTrue(e.getMessage().contains("0x1"), e.getMessage());
    }

    @Test
    void allFiniteFindsEveryNanAndInfinityAtAnyPositionAndTail() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (int n = 1; n < 70; n++) {
            float[] x = new float[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextDouble() * 2e38 - 1e38);
            }
            assertTrue(Reductions.allFinite(x, 3, n));
            for (int at = 0; at < n; at++) {
                for (float b : bad) {
                    float keep = x[3 + at];
                    x[3 + at] = b;
                    assertEquals(Reductions.allFiniteNaive(x, 3, n), Reductions.allFinite(x, 3, n), "n " + n + " at " + at + " " + b);
                    assertTrue(!Reductions.allFinite(x, 3, n));
                    x[3 + at] = keep;
                }
            }
            x[0] = Float.NaN;   // outside the range: not looked at
            assertTrue(Reductions.allFinite(x, 3, n));
        }
    }
}
