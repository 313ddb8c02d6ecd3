package org.latent4j.kernel;

/**
 * Kernels of the layers beyond dense and activation, each forward beside its backward, on flat
 * row-major arrays, outputs first, no allocation: training noise (gaussian, masking, dropout,
 * salt and pepper), log-variance clamping, the Huber loss, and the penalties of sparse,
 * activity-regularized and contractive autoencoders. Sums over a row are taken in double in
 * index order, so a row's value does not depend on how rows are split over threads.
 * Backward kernels either overwrite the input gradient or add to it ({@code accumulate}).
 */
public final class LayerKernels {
    private LayerKernels() {}

    // ----------------------------------------------------------------- noise (training only)

    /** y = x + stddev * noise (noise: standard normals)   (all n). */
    public static void gaussianNoiseForward(float[] y, float[] x, float[] noise, float stddev, int n) {
        for (int i = 0; i < n; i++) {
            y[i] = x[i] + stddev * noise[i];
        }
    }

    /** dx (+)= dy: gaussian noise passes the gradient through. */
    public static void passBackward(float[] dx, float[] dy, boolean accumulate, int n) {
        if (accumulate) {
            for (int i = 0; i < n; i++) {
                dx[i] += dy[i];
            }
        } else {
            System.arraycopy(dy, 0, dx, 0, n);
        }
    }

    /**
     * Masking and dropout: on entry {@code mask} holds uniforms in (0, 1); each becomes 0 with
     * probability p (uniform below p) and {@code keep} otherwise (1 for masking noise, 1 / (1 - p)
     * for dropout); y = x * mask.
     */
    public static void maskForward(float[] y, float[] x, float[] mask, float p, float keep, int n) {
        for (int i = 0; i < n; i++) {
            float m = mask[i] < p ? 0f : keep;
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }

    /** dx (+)= dy * mask (the mask maskForward or saltAndPepperForward left). */
    public static void maskBackward(float[] dx, float[] dy, float[] mask, boolean accumulate, int n) {
        if (accumulate) {
            for (int i = 0; i < n; i++) {
                dx[i] += dy[i] * mask[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                dx[i] = dy[i] * mask[i];
            }
        }
    }

    /**
     * Salt and pepper: on entry {@code mask} holds uniforms u; u < p/2 sets the value to 0
     * (pepper), p/2 <= u < p sets it to 1 (salt), else it is kept. On exit mask is 1 where the
     * value was kept, 0 where it was replaced (so maskBackward gives the gradient).
     */
    public static void saltAndPepperForward(float[] y, float[] x, float[] mask, float p, int n) {
        float half = 0.5f * p;
        for (int i = 0; i < n; i++) {
            float u = mask[i];
            if (u < p) {
                y[i] = u < half ? 0f : 1f;
                mask[i] = 0f;
            } else {
                y[i] = x[i];
                mask[i] = 1f;
            }
        }
    }

    // ----------------------------------------------------------------- clamp

    /** y = min(max(x, lo), hi). */
    public static void clampForward(float[] y, float[] x, float lo, float hi, int n) {
        for (int i = 0; i < n; i++) {
            y[i] = Math.min(Math.max(x[i], lo), hi);
        }
    }

    /** dx = dy where lo < x < hi, else 0 (the clamp is flat outside). */
    public static void clampBackward(float[] dx, float[] dy, float[] x, float lo, float hi, int n) {
        for (int i = 0; i < n; i++) {
            dx[i] = x[i] > lo && x[i] < hi ? dy[i] : 0f;
        }
    }

    // ----------------------------------------------------------------- Huber loss

    /**
     * out[r] = sum_c huber(pred - target) with huber(e) = e^2 / 2 for |e| <= delta, else
     * delta (|e| - delta / 2)   (pred, target: rows x cols).
     */
    public static void huberForward(float[] out, float[] pred, float[] target, float delta, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = r * cols, end = c + cols; c < end; c++) {
                s += huber((double) pred[c] - target[c], delta);
            }
            out[r] = (float) s;
        }
    }

