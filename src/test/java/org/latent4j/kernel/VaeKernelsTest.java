package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The VAE kernels against closed forms in double, finite differences and Monte Carlo. */
class VaeKernelsTest {
    static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }

    static double klRef(float[] mu, float[] lv, int off, int n) {
        double s = 0;
        for (int i = off; i < off + n; i++) {
            s += mu[i] * (double) mu[i] + Math.exp(lv[i]) - 1 - lv[i];
        }
        return 0.5 * s;
    }

    @Test
    void reparameterizeMatchesFormula() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : new int[] {1, 7, 8, 9, 33, 100}) {
            float[] mu = uniform(r, n, -2, 2), lv = uniform(r, n, -4, 2), eps = uniform(r, n, -3, 3), z = new float[n];
            VaeKernels.reparameterize(z, mu, lv, eps, n);
            for (int i = 0; i < n; i++) {
                double ref = mu[i] + Math.exp(0.5 * lv[i]) * eps[i];
                assertEquals(ref, z[i], 1e-5 * (Math.abs(mu[i]) + Math.abs(ref)) + 1e-6, "z[" + i + "]");
            }
        }
    }

    @Test
    void reparameterizedSamplesHaveTheRightMeanAndVariance() {
        int n = 200_000;
        float mu0 = 1.5f, lv0 = -0.7f;
        float[] mu = new float[n], lv = new float[n], eps = new float[n], z = new float[n];
        java.util.Arrays.fill(mu, mu0);
        java.util.Arrays.fill(lv, lv0);
        Philox.fillNormal(eps, 0, n, 2024, 0, 0);
        VaeKernels.reparameterize(z, mu, lv, eps, n);
        double m = 0, v = 0;
        for (float x : z) {
            m += x;
        }
        m /= n;
        for (float x : z) {
            v += (x - m) * (x - m);
        }
        v /= n - 1;
        double var = Math.exp(lv0);
        // 4 standard errors: of the mean sqrt(var/n), of the variance var*sqrt(2/(n-1)).
        assertEquals(mu0, m, 4 * Math.sqrt(var / n));
        assertEquals(var, v, 4 * var * Math.sqrt(2.0 / (n - 1)));
    }

    @Test
    void klMatchesClosedFormPerRow() {
        SplittableRandom r = new SplittableRandom(2);
        for (int cols : new int[] {1, 2, 8, 9, 32, 33}) {
            int rows = 5;
            float[] mu = uniform(r, rows * cols, -3, 3), lv = uniform(r, rows * cols, -5, 3);
            lv[0] = 1e-6f; // near zero: expm1 keeps e^lv - 1 - lv accurate
            float[] out = new float[rows];
            VaeKernels.gaussianKl(out, mu, lv, rows, cols);
            for (int i = 0; i < rows; i++) {
                double ref = klRef(mu, lv, i * cols, cols);
                assertEquals(ref, out[i], 1e-5 * ref + 1e-7, "row " + i + " cols " + cols);
            }
        }
    }

    @Test
    void klAgreesWithMonteCarloEstimate() {
        // KL(q||p) = E_q[log q(z) - log p(z)], estimated from samples of q in double.
        float[] mu = {0.8f, -1.2f, 0.1f}, lv = {-0.5f, 0.7f, -2f};
        float[] out = new float[1];
        VaeKernels.gaussianKl(out, mu, lv, 1, 3);
        int n = 400_000;
        float[] eps = new float[n * 3];
        Philox.fillNormal(eps, 0, eps.length, 77, 3, 0);
        double sum = 0, sumSq = 0;
        for (int s = 0; s < n; s++) {
            double d = 0;
            for (int j = 0; j < 3; j++) {
                double e = eps[s * 3 + j];
                double z = mu[j] + Math.exp(0.5 * lv[j]) * e;
                d += (-0.5 * lv[j] - 0.5 * e * e) - (-0.5 * z * z);
            }
            sum += d;
            sumSq += d * d;
        }
        double mean = sum / n, se = Math.sqrt((sumSq / n - mean * mean) / n);
        assertEquals(mean, out[0], 4 * se, "Monte Carlo KL " + mean + " +- " + se);
    }

    @Test
    void reparameterizeKlBackwardMatchesFiniteDifferences() {
        // F(mu, lv) = sum_i w_i z_i(mu, lv, eps) + scale * KL(mu, lv); dF/dz = w.
        SplittableRandom r = new SplittableRandom(3);
        int n = 19;
        float scale = 0.7f;
        float[] mu = uniform(r, n, -2, 2), lv = uniform(r, n, -3, 1), eps = uniform(r, n, -2, 2), w = uniform(r, n, -1, 1);
        float[] dmu = new float[n], dlv = new float[n];
        VaeKernels.reparameterizeKlBackward(dmu, dlv, w, mu, lv, eps, scale, n);
        for (int i = 0; i < n; i++) {
            double h = 1e-5;
            double fmu = (f(mu, lv, eps, w, scale, i, h, 0) - f(mu, lv, eps, w, scale, i, -h, 0)) / (2 * h);
            double flv = (f(mu, lv, eps, w, scale, i, h, 1) - f(mu, lv, eps, w, scale, i, -h, 1)) / (2 * h);
            assertEquals(fmu, dmu[i], 1e-4 * Math.max(1, Math.abs(fmu)), "dmu[" + i + "]");
            assertEquals(flv, dlv[i], 1e-4 * Math.max(1, Math.abs(flv)), "dlogvar[" + i + "]");
        }
    }

    @Test
    void reparameterizeKlBackwardMatchesClosedForm() {
        // dmu = dz + s mu (one fma: u |dz| + u |s mu|); dlogvar = dz eps 0.5 e^(lv/2) + s 0.5 (e^lv - 1), with
        // e^(lv/2) from VMath (within 3 ulp), squared for e^lv, and a few float products: 16 u times the magnitudes.
        SplittableRandom r = new SplittableRandom(6);
        double u = Math.ulp(1f) / 2;
        for (int n : new int[] {1, 7, 8, 9, 33, 100}) {
            for (float s : new float[] {0f, 0.7f}) {
                float[] mu = uniform(r, n, -2, 2), lv = uniform(r, n, -4, 2), eps = uniform(r, n, -3, 3), dz = uniform(r, n, -1, 1);
                lv[0] = 0f;
                float[] dmu = new float[n], dlv = new float[n];
                VaeKernels.reparameterizeKlBackward(dmu, dlv, dz, mu, lv, eps, s, n);
                for (int i = 0; i < n; i++) {
                    double sd = Math.exp(0.5 * lv[i]);
                    double refMu = dz[i] + (double) s * mu[i];
                    double a = 0.5 * dz[i] * eps[i] * sd, b = 0.5 * s * (Math.exp(lv[i]) - 1);
                    assertEquals(refMu, dmu[i], 2 * u * (Math.abs(dz[i]) + Math.abs(s * mu[i])) + 1e-30, "dmu[" + i + "] n=" + n);
                    assertEquals(a + b, dlv[i], 16 * u * (Math.abs(a) + 0.5 * Math.abs(s) * (Math.exp(lv[i]) + 1)) + 1e-30,
                            "dlogvar[" + i + "] n=" + n + " s=" + s);
                }
            }
        }
    }

    @Test
    void klBackwardByDimensionAddsTheWeightedKlGradient() {
        // dmu += scale w_c mu, dlogvar += scale w_c 0.5 (e^lv - 1), in float: scale w_c (u), the product (u),
        // e^lv rounded (u) and the sum (u), so 5 u times the magnitudes |dmu0| + |scale w mu| (resp. the
        // e^lv + 1 form for logvar). Then central differences of F = scale sum_c w_c KL_c in double.
        SplittableRandom r = new SplittableRandom(7);
        double u = Math.ulp(1f) / 2;
        for (int[] shape : new int[][] {{1, 1}, {7, 13}, {3, 37}}) {
            int rows = shape[0], cols = shape[1], n = rows * cols;
            float scale = 1f / rows;
            float[] mu = uniform(r, n, -2, 2), lv = uniform(r, n, -4, 2), w = uniform(r, cols, 0, 1);
            w[0] = 0f; // a dimension whose KL is switched off
            if (n > 1) {
                lv[1] = 0f; // e^0 - 1: no gradient from the variance
            }
            float[] dmu0 = uniform(r, n, -1, 1), dlv0 = uniform(r, n, -1, 1), dmu = dmu0.clone(), dlv = dlv0.clone();
            VaeKernels.klBackwardByDimension(dmu, dlv, mu, lv, w, scale, rows, cols);
            float[] gmu = new float[n], glv = new float[n];
            VaeKernels.klBackwardByDimension(gmu, glv, mu, lv, w, scale, rows, cols);
            double[] m = new double[n], l = new double[n];
            for (int k = 0; k < n; k++) {
                m[k] = mu[k];
                l[k] = lv[k];
            }
            for (int k = 0; k < n; k++) {
                double wc = (double) scale * w[k % cols], e = Math.exp(lv[k]);
                double refMu = wc * mu[k], refLv = wc * 0.5 * (e - 1), magLv = wc * 0.5 * (e + 1);
                assertEquals(dmu0[k] + refMu, dmu[k], 5 * u * (Math.abs(dmu0[k]) + Math.abs(refMu)) + 1e-30, "dmu[" + k + "]");
                assertEquals(dlv0[k] + refLv, dlv[k], 5 * u * (Math.abs(dlv0[k]) + magLv) + 1e-30, "dlogvar[" + k + "]");
                double fdMu = klFd(m, k, w, scale, cols, m, l), fdLv = klFd(l, k, w, scale, cols, m, l);
                assertEquals(fdMu, gmu[k], 1e-6 * (Math.abs(fdMu) + Math.abs(wc) * (1 + Math.abs(mu[k]))), "dmu[" + k + "] (finite difference)");
                assertEquals(fdLv, glv[k], 1e-6 * (Math.abs(fdLv) + magLv), "dlogvar[" + k + "] (finite difference)");
            }
        }
    }

    /** Central difference in v[k] (v is m or l) of scale sum_k w_c 0.5 (mu^2 + e^lv - 1 - lv). */
    private static double klFd(double[] v, int k, float[] w, float scale, int cols, double[] m, double[] l) {
        double x = v[k], h = 1e-6 * Math.max(1, Math.abs(x));
        v[k] = x + h;
        double fp = weightedKl(m, l, w, scale, cols);
        v[k] = x - h;
        double fm = weightedKl(m, l, w, scale, cols);
        v[k] = x;
        return (fp - fm) / (2 * h);
    }

    private static double weightedKl(double[] m, double[] l, float[] w, float scale, int cols) {
        double s = 0;
        for (int k = 0; k < m.length; k++) {
            s += (double) scale * w[k % cols] * 0.5 * (m[k] * m[k] + Math.exp(l[k]) - 1 - l[k]);
        }
        return s;
    }

    private static double f(float[] mu, float[] lv, float[] eps, float[] w, float scale, int at, double h, int which) {
        double s = 0, kl = 0;
        for (int i = 0; i < mu.length; i++) {
            double m = mu[i] + (which == 0 && i == at ? h : 0);
            double l = lv[i] + (which == 1 && i == at ? h : 0);
            s += w[i] * (m + Math.exp(0.5 * l) * eps[i]);
            kl += 0.5 * (m * m + Math.exp(l) - 1 - l);
        }
        return s + scale * kl;
    }

    @Test
    void bceWithLogitsMatchesReferenceAndIsStableAtHugeLogits() {
        SplittableRandom r = new SplittableRandom(4);
        int rows = 3, cols = 37;
        float[] x = uniform(r, rows * cols, -12, 12), t = uniform(r, rows * cols, 0, 1);
        x[0] = 100f;
        x[1] = -100f;
        t[0] = 0f;
        t[1] = 1f;
        x[2] = 100f;
        t[2] = 1f;
        float[] out = new float[rows];
        VaeKernels.bceWithLogits(out, x, t, rows, cols);
        for (int i = 0; i < rows; i++) {
            double ref = 0, abs = 0;
            for (int c = 0; c < cols; c++) {
                double xv = x[i * cols + c], tv = t[i * cols + c];
                double term = Math.max(xv, 0) - xv * tv + Math.log1p(Math.exp(-Math.abs(xv)));
                ref += term;
                abs += Math.abs(term) + Math.abs(xv * tv);
            }
            assertTrue(Float.isFinite(out[i]));
            assertEquals(ref, out[i], 2e-6 * abs + 1e-6, "row " + i);
        }
        float[] dx = new float[rows * cols];
        float scale = 1f / rows;
        VaeKernels.bceWithLogitsBackward(dx, x, t, scale, rows * cols);
        for (int i = 0; i < rows * cols; i++) {
            double p = 1 / (1 + Math.exp(-(double) x[i]));
            assertEquals(scale * (p - t[i]), dx[i], 1e-6, "dlogit " + i);
        }
        // Finite differences of the per-element loss on moderate logits.
        for (int i = 3; i < 10; i++) {
            double h = 1e-4, xv = x[i], tv = t[i];
            double fd = (bce(xv + h, tv) - bce(xv - h, tv)) / (2 * h);
            assertEquals(fd * scale, dx[i], 1e-5);
        }
    }

    private static double bce(double x, double t) {
        return Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
    }

    @Test
    void squaredErrorAndItsGradient() {
        SplittableRandom r = new SplittableRandom(5);
        int rows = 4, cols = 21;
        float[] x = uniform(r, rows * cols, -2, 2), t = uniform(r, rows * cols, -2, 2);
        float[] out = new float[rows];
        VaeKernels.squaredError(out, x, t, rows, cols);
        for (int i = 0; i < rows; i++) {
            double ref = 0;
            for (int c = 0; c < cols; c++) {
                double d = x[i * cols + c] - (double) t[i * cols + c];
                ref += d * d;
            }
            assertEquals(ref, out[i], 1e-5 * ref + 1e-7);
        }
        float[] dx = new float[rows * cols];
        VaeKernels.squaredErrorBackward(dx, x, t, 0.5f, rows * cols);
        for (int i = 0; i < rows * cols; i++) {
            assertEquals(0.5 * 2 * (x[i] - (double) t[i]), dx[i], 1e-6);
        }
    }

    @Test
    void nanInLogitsGivesNanLossForItsRowOnly() {
        float[] x = new float[2 * 9], t = new float[2 * 9];
        x[9 + 4] = Float.NaN;
        float[] out = new float[2];
        VaeKernels.bceWithLogits(out, x, t, 2, 9);
        assertTrue(Float.isFinite(out[0]));
        assertTrue(Float.isNaN(out[1]));
    }
}
