package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * {@link LayerKernels} against scalar twins in double written here from the math in the kernels'
 * Javadoc (never by calling a kernel), and every backward kernel against central finite
 * differences of the forward's double twin (which the forward tests tie to the kernel).
 *
 * <p>Tolerances, with u = 2^-24 (float unit round-off) and e = 2^-53 (double):
 * <ul>
 * <li>a float result: |got - ref| <= c u M + 1e-30, where M is the sum of the magnitudes of the
 *     terms the kernel rounds (stated at each check, e.g. |x| + |stddev noise| for x + stddev noise;
 *     for a sum of terms, the sum of their absolute values) and c the number of float roundings on
 *     the way (at most 4; results computed in double and rounded once get c = 2);
 * <li>a double result (column statistics, row norms): c (n + 4) e M, n the length of the sum;
 * <li>a finite difference, step h = 1e-6 max(1, |v|), of a twin in double (truncation ~h^2, rounding
 *     e |F| / h ~ 1e-10 |F|): |fd - grad| <= 1e-6 (|fd| + M), M the size of the gradient's terms.
 * </ul>
 * Sizes are odd (1x1, 1x13, 7x13, 11x37; 2x5 for batch norm's smallest batch) so nothing lines up with a vector width. Edge values are
 * set on purpose: clamp and mask boundaries, Huber at |e| = delta, clamped sparsity means.
 */
class LayerKernelsTest {
    static final double U = Math.ulp(1.0f) / 2;
    static final double E = Math.ulp(1.0) / 2;
    static final double FD_H = 1e-6;
    static final int[][] SHAPES = {{1, 1}, {1, 13}, {7, 13}, {11, 37}};

    static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }

    static double[] d(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    static float[] nans(int n) {
        float[] x = new float[n];
        Arrays.fill(x, Float.NaN);
        return x;
    }

    static void close(double ref, double got, double tol, String what) {
        if (!(Math.abs(got - ref) <= tol)) {
            throw new AssertionError(what + ": got " + got + ", reference " + ref + " (error " + Math.abs(got - ref)
                    + " > tolerance " + tol + ")");
        }
    }

    /** Central difference of f in v[i] (v is restored), step FD_H max(1, |v[i]|). */
    static double central(double[] v, int i, ToDoubleFunction<double[]> f) {
        double x = v[i], h = FD_H * Math.max(1, Math.abs(x));
        v[i] = x + h;
        double fp = f.applyAsDouble(v);
        v[i] = x - h;
        double fm = f.applyAsDouble(v);
        v[i] = x;
        return (fp - fm) / (2 * h);
    }

    static void fdClose(double fd, double got, double m, String what) {
        close(fd, got, FD_H * (Math.abs(fd) + m), what + " (finite difference)");
    }

    // ----------------------------------------------------------------- noise

    @Test
    void gaussianNoiseAddsScaledNoise() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : new int[] {1, 7, 91, 407}) {
            float[] x = uniform(r, n, -3, 3), noise = uniform(r, n, -4, 4), y = new float[n + 1];
            float s = 0.37f;
            y[n] = 42f;
            LayerKernels.gaussianNoiseForward(y, x, noise, s, n);
            for (int i = 0; i < n; i++) {
                double ref = x[i] + (double) s * noise[i];
                close(ref, y[i], 2 * U * (Math.abs(x[i]) + Math.abs((double) s * noise[i])) + 1e-30, "y[" + i + "] n=" + n);
            }
            assertEquals(42f, y[n], "wrote past n");
            LayerKernels.gaussianNoiseForward(y, x, noise, 0f, n);
            assertArrayEquals(x, Arrays.copyOf(y, n), "stddev 0 must give x back");
        }
    }

    @Test
    void passBackwardCopiesOrAdds() {
        SplittableRandom r = new SplittableRandom(2);
        int n = 7 * 13;
        float[] dy = uniform(r, n, -2, 2), dx0 = uniform(r, n + 1, -2, 2);
        float[] dx = nans(n + 1);
        LayerKernels.passBackward(dx, dy, false, n);
        assertArrayEquals(dy, Arrays.copyOf(dx, n));
        assertTrue(Float.isNaN(dx[n]), "wrote past n");
        dx = dx0.clone();
        LayerKernels.passBackward(dx, dy, true, n);
        for (int i = 0; i < n; i++) {
            close((double) dx0[i] + dy[i], dx[i], U * (Math.abs(dx0[i]) + Math.abs(dy[i])), "accumulated dx[" + i + "]");
        }
        assertEquals(dx0[n], dx[n], "wrote past n");
    }

    /** Uniforms for the mask kernels, with the edges of p placed at the front. */
    static float[] uniformsWithEdges(SplittableRandom r, int n, float... edges) {
        float[] u = uniform(r, n, 0, 1);
        for (int i = 0; i < u.length; i++) {
            u[i] = Math.max(u[i], Float.MIN_VALUE); // uniforms are in (0, 1)
        }
        int k = 0;
        for (float e : edges) {
            if (e > 0f && e < 1f) { // only those that are uniforms
                u[k++] = e;
            }
        }
        return u;
    }

    @Test
    void maskForwardDropsUniformsBelowPAndKeepsTheRestScaled() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 11 * 37;
        for (float p : new float[] {0f, 0.25f, 0.5f, 0.9f, 1f}) {
            for (boolean dropout : new boolean[] {false, true}) {
                float keep = dropout && p < 1 ? 1f / (1f - p) : 1f;
                float[] x = uniform(r, n, -3, 3), y = new float[n];
                float[] u = uniformsWithEdges(r, n, p, Math.nextDown(p), Math.nextUp(p), Float.MIN_VALUE, Math.nextDown(1f));
                float[] mask = u.clone();
                LayerKernels.maskForward(y, x, mask, p, keep, n);
                for (int i = 0; i < n; i++) {
                    double m = u[i] < p ? 0 : keep; // zero with probability p: exactly the uniforms below p
                    assertEquals((float) m, mask[i], "mask[" + i + "] for u=" + u[i] + " p=" + p);
                    close(x[i] * m, y[i], U * Math.abs(x[i] * m), "y[" + i + "] p=" + p + " keep=" + keep);
                }
            }
        }
    }

    @Test
    void maskBackwardMultipliesByTheMaskAndAccumulates() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 7 * 13;
        float[] dy = uniform(r, n, -2, 2), dx0 = uniform(r, n, -2, 2), mask = new float[n];
        for (int i = 0; i < n; i++) {
            mask[i] = r.nextInt(3) == 0 ? 0f : 1.25f;
        }
        float[] dx = nans(n);
        LayerKernels.maskBackward(dx, dy, mask, false, n);
        for (int i = 0; i < n; i++) {
            close((double) dy[i] * mask[i], dx[i], U * Math.abs((double) dy[i] * mask[i]) + 1e-30, "dx[" + i + "]");
        }
        dx = dx0.clone();
        LayerKernels.maskBackward(dx, dy, mask, true, n);
        for (int i = 0; i < n; i++) {
            double g = (double) dy[i] * mask[i];
            close(dx0[i] + g, dx[i], 2 * U * (Math.abs(dx0[i]) + Math.abs(g)), "accumulated dx[" + i + "]");
        }
    }

    @Test
    void saltAndPepperSplitsAtHalfPAndMasksWhatItReplaced() {
        SplittableRandom r = new SplittableRandom(5);
        int n = 11 * 37;
        for (float p : new float[] {0f, 0.3f, 1f}) {
            float half = p / 2;
            float[] x = uniform(r, n, -3, 3), y = new float[n];
            float[] u = uniformsWithEdges(r, n, half, Math.nextDown(half), p, Math.nextDown(p), Math.nextUp(p), Float.MIN_VALUE);
            float[] mask = u.clone();
            LayerKernels.saltAndPepperForward(y, x, mask, p, n);
            for (int i = 0; i < n; i++) {
                // u < p/2: pepper (0); p/2 <= u < p: salt (1); else kept. Mask: 1 where kept.
                double ref = u[i] < p / 2.0 ? 0 : u[i] < p ? 1 : x[i];
                assertEquals((float) ref, y[i], "y[" + i + "] for u=" + u[i] + " p=" + p);
                assertEquals(u[i] < p ? 0f : 1f, mask[i], "mask[" + i + "] for u=" + u[i] + " p=" + p);
            }
            // Its gradient is maskBackward with that mask: dy where kept, 0 where replaced.
            float[] dy = uniform(r, n, -1, 1), dx = nans(n);
            LayerKernels.maskBackward(dx, dy, mask, false, n);
            for (int i = 0; i < n; i++) {
                assertEquals(u[i] < p ? 0f : dy[i], dx[i], 0f, "dx[" + i + "]"); // dy * 0 may be -0
            }
        }
    }

    // ----------------------------------------------------------------- clamp

    @Test
    void clampIsExactAndItsGradientIsZeroOnAndOutsideTheBounds() {
        SplittableRandom r = new SplittableRandom(6);
        float lo = -6f, hi = 2.5f;
        int n = 7 * 13;
        float[] x = uniform(r, n, -9, 5);
        float[] edges = {lo, hi, Math.nextUp(lo), Math.nextDown(hi), Math.nextDown(lo), Math.nextUp(hi), -1e30f, 1e30f};
        System.arraycopy(edges, 0, x, 0, edges.length);
        float[] y = new float[n], dy = uniform(r, n, -2, 2), dx = nans(n);
        LayerKernels.clampForward(y, x, lo, hi, n);
        LayerKernels.clampBackward(dx, dy, x, lo, hi, n);
        double[] xd = d(x);
        for (int i = 0; i < n; i++) {
            double ref = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
            assertEquals((float) ref, y[i], "clamp(" + x[i] + ")");
            boolean inside = x[i] > lo && x[i] < hi; // flat at and beyond the bounds
            assertEquals(inside ? dy[i] : 0f, dx[i], "dx at x=" + x[i]);
            // Finite differences where the clamp is differentiable (a step away from the bounds).
            double h = FD_H * Math.max(1, Math.abs(x[i]));
            if (Math.abs(x[i] - lo) > 2 * h && Math.abs(x[i] - hi) > 2 * h) {
                final int k = i;
                double fd = central(xd, i, v -> dy[k] * Math.min(Math.max(v[k], lo), hi));
                fdClose(fd, dx[i], Math.abs(dy[i]), "clamp dx at x=" + x[i]);
            }
        }
    }

    // ----------------------------------------------------------------- Huber

    static double huberRef(double e, double delta) {
        return Math.abs(e) <= delta ? e * e / 2 : delta * (Math.abs(e) - delta / 2);
    }

    /** pred - target = +-delta exactly (all floats involved are dyadic) at the front. */
    static void huberEdges(float[] pred, float[] target, float delta) {
        float[][] pairs = {{0.25f + delta, 0.25f}, {0.25f, 0.25f + delta}, {-1f, -1f - delta}, {2f, 2f}, {3f - delta, 3f}};
        for (int i = 0; i < pairs.length && i < pred.length; i++) {
            pred[i] = pairs[i][0];
            target[i] = pairs[i][1];
        }
    }

    @Test
    void huberFunctionIsBothBranchesAndContinuousAtDelta() {
        for (double delta : new double[] {0.5, 1, 1.75}) {
            for (double e : new double[] {-3, -delta, -0.4, 0, 0.3, delta, Math.nextUp(delta), 5}) {
                double ref = huberRef(e, delta);
                close(ref, LayerKernels.huber(e, delta), 4 * E * Math.abs(ref), "huber(" + e + ", " + delta + ")");
            }
            close(delta * delta / 2, LayerKernels.huber(delta, delta), 4 * E * delta * delta, "huber at delta");
            close(delta * delta / 2, LayerKernels.huber(-delta, delta), 4 * E * delta * delta, "huber at -delta");
        }
    }

    @Test
    void huberForwardMatchesTwinPerRow() {
        SplittableRandom r = new SplittableRandom(7);
        for (float delta : new float[] {1f, 0.5f, 0.375f}) {
            for (int[] s : SHAPES) {
                int rows = s[0], cols = s[1];
                float[] pred = uniform(r, rows * cols, -3, 3), target = uniform(r, rows * cols, -3, 3), out = new float[rows + 1];
                huberEdges(pred, target, delta);
                out[rows] = 42f;
                LayerKernels.huberForward(out, pred, target, delta, rows, cols);
                for (int i = 0; i < rows; i++) {
                    double ref = 0;
                    for (int c = i * cols; c < (i + 1) * cols; c++) {
                        ref += huberRef((double) pred[c] - target[c], delta); // terms >= 0: their sum is M
                    }
                    close(ref, out[i], 2 * U * ref + 1e-30, "row " + i + " of " + rows + "x" + cols + " delta " + delta);
                }
                assertEquals(42f, out[rows], "wrote past the rows");
            }
        }
    }

    @Test
    void huberBackwardIsTheClampedErrorAndMatchesFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(8);
        for (float delta : new float[] {1f, 0.5f}) {
            int rows = 7, cols = 13, n = rows * cols;
            float scale = 1f / rows;
            float[] pred = uniform(r, n, -3, 3), target = uniform(r, n, -3, 3), dp = nans(n + 1);
            huberEdges(pred, target, delta);
            LayerKernels.huberBackward(dp, pred, target, delta, scale, n);
            assertTrue(Float.isNaN(dp[n]), "wrote past n");
            double[] pd = d(pred);
            for (int i = 0; i < n; i++) {
                double e = (double) pred[i] - target[i];
                double ref = scale * Math.min(Math.max(e, -delta), delta);
                // pred - target is rounded in float (u |e|), then scaled (u).
                close(ref, dp[i], 3 * U * Math.abs(scale) * Math.abs(e) + 1e-30, "dpred[" + i + "] e=" + e);
                // F = scale * sum huber(pred - target); Huber is C^1, so this holds at |e| = delta too.
                final int k = i;
                double fd = central(pd, i, v -> scale * huberRef(v[k] - target[k], delta));
                fdClose(fd, dp[i], Math.abs(scale) * delta, "dpred[" + i + "] e=" + e);
            }
            for (int i = 0; i < 3; i++) {
                assertEquals((i == 1 ? -1 : 1) * scale * delta, dp[i], U * scale * delta, "gradient at |e| = delta, element " + i);
            }
        }
    }

    // ----------------------------------------------------------------- sparsity

    static final double RHO_EPS = 1e-6;

    static double[] columnMeansRef(double[] h, int rows, int cols) {
        double[] m = new double[cols];
        for (int c = 0; c < cols; c++) {
            double s = 0;
            for (int r = 0; r < rows; r++) {
                s += h[r * cols + c];
            }
            m[c] = Math.min(Math.max(s / rows, RHO_EPS), 1 - RHO_EPS);
        }
        return m;
    }

    static double kl(double rho, double q) {
        return rho * Math.log(rho / q) + (1 - rho) * Math.log((1 - rho) / (1 - q));
    }

    /** The penalty: weight * sum_c KL(rho || mean_r h[r, c]) (each row's out, and their mean). */
    static double sparsityRef(double[] h, double rho, double weight, int rows, int cols) {
        double s = 0;
        for (double q : columnMeansRef(h, rows, cols)) {
            s += kl(rho, q);
        }
        return weight * s;
    }

    /** Activations in (0, 1) with a dead column (all 0) and a saturated one (all 1): their means are clamped. */
    static float[] activations(SplittableRandom r, int rows, int cols, boolean edges) {
        float[] h = uniform(r, rows * cols, 0.005, 0.4);
        if (edges && cols >= 3) {
            for (int i = 0; i < rows; i++) {
                h[i * cols] = 0f;
                h[i * cols + 1] = 1f;
            }
        }
        return h;
    }

    @Test
    void columnMeansAreClampedAwayFromZeroAndOne() {
        SplittableRandom r = new SplittableRandom(9);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1];
            float[] h = activations(r, rows, cols, true);
            double[] m = new double[cols + 1];
            m[cols] = 42;
            LayerKernels.columnMeans(m, h, rows, cols);
            double[] ref = columnMeansRef(d(h), rows, cols);
            for (int c = 0; c < cols; c++) {
                close(ref[c], m[c], 2 * (rows + 4) * E * ref[c], "mean of column " + c + " of " + rows + "x" + cols);
            }
            if (cols >= 3) {
                assertEquals(RHO_EPS, m[0], "dead column");
                assertEquals(1 - RHO_EPS, m[1], "saturated column");
            }
            assertEquals(42, m[cols], "wrote past the columns");
        }
    }

    @Test
    void sparsityForwardIsTheKlOfTheColumnMeansOnEveryRow() {
        SplittableRandom r = new SplittableRandom(10);
        for (float rho : new float[] {0.05f, 0.2f}) {
            for (int[] s : SHAPES) {
                int rows = s[0], cols = s[1];
                float weight = 0.3f;
                float[] h = activations(r, rows, cols, true), out = new float[rows];
                double[] rhoHat = new double[cols];
                LayerKernels.sparsityForward(out, h, rhoHat, rho, weight, rows, cols);
                double ref = sparsityRef(d(h), rho, weight, rows, cols);
                // M: each KL term's size, plus (1 - rho) (1 + |log((1 - rho) / (1 - q))|), the effect of
                // forming 1 - rho in float (the kernel computes it as 1 - rho with rho a float).
                double m = 0;
                double[] q = columnMeansRef(d(h), rows, cols);
                for (int c = 0; c < cols; c++) {
                    double l1 = Math.log(rho / q[c]), l2 = Math.log((1 - rho) / (1 - q[c]));
                    m += rho * Math.abs(l1) + (1 - rho) * (1 + Math.abs(l2));
                    close(q[c], rhoHat[c], 2 * (rows + 4) * E * q[c], "rhoHat[" + c + "] left in the scratch");
                }
                for (int i = 0; i < rows; i++) {
                    close(ref, out[i], 2 * U * (Math.abs(ref) + weight * m), "row " + i + " of " + rows + "x" + cols + " rho " + rho);
                }
                assertTrue(Float.isFinite(out[0]), "finite with a dead and a saturated column");
            }
        }
    }

    @Test
    void sparsityBackwardMatchesTwinAccumulatesAndMatchesFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(11);
        float rho = 0.05f, weight = 0.7f;
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], n = rows * cols;
            for (boolean edges : new boolean[] {false, true}) {
                float[] h = activations(r, rows, cols, edges), dx0 = uniform(r, n, -1, 1);
                double[] hd = d(h), q = columnMeansRef(hd, rows, cols);
                for (boolean acc : new boolean[] {false, true}) {
                    float[] dh = acc ? dx0.clone() : nans(n);
                    LayerKernels.sparsityBackward(dh, h, new double[cols], rho, weight, acc, rows, cols);
                    for (int k = 0; k < n; k++) {
                        int c = k % cols;
                        double a = rho / q[c], b = (1 - rho) / (1 - q[c]);
                        double g = weight / (double) rows * (-a + b), base = acc ? dx0[k] : 0;
                        double m = weight / (double) rows * (a + b);
                        close(base + g, dh[k], 3 * U * (Math.abs(base) + m), "dh[" + k + "] " + rows + "x" + cols + " acc=" + acc);
                    }
                }
                if (edges) {
                    continue; // the clamped means are flat in h: no finite differences there
                }
                float[] dh = new float[n];
                LayerKernels.sparsityBackward(dh, h, new double[cols], rho, weight, false, rows, cols);
                for (int k = 0; k < n; k++) {
                    int c = k % cols;
                    double fd = central(hd, k, v -> sparsityRef(v, rho, weight, rows, cols));
                    fdClose(fd, dh[k], weight / (double) rows * (rho / q[c] + (1 - rho) / (1 - q[c])), "dh[" + k + "]");
                }
            }
        }
    }

    /**
     * A precision defect found by this test (now fixed): sparsityForward and
     * sparsityBackward form {@code 1 - rho} in float ({@code rho} is a float parameter), a relative
     * error of up to u in 1 - rho. At the optimum (every column mean equal to rho) the KL must be
     * exactly 0 and so must its gradient; the kernel gives -1.45e-7 for rho = 0.05, 13 units, weight
     * 1 (a negative KL), and a gradient of -2.9e-9 per element. The kernels now compute
     * {@code 1 - (double) rho}; this test failed before that fix.
     */
    @Test
    void sparsityPenaltyAndGradientVanishWhereTheMeansEqualRho() {
        int rows = 4, cols = 13;
        for (float rho : new float[] {0.05f, 0.1f, 0.2f}) {
            float[] h = new float[rows * cols], out = new float[rows], dh = new float[rows * cols];
            Arrays.fill(h, rho); // every column mean is rho exactly (in double)
            LayerKernels.sparsityForward(out, h, new double[cols], rho, 1f, rows, cols);
            LayerKernels.sparsityBackward(dh, h, new double[cols], rho, 1f, false, rows, cols);
            assertTrue(out[0] >= 0f, "KL(rho || rho) = " + out[0] + " < 0 for rho " + rho);
            assertEquals(0f, out[0], 1e-12f, "KL(rho || rho) for rho " + rho);
            for (int k = 0; k < dh.length; k++) {
                assertEquals(0f, dh[k], 1e-12f, "gradient at the optimum, element " + k + " rho " + rho);
            }
        }
    }

    // ----------------------------------------------------------------- activity L1

    @Test
    void activityL1ForwardAndBackward() {
        SplittableRandom r = new SplittableRandom(12);
        float weight = 0.05f;
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], n = rows * cols;
            float[] h = uniform(r, n, -2, 2), out = new float[rows], dx0 = uniform(r, n, -1, 1);
            h[0] = 0f;
            if (n > 1) {
                h[1] = -0f;
            }
            LayerKernels.activityL1Forward(out, h, weight, rows, cols);
            for (int i = 0; i < rows; i++) {
                double ref = 0;
                for (int c = i * cols; c < (i + 1) * cols; c++) {
                    ref += Math.abs((double) h[c]);
                }
                ref *= weight;
                close(ref, out[i], 2 * U * ref + 1e-30, "row " + i + " of " + rows + "x" + cols);
            }
            float scale = weight / rows;
            double[] hd = d(h);
            for (boolean acc : new boolean[] {false, true}) {
                float[] dh = acc ? dx0.clone() : nans(n);
                LayerKernels.activityL1Backward(dh, h, scale, acc, n);
                for (int k = 0; k < n; k++) {
                    double sign = h[k] > 0 ? 1 : h[k] < 0 ? -1 : 0, base = acc ? dx0[k] : 0;
                    close(base + scale * sign, dh[k], U * (Math.abs(base) + scale), "dh[" + k + "] at h=" + h[k] + " acc=" + acc);
                }
            }
            // F = weight / rows * sum |h| (the mean over the rows of out), differentiable away from 0.
            float[] dh = new float[n];
            LayerKernels.activityL1Backward(dh, h, scale, false, n);
            for (int k = 0; k < n; k++) {
                if (Math.abs(h[k]) > 1e-3) {
                    final int kk = k;
                    double fd = central(hd, k, v -> scale * Math.abs(v[kk]));
                    fdClose(fd, dh[k], scale, "dh[" + k + "]");
                }
            }
        }
    }

    // ----------------------------------------------------------------- contractive

    static final Activation[] CONTRACTIVE = {Activation.TANH, Activation.SIGMOID, Activation.IDENTITY};

    static double act(Activation a, double x) {
        return switch (a) {
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            default -> x;
        };
    }

    /** The pre-activation a with act(a) = h. */
    static double inverse(Activation a, double h) {
        return switch (a) {
            case TANH -> 0.5 * Math.log((1 + h) / (1 - h));
            case SIGMOID -> Math.log(h / (1 - h));
            default -> h;
        };
    }

    /** act'(a) from the output h. */
    static double slope(Activation a, double h) {
        return switch (a) {
            case TANH -> 1 - h * h;
            case SIGMOID -> h * (1 - h);
            default -> 1;
        };
    }

    /** act''(a) from the output h: tanh'' = -2 t (1 - t^2), sigmoid'' = s (1 - s) (1 - 2 s). */
    static double curvature(Activation a, double h) {
        return switch (a) {
            case TANH -> -2 * h * (1 - h * h);
            case SIGMOID -> h * (1 - h) * (1 - 2 * h);
            default -> 0;
        };
    }

    static float[] codes(Activation a, SplittableRandom r, int n) {
        return switch (a) {
            case TANH -> uniform(r, n, -0.95, 0.95);
            case SIGMOID -> uniform(r, n, 0.02, 0.98);
            default -> uniform(r, n, -3, 3);
        };
    }

    static double[] rowNormsRef(float[] w, int wOff, int units, int in) {
        double[] n = new double[units];
        for (int j = 0; j < units; j++) {
            for (int i = 0; i < in; i++) {
                n[j] += (double) w[wOff + j * in + i] * w[wOff + j * in + i];
            }
        }
        return n;
    }

    @Test
    void rowNormsSquaredReadsTheWeightAtItsOffset() {
        SplittableRandom r = new SplittableRandom(13);
        for (int[] s : SHAPES) {
            int units = s[0], in = s[1], wOff = 5;
            float[] w = uniform(r, wOff + units * in + 3, -1, 1);
            double[] norms = new double[units + 1];
            norms[units] = 42;
            LayerKernels.rowNormsSquared(norms, w, wOff, units, in);
            double[] ref = rowNormsRef(w, wOff, units, in);
            for (int j = 0; j < units; j++) {
                close(ref[j], norms[j], 2 * (in + 4) * E * ref[j], "row " + j + " of " + units + "x" + in);
            }
            assertEquals(42, norms[units], "wrote past the units");
        }
    }

    /** Penalty of one row: weight sum_j act'(act(a_j))^2 rowNorm_j, as a function of the pre-activations a. */
    static double contractiveRef(Activation act, double[] a, int off, double[] rowNorm, double weight) {
        double s = 0;
        for (int j = 0; j < rowNorm.length; j++) {
            double sl = slope(act, act(act, a[off + j]));
            s += sl * sl * rowNorm[j];
        }
        return weight * s;
    }

    @Test
    void contractiveForwardIsTheJacobianNormPerRow() {
        SplittableRandom r = new SplittableRandom(14);
        float weight = 0.1f;
        for (Activation act : CONTRACTIVE) {
            for (int[] s : SHAPES) {
                int rows = s[0], units = s[1];
                float[] h = codes(act, r, rows * units), out = new float[rows];
                double[] rowNorm = d(uniform(r, units, 0.1, 20));
                LayerKernels.contractiveForward(out, h, rowNorm, act, weight, rows, units);
                for (int i = 0; i < rows; i++) {
                    double ref = 0;
                    for (int j = 0; j < units; j++) {
                        double sl = slope(act, h[i * units + j]);
                        ref += sl * sl * rowNorm[j];
                    }
                    ref *= weight;
                    close(ref, out[i], 2 * U * ref + 1e-30, act + " row " + i + " of " + rows + "x" + units);
                }
            }
        }
    }

    @Test
    void contractiveBackwardTimesTheSlopeIsTheGradientInThePreActivation() {
        SplittableRandom r = new SplittableRandom(15);
        float weight = 0.1f;
        for (Activation act : CONTRACTIVE) {
            for (int[] s : SHAPES) {
                int rows = s[0], units = s[1], n = rows * units;
                float scale = weight / rows;
                float[] h = codes(act, r, n), dx0 = uniform(r, n, -1, 1);
                double[] rowNorm = d(uniform(r, units, 0.1, 20));
                for (boolean acc : new boolean[] {false, true}) {
                    float[] dh = acc ? dx0.clone() : nans(n);
                    LayerKernels.contractiveBackward(dh, h, rowNorm, act, scale, acc, rows, units);
                    for (int k = 0; k < n; k++) {
                        // scale rowNorm d(act'^2)/da / act' = scale rowNorm 2 act''
                        double g = scale * rowNorm[k % units] * 2 * curvature(act, h[k]), base = acc ? dx0[k] : 0;
                        close(base + g, dh[k], 2 * U * (Math.abs(base) + Math.abs(g)) + 1e-30,
                                act + " dh[" + k + "] " + rows + "x" + units + " acc=" + acc);
                    }
                }
                // The layer's backward multiplies dh by act'(a): that is d/da of the penalty's mean over the rows.
                float[] dh = new float[n];
                LayerKernels.contractiveBackward(dh, h, rowNorm, act, scale, false, rows, units);
                double[] a = new double[n];
                for (int k = 0; k < n; k++) {
                    a[k] = inverse(act, h[k]);
                }
                for (int k = 0; k < n; k++) {
                    int row = k / units;
                    double fd = central(a, k, v -> contractiveRef(act, v, row * units, rowNorm, weight) / rows);
                    double got = dh[k] * slope(act, h[k]);
                    fdClose(fd, got, 2 * scale * rowNorm[k % units], act + " d/da[" + k + "] " + rows + "x" + units);
                }
            }
        }
    }

    @Test
    void contractiveWeightBackwardAddsTheWeightsOwnTerm() {
        SplittableRandom r = new SplittableRandom(16);
        float weight = 0.1f;
        for (Activation act : CONTRACTIVE) {
            for (int[] s : SHAPES) {
                int rows = s[0], units = s[1], in = 9, off = 3, dOff = 2;
                float[] h = codes(act, r, rows * units), w = uniform(r, off + units * in + 2, -1, 1);
                float[] dw0 = uniform(r, dOff + units * in + 2, -1, 1), dw = dw0.clone();
                LayerKernels.contractiveWeightBackward(dw, dOff, w, off, h, new double[units], act, weight, rows, units, in);
                float[] dwOnly = new float[dw.length]; // the term alone, for the finite differences
                LayerKernels.contractiveWeightBackward(dwOnly, dOff, w, off, h, new double[units], act, weight, rows, units, in);
                double[] wd = d(w);
                for (int j = 0; j < units; j++) {
                    double ms = 0;
                    for (int i = 0; i < rows; i++) {
                        double sl = slope(act, h[i * units + j]);
                        ms += sl * sl;
                    }
                    ms /= rows;
                    for (int i = 0; i < in; i++) {
                        int k = dOff + j * in + i, wk = off + j * in + i;
                        double g = 2 * weight * ms * w[wk];
                        close(dw0[k] + g, dw[k], 3 * U * (Math.abs(dw0[k]) + Math.abs(g)) + 1e-30,
                                act + " dW[" + j + "][" + i + "] " + rows + "x" + units);
                        // P(W) = weight / rows sum_r sum_j act'(h_rj)^2 rowNorm_j(W), h held fixed.
                        final int jj = j;
                        double fd = central(wd, wk, v -> {
                            double norm = 0;
                            for (int t = 0; t < in; t++) {
                                norm += v[off + jj * in + t] * v[off + jj * in + t];
                            }
                            double sum = 0;
                            for (int t = 0; t < rows; t++) {
                                double sl = slope(act, h[t * units + jj]);
                                sum += sl * sl * norm;
                            }
                            return weight * sum / rows;
                        });
                        fdClose(fd, dwOnly[k], 2 * weight * ms, act + " dW[" + j + "][" + i + "]");
                    }
                }
                for (int k = 0; k < dw.length; k++) {
                    if (k < dOff || k >= dOff + units * in) {
                        assertEquals(dw0[k], dw[k], "dW written outside its range at " + k);
                    }
                }
            }
        }
    }

    @Test
    void contractiveKernelsRejectActivationsWithoutAPenalty() {
        float[] h = {0.5f}, out = new float[1];
        double[] norm = {1};
        for (Activation act : Activation.values()) {
            if (Arrays.asList(CONTRACTIVE).contains(act)) {
                continue;
            }
            var e = assertThrows(IllegalArgumentException.class, () -> LayerKernels.contractiveForward(out, h, norm, act, 1f, 1, 1));
            assertTrue(e.getMessage().contains("no contractive penalty for " + act), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> LayerKernels.contractiveBackward(out, h, norm, act, 1f, false, 1, 1));
            assertThrows(IllegalArgumentException.class,
                    () -> LayerKernels.contractiveWeightBackward(new float[1], 0, new float[1], 0, h, new double[1], act, 1f, 1, 1, 1));
        }
    }

    // ----------------------------------------------------------------- batch normalization

    /** Columns with an offset mean (cancellation in x - mean) and one constant column (variance exactly 0). */
    static float[] batch(SplittableRandom r, int rows, int cols) {
        float[] x = uniform(r, rows * cols, -1, 3);
        if (cols >= 3) {
            for (int i = 0; i < rows; i++) {
                x[i * cols + 2] = 1.5f;
            }
        }
        return x;
    }

    static double[][] statsRef(double[] x, int rows, int cols) {
        double[] mean = new double[cols], var = new double[cols];
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                mean[j] += x[i * cols + j];
            }
            mean[j] /= rows;
            for (int i = 0; i < rows; i++) {
                double dd = x[i * cols + j] - mean[j];
                var[j] += dd * dd;
            }
            var[j] /= rows;
        }
        return new double[][] {mean, var};
    }

    static double[] invStdRef(double[] var, double eps) {
        double[] s = new double[var.length];
        for (int j = 0; j < var.length; j++) {
            s[j] = 1 / Math.sqrt(var[j] + eps);
        }
        return s;
    }

    @Test
    void batchStatisticsAreTheColumnMeanAndBiasedVariance() {
        SplittableRandom r = new SplittableRandom(17);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1];
            float[] x = batch(r, rows, cols);
            double[] mean = new double[cols + 1], var = new double[cols + 1];
            mean[cols] = var[cols] = 42;
            LayerKernels.batchStatistics(mean, var, x, rows, cols);
            double[][] ref = statsRef(d(x), rows, cols);
            for (int j = 0; j < cols; j++) {
                double absMean = 0;
                for (int i = 0; i < rows; i++) {
                    absMean += Math.abs(x[i * cols + j]) / rows;
                }
                close(ref[0][j], mean[j], 2 * (rows + 4) * E * absMean, "mean[" + j + "] " + rows + "x" + cols);
                close(ref[1][j], var[j], 4 * (rows + 4) * E * (ref[1][j] + absMean * absMean), "var[" + j + "] " + rows + "x" + cols);
            }
            if (cols >= 3 || rows == 1) {
                assertEquals(0.0, var[Math.min(2, cols - 1)], "a constant column has variance exactly 0");
            }
            assertEquals(42, mean[cols]);
            assertEquals(42, var[cols]);
        }
    }

    @Test
    void inverseStdIsOneOverSqrtOfVariancePlusEps() {
        double[] var = {0, 1e-9, 0.25, 1, 3.7, 1e4}, s = new double[var.length];
        for (float eps : new float[] {1e-5f, 1e-3f}) {
            LayerKernels.inverseStd(s, var, eps, var.length);
            double[] ref = invStdRef(var, eps);
            for (int j = 0; j < var.length; j++) {
                close(ref[j], s[j], 4 * E * ref[j], "invStd for var " + var[j] + " eps " + eps);
            }
        }
    }

    static final int GAMMA_OFF = 3;

    /** Parameters [pad x3, gamma (cols), pad, beta (cols), pad]. */
    static float[] bnParams(SplittableRandom r, int cols) {
        float[] p = uniform(r, GAMMA_OFF + 2 * cols + 2, -1, 1);
        for (int j = 0; j < cols; j++) {
            p[GAMMA_OFF + j] = (float) (0.5 + r.nextDouble()); // gamma in [0.5, 1.5)
        }
        return p;
    }

    static int betaOff(int cols) {
        return GAMMA_OFF + cols + 1;
    }

    static boolean isGammaOrBeta(int k, int cols) {
        return (k >= GAMMA_OFF && k < GAMMA_OFF + cols) || (k >= betaOff(cols) && k < betaOff(cols) + cols);
    }

    @Test
    void batchNormForwardNormalizesWithTheGivenStatistics() {
        SplittableRandom r = new SplittableRandom(18);
        float eps = 1e-5f;
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], bo = betaOff(cols);
            float[] x = batch(r, rows, cols), p = bnParams(r, cols), p0 = p.clone();
            double[][] st = statsRef(d(x), rows, cols);
            double[] runMean = d(uniform(r, cols, -1, 2)), runVar = d(uniform(r, cols, 0.1, 3));
            // Training (the batch's statistics) and inference (running ones).
            for (double[][] ms : new double[][][] {{st[0], invStdRef(st[1], eps)}, {runMean, invStdRef(runVar, eps)}}) {
                double[] mean = ms[0], inv = ms[1];
                float[] y = nans(rows * cols), scale = new float[cols], shift = new float[cols];
                LayerKernels.batchNormForward(y, x, mean, inv, p, GAMMA_OFF, bo, scale, shift, rows, cols);
                for (int j = 0; j < cols; j++) {
                    double a = p[GAMMA_OFF + j] * inv[j], c = p[bo + j] - a * mean[j];
                    close(a, scale[j], U * Math.abs(a), "scale[" + j + "]");
                    close(c, shift[j], U * (Math.abs(p[bo + j]) + Math.abs(a * mean[j])) + 1e-30, "shift[" + j + "]");
                    for (int i = 0; i < rows; i++) {
                        int k = i * cols + j;
                        double ref = p[GAMMA_OFF + j] * (x[k] - mean[j]) * inv[j] + p[bo + j];
                        // y = a x + c with a and c rounded to float, then one fma: M = |a x| + |beta| + |a mean|.
                        double m = Math.abs(a * x[k]) + Math.abs(p[bo + j]) + Math.abs(a * mean[j]);
                        close(ref, y[k], 3 * U * m + 1e-30, "y[" + i + "][" + j + "] " + rows + "x" + cols);
                    }
                }
            }
            assertArrayEquals(p0, p, "the forward must not write the parameters");
        }
    }

    /** Training forward in double: gamma (x - mean(x)) / sqrt(var(x) + eps) + beta, v = [x, gamma, beta]. */
    static double[] bnTrainRef(double[] v, int rows, int cols, double eps) {
        int n = rows * cols;
        double[][] st = statsRef(Arrays.copyOf(v, n), rows, cols);
        double[] inv = invStdRef(st[1], eps), y = new double[n];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                int k = i * cols + j;
                y[k] = v[n + j] * (v[k] - st[0][j]) * inv[j] + v[n + cols + j];
            }
        }
        return y;
    }

    @Test
    void batchNormBackwardMatchesTwinAndFiniteDifferencesOfTheTrainingForward() {
        SplittableRandom r = new SplittableRandom(19);
        float eps = 1e-3f;
        for (int[] s : new int[][] {{7, 13}, {11, 37}, {2, 5}}) {
            int rows = s[0], cols = s[1], n = rows * cols, bo = betaOff(cols);
            float[] x = uniform(r, n, -1, 3), p = bnParams(r, cols), dy = uniform(r, n, -1, 1), dx0 = uniform(r, n, -1, 1);
            double[][] st = statsRef(d(x), rows, cols);
            double[] mean = st[0], inv = invStdRef(st[1], eps);
            // The twin, from the Javadoc.
            double[] dgamma = new double[cols], dbeta = new double[cols], mg = new double[cols], mb = new double[cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    int k = i * cols + j;
                    double xhat = (x[k] - mean[j]) * inv[j];
                    dgamma[j] += dy[k] * xhat;
                    dbeta[j] += dy[k];
                    mg[j] += Math.abs(dy[k] * xhat);
                    mb[j] += Math.abs(dy[k]);
                }
            }
            double[] dxRef = new double[n], mdx = new double[n];
            for (int k = 0; k < n; k++) {
                int j = k % cols;
                double xhat = (x[k] - mean[j]) * inv[j], gi = p[GAMMA_OFF + j] * inv[j];
                dxRef[k] = gi * (dy[k] - dbeta[j] / rows - xhat * dgamma[j] / rows);
                mdx[k] = Math.abs(gi) * (Math.abs(dy[k]) + mb[j] / rows + Math.abs(xhat) * mg[j] / rows);
            }
            for (int mode = 0; mode < 3; mode++) { // dx null, overwritten, accumulated
                boolean acc = mode == 2;
                float[] grads = nans(p.length), dx = mode == 0 ? null : acc ? dx0.clone() : nans(n);
                for (int k = 0; k < grads.length; k++) {
                    if (!isGammaOrBeta(k, cols)) {
                        grads[k] = 7f; // must stay
                    }
                }
                LayerKernels.batchNormBackward(dx, acc, grads, dy, x, mean, inv, p, GAMMA_OFF, bo, new double[cols], new double[cols],
                        rows, cols);
                for (int j = 0; j < cols; j++) {
                    close(dgamma[j], grads[GAMMA_OFF + j], 2 * U * mg[j] + 1e-30, "dgamma[" + j + "] mode " + mode);
                    close(dbeta[j], grads[bo + j], 2 * U * mb[j] + 1e-30, "dbeta[" + j + "] mode " + mode);
                }
                for (int k = 0; k < grads.length; k++) {
                    if (!isGammaOrBeta(k, cols)) {
                        assertEquals(7f, grads[k], "grads written outside gamma and beta at " + k);
                    }
                }
                if (dx == null) {
                    continue;
                }
                for (int k = 0; k < n; k++) {
                    double base = acc ? dx0[k] : 0;
                    close(base + dxRef[k], dx[k], 2 * U * (Math.abs(base) + Math.abs(dxRef[k])) + 4 * (rows + 4) * E * mdx[k] + 1e-30,
                            "dx[" + k + "] " + rows + "x" + cols + " acc=" + acc);
                }
                if (!acc) {
                    for (int j = 0; j < cols; j++) { // the rows' dx sum to 0 (gradient through the batch mean)
                        double sum = 0, abs = 0;
                        for (int i = 0; i < rows; i++) {
                            sum += dx[i * cols + j];
                            abs += Math.abs(dx[i * cols + j]) + mdx[i * cols + j];
                        }
                        assertTrue(Math.abs(sum) <= 4 * U * abs, "column " + j + " of dx sums to " + sum);
                    }
                }
            }
            // Finite differences of L = sum dy * y(x, gamma, beta) through the batch's mean and variance.
            float[] grads = new float[p.length], dx = new float[n];
            LayerKernels.batchNormBackward(dx, false, grads, dy, x, mean, inv, p, GAMMA_OFF, bo, new double[cols], new double[cols],
                    rows, cols);
            double[] v = new double[n + 2 * cols];
            System.arraycopy(d(x), 0, v, 0, n);
            for (int j = 0; j < cols; j++) {
                v[n + j] = p[GAMMA_OFF + j];
                v[n + cols + j] = p[bo + j];
            }
            ToDoubleFunction<double[]> loss = w -> {
                double[] y = bnTrainRef(w, rows, cols, eps);
                double l = 0;
                for (int k = 0; k < n; k++) {
                    l += dy[k] * y[k];
                }
                return l;
            };
            for (int k = 0; k < v.length; k++) {
                double fd = central(v, k, loss);
                if (k < n) {
                    fdClose(fd, dx[k], mdx[k], "dx[" + k + "] " + rows + "x" + cols);
                } else if (k < n + cols) {
                    fdClose(fd, grads[GAMMA_OFF + k - n], mg[k - n], "dgamma[" + (k - n) + "]");
                } else {
                    fdClose(fd, grads[bo + k - n - cols], mb[k - n - cols], "dbeta[" + (k - n - cols) + "]");
                }
            }
        }
    }

    @Test
    void batchNormRunningUpdateBlendsInTheUnbiasedBatchVariance() {
        SplittableRandom r = new SplittableRandom(20);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], meanOff = 2, varOff = 2 + cols + 1;
            for (float momentum : new float[] {0.1f, 1f, 0f}) {
                float[] p0 = uniform(r, varOff + cols + 2, 0.1, 2), p = p0.clone();
                double[] mean = d(uniform(r, cols, -1, 1)), var = d(uniform(r, cols, 0.01, 3));
                LayerKernels.batchNormRunningUpdate(p, meanOff, varOff, mean, var, momentum, rows, cols);
                double unbias = rows > 1 ? rows / (rows - 1.0) : 1; // as PyTorch; one row: no correction
                for (int j = 0; j < cols; j++) {
                    double a = (1 - (double) momentum) * p0[meanOff + j], b = momentum * mean[j];
                    close(a + b, p[meanOff + j], 3 * U * (Math.abs(a) + Math.abs(b)) + 1e-30, "running mean[" + j + "] m=" + momentum);
                    a = (1 - (double) momentum) * p0[varOff + j];
                    b = momentum * var[j] * unbias;
                    close(a + b, p[varOff + j], 3 * U * (Math.abs(a) + Math.abs(b)) + 1e-30,
                            "running var[" + j + "] m=" + momentum + " rows=" + rows);
                }
                for (int k = 0; k < p.length; k++) {
                    boolean inside = (k >= meanOff && k < meanOff + cols) || (k >= varOff && k < varOff + cols);
                    if (!inside) {
                        assertEquals(p0[k], p[k], "written outside the running statistics at " + k);
                    }
                }
            }
        }
    }

    // ----------------------------------------------------------------- rows do not depend on the split

    @Test
    void aRowsValueDoesNotDependOnTheOtherRows() {
        SplittableRandom r = new SplittableRandom(21);
        int rows = 7, cols = 13, n = rows * cols;
        float[] a = uniform(r, n, -3, 3), b = uniform(r, n, -3, 3), h = codes(Activation.TANH, r, n);
        double[] norm = d(uniform(r, cols, 0.1, 5));
        float[] hub = new float[rows], l1 = new float[rows], con = new float[rows];
        LayerKernels.huberForward(hub, a, b, 1f, rows, cols);
        LayerKernels.activityL1Forward(l1, a, 0.3f, rows, cols);
        LayerKernels.contractiveForward(con, h, norm, Activation.TANH, 0.1f, rows, cols);
        for (int i = 0; i < rows; i++) {
            float[] one = new float[1];
            float[] ai = Arrays.copyOfRange(a, i * cols, (i + 1) * cols), bi = Arrays.copyOfRange(b, i * cols, (i + 1) * cols);
            LayerKernels.huberForward(one, ai, bi, 1f, 1, cols);
            assertEquals(hub[i], one[0], "huber row " + i);
            LayerKernels.activityL1Forward(one, ai, 0.3f, 1, cols);
            assertEquals(l1[i], one[0], "activity L1 row " + i);
            LayerKernels.contractiveForward(one, Arrays.copyOfRange(h, i * cols, (i + 1) * cols), norm, Activation.TANH, 0.1f, 1, cols);
            assertEquals(con[i], one[0], "contractive row " + i);
        }
    }
}