    /** huber(e) = e^2 / 2 for |e| <= delta, else delta (|e| - delta / 2). */
    public static double huber(double e, double delta) {
        double a = Math.abs(e);
        return a <= delta ? 0.5 * a * a : delta * (a - 0.5 * delta);
    }

    /** dpred = scale * clamp(pred - target, -delta, delta). */
    public static void huberBackward(float[] dpred, float[] pred, float[] target, float delta, float scale, int n) {
        for (int i = 0; i < n; i++) {
            dpred[i] = scale * Math.min(Math.max(pred[i] - target[i], -delta), delta);
        }
    }

    // ----------------------------------------------------------------- sparsity: KL(rho || mean activation)

    /** Clamp of a mean activation away from 0 and 1, so the KL and its gradient stay finite. */
    private static final double RHO_EPS = 1e-6;

    /** colMean[c] = mean over rows of h[r, c], clamped into [1e-6, 1 - 1e-6]; in double, rows in order. */
    public static void columnMeans(double[] colMean, float[] h, int rows, int cols) {
        java.util.Arrays.fill(colMean, 0, cols, 0.0);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                colMean[c] += h[r * cols + c];
            }
        }
        for (int c = 0; c < cols; c++) {
            colMean[c] = Math.min(Math.max(colMean[c] / rows, RHO_EPS), 1 - RHO_EPS);
        }
    }

    /**
     * out[r] = weight * sum_c KL(rho || rhoHat_c) for every row (a batch-level term; its mean over
     * the rows is the penalty). rhoHat: the batch's column means (scratch of cols doubles).
     */
    public static void sparsityForward(float[] out, float[] h, double[] rhoHat, float rho, float weight, int rows, int cols) {
        columnMeans(rhoHat, h, rows, cols);
        double s = 0;
        for (int c = 0; c < cols; c++) {
            double q = rhoHat[c];
            double r = rho, notR = 1 - r; // in double: 1 - rho rounded to float makes KL(rho || rho) negative
            s += r * Math.log(r / q) + notR * Math.log(notR / (1 - q));
        }
        float v = (float) (weight * s);
        for (int r = 0; r < rows; r++) {
            out[r] = v;
        }
    }

    /** dh[r, c] (+)= weight / rows * (-rho / rhoHat_c + (1 - rho) / (1 - rhoHat_c)). */
    public static void sparsityBackward(float[] dh, float[] h, double[] rhoHat, float rho, float weight, boolean accumulate,
                                        int rows, int cols) {
        columnMeans(rhoHat, h, rows, cols);
        for (int c = 0; c < cols; c++) {
            double q = rhoHat[c];
            double r = rho;
            rhoHat[c] = weight / rows * (-r / q + (1 - r) / (1 - q));
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float g = (float) rhoHat[c];
                dh[r * cols + c] = accumulate ? dh[r * cols + c] + g : g;
            }
        }
    }

    // ----------------------------------------------------------------- activity L1

    /** out[r] = weight * sum_c |h[r, c]|. */
    public static void activityL1Forward(float[] out, float[] h, float weight, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = r * cols, end = c + cols; c < end; c++) {
                s += Math.abs(h[c]);
            }
            out[r] = (float) (weight * s);
        }
    }

    /** dh (+)= scale * sign(h) (0 at 0). */
    public static void activityL1Backward(float[] dh, float[] h, float scale, boolean accumulate, int n) {
        for (int i = 0; i < n; i++) {
            float g = scale * Math.signum(h[i]);
            dh[i] = accumulate ? dh[i] + g : g;
        }
    }

    // ----------------------------------------------------------------- contractive penalty

    /** rowNorm[j] = sum_i W[j, i]^2 of a weight W (units x in, at wOff), in double. */
    public static void rowNormsSquared(double[] rowNorm, float[] w, int wOff, int units, int in) {
        for (int j = 0; j < units; j++) {
            double s = 0;
            for (int i = wOff + j * in, end = i + in; i < end; i++) {
                s += (double) w[i] * w[i];
            }
            rowNorm[j] = s;
        }
    }

    /** The activation's derivative act'(a) from its output h (IDENTITY, TANH or SIGMOID). */
    static double derivative(Activation act, double h) {
        return switch (act) {
            case TANH -> 1 - h * h;
            case SIGMOID -> h * (1 - h);
            case IDENTITY -> 1;
            case RELU, LEAKY_RELU, ELU, SOFTPLUS, EXP, LOG -> throw new IllegalArgumentException("no contractive penalty for " + act);
        };
    }

    /**
     * out[r] = weight * sum_j act'(h[r, j])^2 rowNorm[j]: ||dh/da||_F^2 of the code h = act(W a + b)
     * with respect to the layer below (rowNorm from {@link #rowNormsSquared}).
     */
    public static void contractiveForward(float[] out, float[] h, double[] rowNorm, Activation act, float weight, int rows, int units) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < units; j++) {
                double d = derivative(act, h[r * units + j]);
                s += d * d * rowNorm[j];
            }
            out[r] = (float) (weight * s);
        }
    }

    /**
     * The gradient through the code: dh[r, j] (+)= scale * rowNorm[j] * d(act'^2)/da / act', so that
     * the layer's own backward (which multiplies by act') gives d/da. act'' / act' is (1 - 2h)
     * for sigmoid and -2h for tanh; a linear code has none.
     */
    public static void contractiveBackward(float[] dh, float[] h, double[] rowNorm, Activation act, float scale, boolean accumulate,
                                           int rows, int units) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < units; j++) {
                double v = h[r * units + j];
                double d = derivative(act, v);
                double ratio = switch (act) {
                    case SIGMOID -> 1 - 2 * v;
                    case TANH -> -2 * v;
                    case IDENTITY -> 0;
                    case RELU, LEAKY_RELU, ELU, SOFTPLUS, EXP, LOG -> throw new IllegalArgumentException("no contractive penalty for " + act);
                };
                float g = (float) (scale * rowNorm[j] * 2 * d * ratio);
                int k = r * units + j;
                dh[k] = accumulate ? dh[k] + g : g;
            }
        }
    }

    /**
     * The weight's own term: dW[j, i] += 2 weight * mean_r(act'(h[r, j])^2) * W[j, i]
     * (meanSq: scratch of units doubles).
     */
    public static void contractiveWeightBackward(float[] dw, int dwOff, float[] w, int wOff, float[] h, double[] meanSq,
                                                 Activation act, float weight, int rows, int units, int in) {
        for (int j = 0; j < units; j++) {
            double s = 0;
            for (int r = 0; r < rows; r++) {
                double d = derivative(act, h[r * units + j]);
                s += d * d;
            }
            meanSq[j] = 2.0 * weight * s / rows;
        }
        for (int j = 0; j < units; j++) {
            float f = (float) meanSq[j];
            for (int i = 0; i < in; i++) {
                dw[dwOff + j * in + i] += f * w[wOff + j * in + i];
            }
        }
    }

    // ----------------------------------------------------------------- batch normalization

    /** mean[j] and biased var[j] of column j of x (rows x cols), in double, two passes in row order. */
    public static void batchStatistics(double[] mean, double[] var, float[] x, int rows, int cols) {
        java.util.Arrays.fill(mean, 0, cols, 0.0);
        java.util.Arrays.fill(var, 0, cols, 0.0);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                mean[j] += x[r * cols + j];
            }
        }
        for (int j = 0; j < cols; j++) {
            mean[j] /= rows;
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                double d = x[r * cols + j] - mean[j];
                var[j] += d * d;
            }
        }
        for (int j = 0; j < cols; j++) {
            var[j] /= rows;
        }
    }

    /** invStd[j] = 1 / sqrt(var[j] + eps). */
    public static void inverseStd(double[] invStd, double[] var, float eps, int cols) {
        for (int j = 0; j < cols; j++) {
            invStd[j] = 1 / Math.sqrt(var[j] + eps);
        }
    }

    /**
     * y = gamma (x - mean) invStd + beta, column-wise (rows x cols), as y = a x + c with a =
     * gamma invStd and c = beta - a mean per column (kept in scale, shift: scratch of cols
     * floats): in training with the batch's mean ({@link #batchStatistics}, {@link #inverseStd}),
     * at inference with the running ones. gamma at p[gammaOff], beta at p[betaOff].
     */
    public static void batchNormForward(float[] y, float[] x, double[] mean, double[] invStd, float[] p, int gammaOff, int betaOff,
                                        float[] scale, float[] shift, int rows, int cols) {
        for (int j = 0; j < cols; j++) {
            double a = p[gammaOff + j] * invStd[j];
            scale[j] = (float) a;
            shift[j] = (float) (p[betaOff + j] - a * mean[j]);
        }
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                y[o + j] = Math.fma(scale[j], x[o + j], shift[j]);
            }
        }
    }

    /**
     * Backward of the training forward: grads[gammaOff + j] = sum_r dy xhat and grads[betaOff +
     * j] = sum_r dy (overwritten), xhat = (x - mean) invStd; dx (+)= gamma invStd (dy - dbeta /
     * rows - xhat dgamma / rows), the gradient through the batch's mean and variance too, in
     * double per element (its terms cancel: the rows' dx sum to 0); dx null when the input needs
     * no gradient. sumDy, sumDyXhat: scratch of cols doubles.
     */
    public static void batchNormBackward(float[] dx, boolean accumulate, float[] grads, float[] dy, float[] x, double[] mean,
                                         double[] invStd, float[] p, int gammaOff, int betaOff, double[] sumDy,
                                         double[] sumDyXhat, int rows, int cols) {
        java.util.Arrays.fill(sumDy, 0, cols, 0.0);
        java.util.Arrays.fill(sumDyXhat, 0, cols, 0.0);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                double g = dy[o + j];
                sumDy[j] += g;
                sumDyXhat[j] += g * (x[o + j] - mean[j]);
            }
        }
        for (int j = 0; j < cols; j++) {
            sumDyXhat[j] *= invStd[j];
            grads[gammaOff + j] = (float) sumDyXhat[j];
            grads[betaOff + j] = (float) sumDy[j];
            // From here on: b = dbeta / rows and c = dgamma invStd / rows, so dx = gamma invStd (dy - b - (x - mean) c).
            sumDy[j] /= rows;
            sumDyXhat[j] *= invStd[j] / rows;
        }
        if (dx == null) {
            return;
        }
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                float v = (float) (p[gammaOff + j] * invStd[j] * (dy[o + j] - sumDy[j] - (x[o + j] - mean[j]) * sumDyXhat[j]));
                dx[o + j] = accumulate ? dx[o + j] + v : v;
            }
        }
    }

    /**
     * After an applied training step: running = (1 - momentum) running + momentum batch, for the
     * mean and for the variance (the batch's unbiased variance, var rows / (rows - 1), as PyTorch).
     */
    public static void batchNormRunningUpdate(float[] p, int meanOff, int varOff, double[] mean, double[] var, float momentum,
                                              int rows, int cols) {
        double unbias = rows > 1 ? (double) rows / (rows - 1) : 1.0;
        for (int j = 0; j < cols; j++) {
            p[meanOff + j] = (float) ((1 - momentum) * p[meanOff + j] + momentum * mean[j]);
            p[varOff + j] = (float) ((1 - momentum) * p[varOff + j] + momentum * var[j] * unbias);
        }
    }
}
