package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused pieces of a VAE, in numerically stable forms, each forward beside its backward:
 * reparameterization, KL of a diagonal Gaussian to N(0, I), Bernoulli (BCE with logits) and
 * Gaussian (squared error) reconstruction terms. Per-row terms are summed over the features of
 * the row (one sample); the caller reduces over the batch.
 */
public final class VaeKernels {
    private VaeKernels() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();

    // ----------------------------------------------------------------- reparameterization

    /** z = mu + exp(0.5 logvar) * eps, element-wise over n. */
    public static void reparameterize(float[] z, float[] mu, float[] logvar, float[] eps, int n) {
        checkLength(n);
        Activations.checkRange("z", z, 0, n);
        Activations.checkRange("mu", mu, 0, n);
        Activations.checkRange("logvar", logvar, 0, n);
        Activations.checkRange("eps", eps, 0, n);
        VMath.reparameterize(z, mu, logvar, eps, n);
    }

    /**
     * Backward of reparameterization fused with the KL term scaled by {@code klScale}:
     * dmu = dz + klScale * mu, dlogvar = dz * eps * 0.5 exp(0.5 logvar) + klScale * 0.5 (exp(logvar) - 1).
     * Pass klScale = 0 for the reparameterization alone.
     */
    public static void reparameterizeKlBackward(float[] dmu, float[] dlogvar, float[] dz, float[] mu, float[] logvar,
                                                float[] eps, float klScale, int n) {
        checkLength(n);
        Activations.checkRange("dmu", dmu, 0, n);
        Activations.checkRange("dlogvar", dlogvar, 0, n);
        Activations.checkRange("dz", dz, 0, n);
        Activations.checkRange("mu", mu, 0, n);
        Activations.checkRange("logvar", logvar, 0, n);
        Activations.checkRange("eps", eps, 0, n);
        VMath.reparameterizeKlBackward(dmu, dlogvar, dz, mu, logvar, eps, klScale, n);
    }

    /**
     * Adds the KL term's gradient with a weight per latent dimension (free bits): dmu[r, c] +=
     * scale w_c mu, dlogvar[r, c] += scale w_c 0.5 (exp(logvar) - 1)   (rows x cols).
     */
    public static void klBackwardByDimension(float[] dmu, float[] dlogvar, float[] mu, float[] logvar, float[] weights,
                                             float scale, int rows, int cols) {
        checkShape(rows, cols);
        long n = (long) rows * cols;
        Activations.checkRange("dmu", dmu, 0, n);
        Activations.checkRange("dlogvar", dlogvar, 0, n);
        Activations.checkRange("mu", mu, 0, n);
        Activations.checkRange("logvar", logvar, 0, n);
        Activations.checkRange("weights", weights, 0, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int k = r * cols + c;
                float w = scale * weights[c];
                dmu[k] += w * mu[k];
                dlogvar[k] += w * 0.5f * ((float) Math.exp(logvar[k]) - 1f);
            }
        }
    }

    // ----------------------------------------------------------------- KL(N(mu, e^logvar) || N(0, I))

    /** out[r] = 0.5 * sum_c (mu^2 + exp(logvar) - 1 - logvar)   (mu, logvar: rows x cols). */
    public static void gaussianKl(float[] out, float[] mu, float[] logvar, int rows, int cols) {
        checkShape(rows, cols);
        Activations.checkRange("out", out, 0, rows);
        Activations.checkRange("mu", mu, 0, (long) rows * cols);
        Activations.checkRange("logvar", logvar, 0, (long) rows * cols);
        for (int r = 0; r < rows; r++) {
            out[r] = 0.5f * VMath.klRowSum(mu, logvar, r * cols, cols);
        }
    }

    // ----------------------------------------------------------------- Bernoulli: BCE with logits

    /**
     * out[r] = sum_c [max(x, 0) - x t + log1p(exp(-|x|))], the negative Bernoulli log-likelihood
     * of targets t in [0, 1] given logits x; finite for any finite logit.
     */
    public static void bceWithLogits(float[] out, float[] logits, float[] targets, int rows, int cols) {
        checkShape(rows, cols);
        Activations.checkRange("out", out, 0, rows);
        Activations.checkRange("logits", logits, 0, (long) rows * cols);
        Activations.checkRange("targets", targets, 0, (long) rows * cols);
        for (int r = 0; r < rows; r++) {
            out[r] = VMath.bceRowSum(logits, targets, r * cols, cols);
        }
    }

    /** dlogits = scale * (sigmoid(x) - t) over n elements. */
    public static void bceWithLogitsBackward(float[] dlogits, float[] logits, float[] targets, float scale, int n) {
        checkLength(n);
        Activations.checkRange("dlogits", dlogits, 0, n);
        Activations.checkRange("logits", logits, 0, n);
        Activations.checkRange("targets", targets, 0, n);
        VMath.bceBackward(dlogits, logits, targets, scale, n);
    }

    // ----------------------------------------------------------------- Gaussian: squared error

    /** out[r] = sum_c (x - t)^2. */
    public static void squaredError(float[] out, float[] x, float[] targets, int rows, int cols) {
        checkShape(rows, cols);
        Activations.checkRange("out", out, 0, rows);
        Activations.checkRange("x", x, 0, (long) rows * cols);
        Activations.checkRange("targets", targets, 0, (long) rows * cols);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            FloatVector acc = FloatVector.zero(S);
            int c = 0;
            for (int bound = S.loopBound(cols); c < bound; c += L) {
                FloatVector d = FloatVector.fromArray(S, x, o + c).sub(FloatVector.fromArray(S, targets, o + c));
                acc = d.fma(d, acc);
            }
            if (c < cols) {
                VectorMask<Float> m = S.indexInRange(c, cols);
                FloatVector d = FloatVector.fromArray(S, x, o + c, m).sub(FloatVector.fromArray(S, targets, o + c, m));
                acc = d.fma(d, acc);
            }
            float sum = 0f;   // lanes in lane order: reduceLanes(ADD)'s order differs between interpreter and C2
            for (int j = 0; j < L; j++) {
                sum += acc.lane(j);
            }
            out[r] = sum;
        }
    }

    /** dx = scale * 2 (x - t) over n elements. */
    public static void squaredErrorBackward(float[] dx, float[] x, float[] targets, float scale, int n) {
        checkLength(n);
        Activations.checkRange("dx", dx, 0, n);
        Activations.checkRange("x", x, 0, n);
        Activations.checkRange("targets", targets, 0, n);
        float s2 = 2f * scale;
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, i).sub(FloatVector.fromArray(S, targets, i)).mul(s2).intoArray(dx, i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, i, m).sub(FloatVector.fromArray(S, targets, i, m)).mul(s2).intoArray(dx, i, m);
        }
    }

    // ----------------------------------------------------------------- checks

    private static void checkLength(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("length must be positive, got " + n);
        }
    }

    private static void checkShape(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("rows and cols must be positive, got " + rows + "x" + cols);
        }
    }
}
