package org.latent4j.kernel;

/**
 * Kernels of binary stochastic units (sigmoid belief layers, RBMs): Bernoulli sampling from the
 * counter-based generator, so a sample is a pure function of (seed, stream, index) whatever the
 * thread count or batch split, and log-probabilities of binary vectors under logits, summed per
 * row in double.
 */
public final class Bernoulli {
    private Bernoulli() {}

    /**
     * out[off + i] = 1 if u_i &lt; p[pOff + i] else 0, for i in [0, n), with u_i =
     * {@link Philox#fillUniform uniform}(seed, stream, start + i) in (0, 1). {@code out} may be
     * {@code p} itself (same offset). Allocates nothing.
     */
    public static void sample(float[] out, int off, float[] p, int pOff, int n, long seed, long stream, long start) {
        Activations.checkRange("p", p, pOff, n);
        if (out == p && off != pOff) {
            throw new IllegalArgumentException("Bernoulli.sample: out and p are the same array at different offsets");
        }
        if (out == p) {
            // In place: draw the uniforms one block at a time so p is read before it is overwritten.
            float[] u = SCRATCH.get();
            for (int i = 0; i < n; i += u.length) {
                int m = Math.min(u.length, n - i);
                Philox.fillUniform(u, 0, m, seed, stream, start + i);
                for (int j = 0; j < m; j++) {
                    out[off + i + j] = u[j] < p[pOff + i + j] ? 1f : 0f;
                }
            }
            return;
        }
        Philox.fillUniform(out, off, n, seed, stream, start);
        for (int i = 0; i < n; i++) {
            out[off + i] = out[off + i] < p[pOff + i] ? 1f : 0f;
        }
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[1024]);

    /**
     * out[outOff + r] (+)= sum_c log Bernoulli(x[r][c] | sigmoid(a[r][c])) = sum_c (x a - softplus(a)),
     * for rows x cols blocks a (logits) and x (targets in [0, 1]), row-major; softplus is taken
     * in float by {@link VMath#softplus} into {@code scratch} (at least cols floats), the sum in
     * double in column order. {@code accumulate} adds to out.
     */
    public static void logProbabilityRows(double[] out, int outOff, float[] a, int aOff, float[] x, int xOff, int rows, int cols,
                                          float[] scratch, boolean accumulate) {
        Activations.checkRange("logits", a, aOff, (long) rows * cols);
        Activations.checkRange("x", x, xOff, (long) rows * cols);
        Activations.checkRange("scratch", scratch, 0, cols);
        if (outOff < 0 || outOff + rows > out.length) {
            throw new IllegalArgumentException("Bernoulli.logProbabilityRows: out has " + out.length + " values, needs " + (outOff + rows));
        }
        for (int r = 0; r < rows; r++) {
            int ao = aOff + r * cols, xo = xOff + r * cols;
            VMath.softplus(scratch, 0, a, ao, cols);
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += (double) x[xo + c] * a[ao + c] - scratch[c];
            }
            out[outOff + r] = accumulate ? out[outOff + r] + s : s;
        }
    }

    /**
     * The same sum for one logit vector shared by every row (a factorial prior's logits
     * {@code a}, cols values): out[outOff + r] (+)= sum_c (x[r][c] a[c] - softplus(a[c])).
     */
    public static void logProbabilityRowsShared(double[] out, int outOff, float[] a, int aOff, float[] x, int xOff, int rows, int cols,
                                                boolean accumulate) {
        Activations.checkRange("logits", a, aOff, cols);
        Activations.checkRange("x", x, xOff, (long) rows * cols);
        double sp = 0;
        for (int c = 0; c < cols; c++) {
            sp += softplus(a[aOff + c]);
        }
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols;
            double s = -sp;
            for (int c = 0; c < cols; c++) {
                s += (double) x[xo + c] * a[aOff + c];
            }
            out[outOff + r] = accumulate ? out[outOff + r] + s : s;
        }
    }

    /** log(1 + e^a) in double, without overflow. */
    public static double softplus(double a) {
        return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
    }

    /** log(sum_i exp(v[off + i])) over n values, in double, shifted by the largest (exact for a single value). */
    public static double logSumExp(double[] v, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[off + i]);
        }
        if (max == Double.NEGATIVE_INFINITY || Double.isNaN(max)) {
            return max;
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(v[off + i] - max);
        }
        return max + Math.log(s);
    }
}
