package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ConvKernels} (pooling, nearest upsampling, per-channel batch norm) against naive double twins written here. */
class ConvKernelsTest {
    static final double U = Math.ulp(1.0f) / 2;

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** (batch, channels, height, width, kernel, stride): odd planes, stride below, at and above the kernel. */
    static final int[][] POOLS = {{2, 3, 5, 7, 2, 2}, {1, 2, 5, 7, 3, 1}, {2, 1, 7, 5, 3, 2}, {1, 3, 5, 7, 2, 3}, {2, 2, 6, 6, 1, 2},
        {1, 1, 4, 9, 4, 1}, {3, 2, 28, 28, 2, 2}};

    static void close(float got, double ref, double abs, int terms, String label) {
        double tol = 2 * (terms + 2) * U * abs + 1e-30;
        assertTrue(Math.abs(got - ref) <= tol, label + ": " + got + " but reference is " + ref + " (tolerance " + tol + ")");
    }

    // ---------------------------------------------------------------- max pool

    @Test
    void maxPoolMatchesNaiveTwinAndRecordsTheFirstMaximum() {
        SplittableRandom r = new SplittableRandom(1);
        for (int[] c : POOLS) {
            int b = c[0], ch = c[1], h = c[2], w = c[3], k = c[4], s = c[5];
            int oh = (h - k) / s + 1, ow = (w - k) / s + 1, planes = b * ch;
            float[] x = random(r, 2 + planes * h * w);
            for (int i = 0; i < x.length; i += 7) {
                x[i] = 0.5f;   // ties
            }
            float[] y = new float[1 + planes * oh * ow];
            int[] arg = new int[3 + planes * oh * ow];
            ConvKernels.maxPoolForward(y, 1, arg, 3, x, 2, b, ch, h, w, k, s);
            for (int pl = 0; pl < planes; pl++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double m = Double.NEGATIVE_INFINITY;
                        int at = -1;
                        for (int i = 0; i < k; i++) {
                            for (int j = 0; j < k; j++) {
                                int q = (oy * s + i) * w + ox * s + j;
                                if (x[2 + pl * h * w + q] > m) {
                                    m = x[2 + pl * h * w + q];
                                    at = q;
                                }
                            }
                        }
                        int o = (pl * oh + oy) * ow + ox;
                        String label = "max_pool2d " + java.util.Arrays.toString(c) + " output " + o;
                        assertEquals((float) m, y[1 + o], label);
                        assertEquals(at, arg[3 + o], label + ": argmax");
                    }
                }
            }
            // Backward: dx gets each dy at its argmax (overlapping windows add), the rest 0; accumulate adds.
            float[] dy = random(r, planes * oh * ow);
            double[] ref = new double[planes * h * w];
            for (int o = 0; o < dy.length; o++) {
                ref[o / (oh * ow) * h * w + arg[3 + o]] += dy[o];
            }
            float[] dx = new float[planes * h * w];
            java.util.Arrays.fill(dx, Float.NaN);
            ConvKernels.maxPoolBackward(dx, 0, false, dy, 0, arg, 3, b, ch, h, w, k, s);
            float[] old = random(r, dx.length), acc = old.clone();
            ConvKernels.maxPoolBackward(acc, 0, true, dy, 0, arg, 3, b, ch, h, w, k, s);
            for (int i = 0; i < dx.length; i++) {
                close(dx[i], ref[i], Math.abs(ref[i]) + 2 * k * k, k * k, "max_pool2d backward " + i);
                close(acc[i], old[i] + ref[i], Math.abs(old[i]) + 2 * k * k, k * k, "max_pool2d backward, accumulated " + i);
            }
        }
    }

    @Test
    void maxPoolPropagatesNaN() {
        float[] x = {1, Float.NaN, 3, 4, 5, 6, 7, 8, 9};
        float[] y = new float[4];
        int[] arg = new int[4];
        ConvKernels.maxPoolForward(y, 0, arg, 0, x, 0, 1, 1, 3, 3, 2, 1);
        assertTrue(Float.isNaN(y[0]) && Float.isNaN(y[1]), java.util.Arrays.toString(y));
        assertEquals(1, arg[0]);
        assertEquals(1, arg[1]);
        assertArrayEquals(new float[] {8, 9}, new float[] {y[2], y[3]});
    }

    // ---------------------------------------------------------------- avg pool

    @Test
    void avgPoolMatchesNaiveTwinAndItsBackwardIsTheAdjoint() {
        SplittableRandom r = new SplittableRandom(2);
        for (int[] c : POOLS) {
            int b = c[0], ch = c[1], h = c[2], w = c[3], k = c[4], s = c[5];
            int oh = (h - k) / s + 1, ow = (w - k) / s + 1, planes = b * ch;
            float[] x = random(r, planes * h * w), dy = random(r, planes * oh * ow);
            float[] y = new float[planes * oh * ow];
            ConvKernels.avgPoolForward(y, 0, x, 0, b, ch, h, w, k, s);
            double[] dxRef = new double[x.length];
            for (int pl = 0; pl < planes; pl++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = 0, abs = 0;
                        int o = (pl * oh + oy) * ow + ox;
                        for (int i = 0; i < k; i++) {
                            for (int j = 0; j < k; j++) {
                                int q = pl * h * w + (oy * s + i) * w + ox * s + j;
                                sum += x[q];
                                abs += Math.abs(x[q]);
                                dxRef[q] += dy[o] / (double) (k * k);
                            }
                        }
                        close(y[o], sum / (k * k), abs / (k * k), k * k, "avg_pool2d " + java.util.Arrays.toString(c) + " output " + o);
                    }
                }
            }
            float[] dx = new float[x.length];
            ConvKernels.avgPoolBackward(dx, 0, false, dy, 0, b, ch, h, w, k, s);
            float[] old = random(r, dx.length), acc = old.clone();
            ConvKernels.avgPoolBackward(acc, 0, true, dy, 0, b, ch, h, w, k, s);
            for (int i = 0; i < dx.length; i++) {
                close(dx[i], dxRef[i], 2, 2 * k * k, "avg_pool2d backward " + i);
                close(acc[i], old[i] + dxRef[i], 3, 2 * k * k, "avg_pool2d backward, accumulated " + i);
            }
        }
    }

    // ---------------------------------------------------------------- upsample

    @Test
    void nearestUpsampleCopiesBlocksAndItsBackwardSumsThem() {
        SplittableRandom r = new SplittableRandom(3);
        for (int[] c : new int[][] {{2, 3, 5, 7, 2}, {1, 2, 3, 4, 3}, {2, 1, 7, 7, 1}, {1, 1, 1, 1, 4}}) {
            int b = c[0], ch = c[1], h = c[2], w = c[3], f = c[4], planes = b * ch, oh = h * f, ow = w * f;
            float[] x = random(r, planes * h * w), dy = random(r, planes * oh * ow);
            float[] y = new float[2 + planes * oh * ow];
            ConvKernels.upsampleForward(y, 2, x, 0, b, ch, h, w, f);
            double[] dxRef = new double[x.length];
            for (int pl = 0; pl < planes; pl++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int src = pl * h * w + oy / f * w + ox / f, o = (pl * oh + oy) * ow + ox;
                        assertEquals(x[src], y[2 + o], "upsample " + java.util.Arrays.toString(c) + " output " + o);
                        dxRef[src] += dy[o];
                    }
                }
            }
            float[] dx = new float[1 + x.length];
            ConvKernels.upsampleBackward(dx, 1, false, dy, 0, b, ch, h, w, f);
            float[] old = random(r, dx.length), acc = old.clone();
            ConvKernels.upsampleBackward(acc, 1, true, dy, 0, b, ch, h, w, f);
            assertEquals(0f, dx[0]);
            assertEquals(old[0], acc[0]);
            for (int i = 0; i < x.length; i++) {
                close(dx[1 + i], dxRef[i], f * f, f * f, "upsample backward " + i);
                close(acc[1 + i], old[1 + i] + dxRef[i], f * f + 1, f * f + 1, "upsample backward, accumulated " + i);
            }
        }
    }

    // ---------------------------------------------------------------- batch norm per channel

    /** Double twin of the training forward: y = gamma (x - mean) / sqrt(var + eps) + beta, statistics per channel over samples and positions. */
    static double[] normRef(double[] x, double[] gamma, double[] beta, double eps, int b, int ch, int plane) {
        double[] y = new double[x.length];
        for (int c = 0; c < ch; c++) {
            double s = 0;
            for (int n = 0; n < b; n++) {
                for (int q = 0; q < plane; q++) {
                    s += x[(n * ch + c) * plane + q];
                }
            }
            double m = s / (b * plane), v = 0;
            for (int n = 0; n < b; n++) {
                for (int q = 0; q < plane; q++) {
                    double d = x[(n * ch + c) * plane + q] - m;
                    v += d * d;
                }
            }
            v /= b * plane;
            for (int n = 0; n < b; n++) {
                for (int q = 0; q < plane; q++) {
                    int i = (n * ch + c) * plane + q;
                    y[i] = gamma[c] * (x[i] - m) / Math.sqrt(v + eps) + beta[c];
                }
            }
        }
        return y;
    }

    @Test
    void channelStatisticsAndNormalizeMatchTheDoubleTwin() {
        SplittableRandom r = new SplittableRandom(4);
        for (int[] c : new int[][] {{3, 4, 35}, {2, 5, 1}, {1, 3, 49}, {4, 2, 17}}) {
            int b = c[0], ch = c[1], plane = c[2], n = b * ch * plane;
            float[] x = random(r, 3 + n);
            for (int i = 3; i < x.length; i++) {
                x[i] = x[i] * 2 + 1.5f * ((i - 3) / plane % ch);   // a different mean per channel
            }
            float[] p = random(r, 2 * ch + 1);
            double[] mean = new double[ch], var = new double[ch], inv = new double[ch];
            ConvKernels.channelStatistics(mean, var, x, 3, b, ch, plane);
            double[] xd = new double[n], gamma = new double[ch], beta = new double[ch];
            for (int i = 0; i < n; i++) {
                xd[i] = x[3 + i];
            }
            for (int k = 0; k < ch; k++) {
                gamma[k] = p[1 + k];
                beta[k] = p[1 + ch + k];
                double s = 0, s2 = 0;
                for (int bb = 0; bb < b; bb++) {
                    for (int q = 0; q < plane; q++) {
                        s += xd[(bb * ch + k) * plane + q];
                    }
                }
                double m = s / (b * plane);
                for (int bb = 0; bb < b; bb++) {
                    for (int q = 0; q < plane; q++) {
                        s2 += (xd[(bb * ch + k) * plane + q] - m) * (xd[(bb * ch + k) * plane + q] - m);
                    }
                }
                assertEquals(m, mean[k], 1e-12 * (1 + Math.abs(m)), "mean of channel " + k);
                assertEquals(s2 / (b * plane), var[k], 1e-12 * (1 + s2), "variance of channel " + k);
            }
            float eps = 1e-5f;
            LayerKernels.inverseStd(inv, var, eps, ch);
            float[] y = new float[n + 1];
            ConvKernels.channelNormForward(y, 1, x, 3, mean, inv, p, 1, 1 + ch, new float[ch], new float[ch], b, ch, plane);
            double[] ref = normRef(xd, gamma, beta, eps, b, ch, plane);
            for (int i = 0; i < n; i++) {
                double scale = Math.abs(gamma[i / plane % ch]) * Math.sqrt(1.0 / (var[i / plane % ch] + eps));
                assertEquals(ref[i], y[1 + i], 8 * U * (Math.abs(ref[i]) + scale * (Math.abs(xd[i]) + Math.abs(mean[i / plane % ch])) + 1),
                        "normalized element " + i);
            }
        }
    }

    @Test
    void channelNormBackwardMatchesFiniteDifferencesOfTheDoubleTwin() {
        SplittableRandom r = new SplittableRandom(5);
        int b = 3, ch = 2, plane = 5, n = b * ch * plane;
        float[] x = random(r, n), dy = random(r, n), p = {0.7f, -1.3f, 0.25f, -0.5f};   // gamma 0.7, -1.3; beta 0.25, -0.5
        double[] xd = new double[n], gamma = {0.7, -1.3}, beta = {0.25, -0.5};
        for (int i = 0; i < n; i++) {
            xd[i] = x[i];
        }
        double eps = 1e-3;
        double[] mean = new double[ch], var = new double[ch], inv = new double[ch];
        ConvKernels.channelStatistics(mean, var, x, 0, b, ch, plane);
        LayerKernels.inverseStd(inv, var, (float) eps, ch);
        float[] dx = new float[n], grads = new float[4];
        ConvKernels.channelNormBackward(dx, 0, false, grads, dy, 0, x, 0, mean, inv, p, 0, 2, new double[ch], new double[ch], b, ch, plane);
        // L = sum dy * y(x): central differences in double.
        double h = 1e-6;
        for (int i = 0; i < n; i++) {
            double[] up = xd.clone(), dn = xd.clone();
            up[i] += h;
            dn[i] -= h;
            double fd = (dot(dy, normRef(up, gamma, beta, (float) eps, b, ch, plane)) - dot(dy, normRef(dn, gamma, beta, (float) eps, b, ch, plane)))
                    / (2 * h);
            assertEquals(fd, dx[i], 1e-4 * (1 + Math.abs(fd)), "dx[" + i + "]");
        }
        for (int c = 0; c < ch; c++) {
            double[] gu = gamma.clone(), gd = gamma.clone(), bu = beta.clone(), bd = beta.clone();
            gu[c] += h;
            gd[c] -= h;
            bu[c] += h;
            bd[c] -= h;
            double fg = (dot(dy, normRef(xd, gu, beta, (float) eps, b, ch, plane)) - dot(dy, normRef(xd, gd, beta, (float) eps, b, ch, plane))) / (2 * h);
            double fb = (dot(dy, normRef(xd, gamma, bu, (float) eps, b, ch, plane)) - dot(dy, normRef(xd, gamma, bd, (float) eps, b, ch, plane))) / (2 * h);
            assertEquals(fg, grads[c], 1e-4 * (1 + Math.abs(fg)), "dgamma[" + c + "]");
            assertEquals(fb, grads[2 + c], 1e-4 * (1 + Math.abs(fb)), "dbeta[" + c + "]");
        }
        // accumulate adds; a null dx still gives dgamma, dbeta.
        float[] old = random(r, n), acc = old.clone(), g2 = new float[4];
        ConvKernels.channelNormBackward(acc, 0, true, g2, dy, 0, x, 0, mean, inv, p, 0, 2, new double[ch], new double[ch], b, ch, plane);
        for (int i = 0; i < n; i++) {
            assertEquals(old[i] + dx[i], acc[i], 2 * U * (Math.abs(old[i]) + Math.abs(dx[i])) + 1e-30, "accumulated dx[" + i + "]");
        }
        float[] g3 = new float[4];
        ConvKernels.channelNormBackward(null, 0, false, g3, dy, 0, x, 0, mean, inv, p, 0, 2, new double[ch], new double[ch], b, ch, plane);
        assertArrayEquals(grads, g3);
        assertArrayEquals(grads, g2);
    }

    static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    // ---------------------------------------------------------------- errors

    @Test
    void badShapesGiveClearMessages() {
        float[] x = new float[64], y = new float[64];
        int[] arg = new int[64];
        var e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.maxPoolForward(y, 0, arg, 0, x, 0, 1, 1, 1, 3, 2, 2));
        assertEquals("max_pool2d(2, stride 2) needs at least 2x2 input, got 1x3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.avgPoolForward(y, 0, x, 0, 1, 1, 4, 4, 2, 0));
        assertTrue(e.getMessage().contains("kernel and stride must be positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.avgPoolForward(y, 0, x, 0, 2, 4, 4, 4, 2, 2));
        assertTrue(e.getMessage().startsWith("x: range [0, 128)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.upsampleForward(y, 0, x, 0, 1, 1, 2, 2, 0));
        assertTrue(e.getMessage().contains("factor must be a positive whole number, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.upsampleForward(y, 0, x, 0, 1, 1, 4, 4, 3));
        assertTrue(e.getMessage().startsWith("y: range [0, 144)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.channelStatistics(new double[1], new double[1], x, 0, 0, 1, 4));
        assertTrue(e.getMessage().contains("must be positive"), e.getMessage());
        int[] bad = new int[16];
        bad[3] = 99;
        e = assertThrows(IllegalArgumentException.class, () -> ConvKernels.maxPoolBackward(x, 0, false, y, 0, bad, 0, 1, 1, 8, 8, 2, 2));
        assertTrue(e.getMessage().contains("argmax 99"), e.getMessage());
    }
}
