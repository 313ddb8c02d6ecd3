package org.latent4j.model;

import org.latent4j.kernel.Bernoulli;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.VMath;

/**
 * A restricted Boltzmann machine on binary (or [0, 1]-valued) visible units v and hidden units h,
 * with weights W (hidden x visible, as the encoder layer it becomes), visible biases b and
 * hidden biases c, all in one arena ({@link #parameters()}: W, then b, then c).
 * <ul>
 * <li>{@link Kind#BERNOULLI_BERNOULLI}: binary hidden units, E(v, h) = -b.v - c.h - h.W v,
 *     p(h_j = 1 | v) = sigmoid(c_j + W_j v), free energy F(v) = -b.v - sum_j softplus(c_j + W_j v);</li>
 * <li>{@link Kind#BERNOULLI_GAUSSIAN}: linear hidden units of unit variance (Hinton and
 *     Salakhutdinov's code layer), E(v, h) = -b.v - c.h - h.W v + |h|^2 / 2,
 *     h | v ~ N(c + W v, I), F(v) = -b.v - sum_j (c_j + W_j v)^2 / 2 (without the constant
 *     -(hidden / 2) log 2 pi).</li>
 * </ul>
 * In both, p(v_i = 1 | h) = sigmoid(b_i + W^T_i h). Not thread-safe while it trains; the arena
 * is the machine's own.
 */
public final class Rbm {
    /** The hidden units' kind. */
    public enum Kind { BERNOULLI_BERNOULLI, BERNOULLI_GAUSSIAN }

    private final Kind kind;
    private final int visible;
    private final int hidden;
    private final float[] params;

    public Rbm(Kind kind, int visible, int hidden, float[] params) {
        if (kind == null || visible <= 0 || hidden <= 0 || (long) visible * hidden + visible + hidden > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("an RBM needs a kind and 1 or more visible and hidden units, got " + kind + " " + visible
                    + " x " + hidden);
        }
        if (params.length != visible * hidden + visible + hidden) {
            throw new IllegalArgumentException("an RBM of " + visible + " x " + hidden + " has " + (visible * hidden + visible + hidden)
                    + " parameters, got " + params.length);
        }
        this.kind = kind;
        this.visible = visible;
        this.hidden = hidden;
        this.params = params;
    }

    /** An RBM with weights N(0, 0.01^2) from the seed (Hinton's recipe) and zero biases. */
    public static Rbm initial(Kind kind, int visible, int hidden, long seed) {
        float[] p = new float[visible * hidden + visible + hidden];
        org.latent4j.kernel.Philox.fillNormal(p, 0, visible * hidden, seed, 0x3_0000_0000L, 0);
        for (int i = 0; i < visible * hidden; i++) {
            p[i] *= 0.01f;
        }
        return new Rbm(kind, visible, hidden, p);
    }

    public Kind kind() {
        return kind;
    }

    public int visible() {
        return visible;
    }

    public int hidden() {
        return hidden;
    }

    /** The arena: W (hidden x visible, row-major) at 0, b at {@link #visibleBias()}, c at {@link #hiddenBias()}. */
    public float[] parameters() {
        return params;
    }

    public int visibleBias() {
        return visible * hidden;
    }

    public int hiddenBias() {
        return visible * hidden + visible;
    }

    public Rbm copy() {
        return new Rbm(kind, visible, hidden, params.clone());
    }

    /**
     * out (rows x hidden) = E[h | v] for the rows v (rows x visible): sigmoid(v W^T + c), or the
     * linear v W^T + c for Gaussian hidden units. Allocates nothing.
     */
    public void hiddenMeans(Gemm gemm, float[] v, int rows, float[] out) {
        hiddenInputs(gemm, v, 0, rows, out);
        if (kind == Kind.BERNOULLI_BERNOULLI) {
            VMath.sigmoid(out, 0, out, 0, rows * hidden);
        }
    }

