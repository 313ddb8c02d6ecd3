package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The layers that go with {@link Conv2d} on (batch, channels, height, width) data in PyTorch's NCHW
 * order (one plane of height x width row-major per sample and channel): max and average pooling
 * (square window, no padding; output side {@code (in - kernel) / stride + 1}), nearest upsampling
 * by an integer factor, and batch normalization per channel (statistics over samples and
 * positions). Free functions on flat arrays, outputs first, no allocation, single-threaded; every
 * output is a sum in a fixed loop order, so results do not depend on how a caller splits a batch
 * over threads. Backward kernels overwrite the input gradient or add to it ({@code accumulate}).
 */
public final class ConvKernels {
    private ConvKernels() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();

    // ----------------------------------------------------------------- pooling

    /** The checked output size of a pooling, as (out height << 32) | out width (no array: pooling runs every step). */
    private static long checkPool(String layer, int batch, int channels, int height, int width, int kernel, int stride) {
        if (batch < 1 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(layer + ": batch, channels, height and width must be positive, got " + batch + ", "
                    + channels + ", " + height + "x" + width);
        }
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException(layer + ": kernel and stride must be positive, got kernel " + kernel + ", stride " + stride);
        }
        if (height < kernel || width < kernel) {
            throw new IllegalArgumentException(layer + "(" + kernel + ", stride " + stride + ") needs at least " + kernel + "x" + kernel
                    + " input, got " + height + "x" + width);
        }
        return ((long) ((height - kernel) / stride + 1) << 32) | ((width - kernel) / stride + 1);
    }

    /**
     * y[b, c, oy, ox] = max over the window x[b, c, oy s + i, ox s + j] (i, j from 0 to kernel - 1); argmax
     * (same size as y) gets the position of the maximum within its plane, {@code iy * width + ix}
     * (PyTorch's return_indices), the first one in row-major window order on ties; a NaN wins.
     * Writes y and argmax.
     */
    public static void maxPoolForward(float[] y, int yOff, int[] argmax, int argOff, float[] x, int xOff,
                                      int batch, int channels, int height, int width, int kernel, int stride) {
        long o = checkPool("max_pool2d", batch, channels, height, width, kernel, stride);
        int oh = (int) (o >>> 32), ow = (int) o, planes = batch * channels, hw = height * width;
        Activations.checkRange("x", x, xOff, (long) planes * hw);
        Activations.checkRange("y", y, yOff, (long) planes * oh * ow);
        checkRange("argmax", argmax, argOff, (long) planes * oh * ow);
        int out = 0;
        for (int pl = 0; pl < planes; pl++) {
            int base = xOff + pl * hw;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++, out++) {
                    int best = (oy * stride) * width + ox * stride;
                    float m = x[base + best];
                    for (int i = 0; i < kernel && !Float.isNaN(m); i++) {
                        int row = (oy * stride + i) * width + ox * stride;
                        for (int j = 0; j < kernel; j++) {
                            float v = x[base + row + j];
                            if (v > m || Float.isNaN(v)) {
                                m = v;
                                best = row + j;
                                if (Float.isNaN(v)) {
                                    break;
                                }
                            }
                        }
                    }
                    y[yOff + out] = m;
                    argmax[argOff + out] = best;
                }
            }
        }
    }

    /** dx[b, c, argmax] (+)= dy[b, c, oy, ox], outputs in order (overlapping windows add). Writes dx. */
    public static void maxPoolBackward(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, int[] argmax, int argOff,
                                       int batch, int channels, int height, int width, int kernel, int stride) {
        long o = checkPool("max_pool2d", batch, channels, height, width, kernel, stride);
        int op = (int) (o >>> 32) * (int) o, planes = batch * channels, hw = height * width;
        Activations.checkRange("dx", dx, dxOff, (long) planes * hw);
        Activations.checkRange("dy", dy, dyOff, (long) planes * op);
        checkRange("argmax", argmax, argOff, (long) planes * op);
        if (!accumulate) {
            java.util.Arrays.fill(dx, dxOff, dxOff + planes * hw, 0f);
        }
        for (int pl = 0; pl < planes; pl++) {
            int base = dxOff + pl * hw;
            for (int q = pl * op, end = q + op; q < end; q++) {
                int a = argmax[argOff + q];
                if (a < 0 || a >= hw) {
                    throw new IllegalArgumentException("max_pool2d backward: argmax " + a + " at " + q + " is outside a " + height + "x"
                            + width + " plane");
                }
                dx[base + a] += dy[dyOff + q];
            }
        }
    }

    /** y[b, c, oy, ox] = (sum over the kernel x kernel window, row-major, in float) / kernel^2. Writes y. */
    public static void avgPoolForward(float[] y, int yOff, float[] x, int xOff, int batch, int channels, int height, int width,
                                      int kernel, int stride) {
        long o = checkPool("avg_pool2d", batch, channels, height, width, kernel, stride);
        int oh = (int) (o >>> 32), ow = (int) o, planes = batch * channels, hw = height * width;
        Activations.checkRange("x", x, xOff, (long) planes * hw);
        Activations.checkRange("y", y, yOff, (long) planes * oh * ow);
        float count = kernel * kernel;
        int out = yOff;
        for (int pl = 0; pl < planes; pl++) {
            int base = xOff + pl * hw;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float s = 0f;
                    for (int i = 0; i < kernel; i++) {
                        int row = base + (oy * stride + i) * width + ox * stride;
                        for (int j = 0; j < kernel; j++) {
                            s += x[row + j];
                        }
                    }
                    y[out++] = s / count;
                }
            }
        }
    }

    /** dx[b, c, oy s + i, ox s + j] (+)= dy[b, c, oy, ox] / kernel^2, outputs in order. Writes dx. */
    public static void avgPoolBackward(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, int batch, int channels,
                                       int height, int width, int kernel, int stride) {
        long o = checkPool("avg_pool2d", batch, channels, height, width, kernel, stride);
        int oh = (int) (o >>> 32), ow = (int) o, planes = batch * channels, hw = height * width;
        Activations.checkRange("dx", dx, dxOff, (long) planes * hw);
        Activations.checkRange("dy", dy, dyOff, (long) planes * oh * ow);
        if (!accumulate) {
            java.util.Arrays.fill(dx, dxOff, dxOff + planes * hw, 0f);
        }
        float count = kernel * kernel;
        int in = dyOff;
        for (int pl = 0; pl < planes; pl++) {
            int base = dxOff + pl * hw;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float g = dy[in++] / count;
                    for (int i = 0; i < kernel; i++) {
                        int row = base + (oy * stride + i) * width + ox * stride;
                        for (int j = 0; j < kernel; j++) {
                            dx[row + j] += g;
                        }
                    }
                }
            }
        }
    }

    // ----------------------------------------------------------------- nearest upsampling

    private static void checkUpsample(int batch, int channels, int height, int width, int factor) {
        if (batch < 1 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("upsample_nearest2d: batch, channels, height and width must be positive, got " + batch + ", "
                    + channels + ", " + height + "x" + width);
        }
        if (factor < 1) {
            throw new IllegalArgumentException("upsample_nearest2d: the factor must be a positive whole number, got " + factor);
        }
        if ((long) batch * channels * height * width * factor * factor > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("upsample_nearest2d: the output would not fit an array");
        }
    }

    /** y[b, c, oy, ox] = x[b, c, oy / factor, ox / factor]   (x: height x width planes, y: factor times larger). Writes y. */
    public static void upsampleForward(float[] y, int yOff, float[] x, int xOff, int batch, int channels, int height, int width,
                                       int factor) {
        checkUpsample(batch, channels, height, width, factor);
        int planes = batch * channels, ow = width * factor;
        Activations.checkRange("x", x, xOff, (long) planes * height * width);
        Activations.checkRange("y", y, yOff, (long) planes * height * width * factor * factor);
        int out = yOff;
        for (int pl = 0; pl < planes; pl++) {
            for (int iy = 0; iy < height; iy++) {
                int src = xOff + (pl * height + iy) * width;
                int first = out;
                for (int ix = 0; ix < width; ix++) {
                    float v = x[src + ix];
                    for (int f = 0; f < factor; f++) {
                        y[out++] = v;
                    }
                }
                for (int r = 1; r < factor; r++, out += ow) {
                    System.arraycopy(y, first, y, out, ow);
                }
            }
        }
    }

    /** dx[b, c, iy, ix] (+)= sum of the factor x factor block of dy above it (rows then columns, in float). Writes dx. */
    public static void upsampleBackward(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, int batch, int channels,
                                        int height, int width, int factor) {
        checkUpsample(batch, channels, height, width, factor);
        int planes = batch * channels, ow = width * factor;
        Activations.checkRange("dx", dx, dxOff, (long) planes * height * width);
        Activations.checkRange("dy", dy, dyOff, (long) planes * height * width * factor * factor);
        for (int pl = 0; pl < planes; pl++) {
            for (int iy = 0; iy < height; iy++) {
                int top = dyOff + (pl * height + iy) * factor * ow;
                int d = dxOff + (pl * height + iy) * width;
                for (int ix = 0; ix < width; ix++) {
                    float s = 0f;
                    for (int fy = 0; fy < factor; fy++) {
                        int row = top + fy * ow + ix * factor;
                        for (int fx = 0; fx < factor; fx++) {
                            s += dy[row + fx];
                        }
                    }
                    dx[d + ix] = accumulate ? dx[d + ix] + s : s;
                }
            }
        }
    }

    // ----------------------------------------------------------------- batch normalization per channel

    private static void checkPlanes(int batch, int channels, int plane) {
        if (batch < 1 || channels < 1 || plane < 1) {
            throw new IllegalArgumentException("batch_norm2d: batch, channels and plane size must be positive, got " + batch + ", "
                    + channels + ", " + plane);
        }
        if ((long) batch * channels * plane > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch_norm2d: " + batch + " x " + channels + " x " + plane + " does not fit an array");
        }
    }

    /**
     * mean[c] and the biased var[c] of channel c over every sample and position of x (batch x
     * channels x plane), in double, two passes, samples then positions in order. The count per
     * channel is batch * plane (what {@link LayerKernels#batchNormRunningUpdate} takes as rows).
     */
    public static void channelStatistics(double[] mean, double[] var, float[] x, int xOff, int batch, int channels, int plane) {
        checkPlanes(batch, channels, plane);
        Activations.checkRange("x", x, xOff, (long) batch * channels * plane);
        double n = (double) batch * plane;
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = xOff + (b * channels + c) * plane, end = i + plane; i < end; i++) {
                    s += x[i];
                }
            }
            double m = s / n;
            double v = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = xOff + (b * channels + c) * plane, end = i + plane; i < end; i++) {
                    double d = x[i] - m;
                    v += d * d;
                }
            }
            mean[c] = m;
            var[c] = v / n;
        }
    }

    /**
     * y = gamma[c] (x - mean[c]) invStd[c] + beta[c] per channel, computed as y = a x + t with
     * a = gamma invStd and t = beta - a mean (kept in scale, shift: scratch of channels floats);
     * gamma at p[gammaOff], beta at p[betaOff]; invStd from {@link LayerKernels#inverseStd}. With
     * the batch's statistics in training, the running ones at inference. Writes y, scale, shift.
     */
    public static void channelNormForward(float[] y, int yOff, float[] x, int xOff, double[] mean, double[] invStd, float[] p,
                                          int gammaOff, int betaOff, float[] scale, float[] shift, int batch, int channels, int plane) {
        checkPlanes(batch, channels, plane);
        Activations.checkRange("x", x, xOff, (long) batch * channels * plane);
        Activations.checkRange("y", y, yOff, (long) batch * channels * plane);
        for (int c = 0; c < channels; c++) {
            double a = p[gammaOff + c] * invStd[c];
            scale[c] = (float) a;
            shift[c] = (float) (p[betaOff + c] - a * mean[c]);
        }
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                int o = (b * channels + c) * plane;
                FloatVector va = FloatVector.broadcast(S, scale[c]);
                FloatVector vt = FloatVector.broadcast(S, shift[c]);
                int i = 0;
                for (int bound = S.loopBound(plane); i < bound; i += L) {
                    FloatVector.fromArray(S, x, xOff + o + i).fma(va, vt).intoArray(y, yOff + o + i);
                }
                if (i < plane) {
                    VectorMask<Float> m = S.indexInRange(i, plane);
                    FloatVector.fromArray(S, x, xOff + o + i, m).fma(va, vt).intoArray(y, yOff + o + i, m);
                }
            }
        }
    }

    /**
     * Backward of the training forward: grads[gammaOff + c] = sum dy xhat and grads[betaOff + c] =
     * sum dy over samples and positions of channel c (overwritten; double, in order), xhat =
     * (x - mean) invStd; dx (+)= gamma invStd (dy - dbeta / n - xhat dgamma / n), n = batch * plane,
     * per element in double (the gradient through the batch's mean and variance too); dx null when
     * the input needs no gradient. sumDy, sumDyXhat: scratch of channels doubles.
     */
    public static void channelNormBackward(float[] dx, int dxOff, boolean accumulate, float[] grads, float[] dy, int dyOff,
                                           float[] x, int xOff, double[] mean, double[] invStd, float[] p, int gammaOff, int betaOff,
                                           double[] sumDy, double[] sumDyXhat, int batch, int channels, int plane) {
        checkPlanes(batch, channels, plane);
        long total = (long) batch * channels * plane;
        Activations.checkRange("x", x, xOff, total);
        Activations.checkRange("dy", dy, dyOff, total);
        if (dx != null) {
            Activations.checkRange("dx", dx, dxOff, total);
        }
        double n = (double) batch * plane;
        for (int c = 0; c < channels; c++) {
            double sd = 0, sdx = 0, m = mean[c];
            for (int b = 0; b < batch; b++) {
                int o = (b * channels + c) * plane;
                for (int i = 0; i < plane; i++) {
                    double g = dy[dyOff + o + i];
                    sd += g;
                    sdx += g * (x[xOff + o + i] - m);
                }
            }
            sdx *= invStd[c];
            grads[gammaOff + c] = (float) sdx;
            grads[betaOff + c] = (float) sd;
            sumDy[c] = sd / n;                    // b = dbeta / n
            sumDyXhat[c] = sdx * invStd[c] / n;   // so that dx = gamma invStd (dy - b - (x - mean) c)
        }
        if (dx == null) {
            return;
        }
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                int o = (b * channels + c) * plane;
                double k = p[gammaOff + c] * invStd[c], m = mean[c], mb = sumDy[c], mc = sumDyXhat[c];
                for (int i = 0; i < plane; i++) {
                    float v = (float) (k * (dy[dyOff + o + i] - mb - (x[xOff + o + i] - m) * mc));
                    dx[dxOff + o + i] = accumulate ? dx[dxOff + o + i] + v : v;
                }
            }
        }
    }

    private static void checkRange(String name, int[] x, int off, long n) {
        if (x == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (off < 0 || off + n > x.length) {
            throw new IllegalArgumentException(name + ": range [" + off + ", " + (off + n) + ") is outside its array of length " + x.length);
        }
    }
}