    /** out (rows x hidden) = v W^T + c, the hidden units' inputs, for the rows v at v[vOff ..] (rows x visible). */
    private void hiddenInputs(Gemm gemm, float[] v, int vOff, int rows, float[] out) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(params, hiddenBias(), out, r * hidden, hidden);
        }
        gemm.gemm(out, 0, hidden, false, true, rows, hidden, visible, 1f, v, vOff, visible, params, 0, visible, 1f);
    }

    /** out (rows x visible) = p(v = 1 | h) = sigmoid(h W + b) for the rows h (rows x hidden). Allocates nothing. */
    public void visibleProbabilities(Gemm gemm, float[] h, int rows, float[] out) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(params, visibleBias(), out, r * visible, visible);
        }
        gemm.gemm(out, 0, visible, false, false, rows, visible, hidden, 1f, h, 0, hidden, params, 0, visible, 1f);
        VMath.sigmoid(out, 0, out, 0, rows * visible);
    }

    /** F(v) of one row (v at vOff), in double, straight from the definition above. */
    public double freeEnergy(float[] v, int vOff) {
        double f = 0;
        for (int i = 0; i < visible; i++) {
            f -= (double) params[visibleBias() + i] * v[vOff + i];
        }
        for (int j = 0; j < hidden; j++) {
            double a = params[hiddenBias() + j];
            for (int i = 0; i < visible; i++) {
                a += (double) params[j * visible + i] * v[vOff + i];
            }
            f -= kind == Kind.BERNOULLI_BERNOULLI ? Bernoulli.softplus(a) : 0.5 * a * a;
        }
        return f;
    }

    /**
     * Mean free energy of the rows of x (rows x visible), as {@link #meanFreeEnergy(float[], int)}
     * but with the hidden pre-activations v W^T + c from the GEMM (float, 256 rows at a time), the
     * rest summed in double: the per-epoch report of RBM training, about 500 times faster than the
     * double definition on a 784 x 1000 RBM. Allocates one 256 x hidden scratch block.
     */
    public double meanFreeEnergy(Gemm gemm, float[] x, int rows) {
        int chunk = Math.max(1, Math.min(rows, 256));
        float[] pre = new float[chunk * hidden];
        double s = 0;
        for (int from = 0; from < rows; from += chunk) {
            int n = Math.min(chunk, rows - from);
            hiddenInputs(gemm, x, from * visible, n, pre);
            for (int r = 0; r < n; r++) {
                int vo = (from + r) * visible;
                double f = 0;
                for (int i = 0; i < visible; i++) {
                    f -= (double) params[visibleBias() + i] * x[vo + i];
                }
                for (int j = r * hidden, end = j + hidden; j < end; j++) {
                    double a = pre[j];
                    f -= kind == Kind.BERNOULLI_BERNOULLI ? Bernoulli.softplus(a) : 0.5 * a * a;
                }
                s += f;
            }
        }
        return s / rows;
    }

    /** Mean free energy of the rows of x (rows x visible), each row in double straight from the definition. */
    public double meanFreeEnergy(float[] x, int rows) {
        double s = 0;
        for (int r = 0; r < rows; r++) {
            s += freeEnergy(x, r * visible);
        }
        return s / rows;
    }

    /**
     * log Z = log sum_v exp(-F(v)) by enumerating every binary visible vector (up to 24 visible
     * units), in double. The constant dropped from a Gaussian-hidden F cancels in the
     * normalization, so log p(v) = -F(v) - log Z holds for both kinds.
     */
    public double exactLogPartition() {
        if (visible > 24) {
            throw new IllegalArgumentException("exact enumeration over 2^" + visible + " visible vectors is too large (at most 24 units)");
        }
        float[] v = new float[visible];
        int n = 1 << visible;
        double[] neg = new double[n];
        for (int code = 0; code < n; code++) {
            for (int i = 0; i < visible; i++) {
                v[i] = (code >> i) & 1;
            }
            neg[code] = -freeEnergy(v, 0);
        }
        return Bernoulli.logSumExp(neg, 0, n);
    }

    /** Mean exact log p(v) = -F(v) - log Z over binary rows of x (small RBMs only, see {@link #exactLogPartition()}). */
    public double exactMeanLogLikelihood(float[] x, int rows) {
        return -meanFreeEnergy(x, rows) - exactLogPartition();
    }
}
