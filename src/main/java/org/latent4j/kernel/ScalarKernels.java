package org.latent4j.kernel;

/**
 * Scalar twins of the batch-1 inference kernels: bitwise the results of {@link Gemv#dense} and
 * {@link Activations#biasForward}, in plain loops that touch no Vector API class.
 *
 * <p>Why: a fresh JVM runs Vector API code in the interpreter and C1 (every vector boxed, every
 * operation's lambda spun on first use) until C2 has compiled it; the first reconstruct of a W1
 * model spent ~130 ms so. These loops cost ~10 ns per multiply-add in the interpreter, and C1
 * compiles them within milliseconds; {@link VectorWarmUp#ready} says when the vector kernels take over.
 *
 * <p>Rounding, the same as {@link Gemv}'s: each output sums k in {@link Gemm#blockDepth} blocks,
 * each block from zero in k order with {@link Math#fma}, then adds {@code block * alpha} to the
 * running total; then {@code + bias} and the activation with the vector code's operations
 * (Math.max for relu, the Cephes exp of {@link VMath#sigmoid} step by step).
 */
public final class ScalarKernels {
    private ScalarKernels() {}

    /** True when {@link #activate} has a bitwise twin of the activation (the others run {@link Activations#biasForward}). */
    public static boolean hasTwin(Activation act) {
        return switch (act) {
            case IDENTITY, RELU, LEAKY_RELU, SIGMOID -> true;
            case ELU, TANH, SOFTPLUS, EXP, LOG -> false;
        };
    }

    /**
     * y[yOff .. +n) = act(alpha * W x + bias) for one row x[xOff .. +k), W (n x k, row-major, a
     * dense layer's weight) at {@code wOff} of {@code w}; {@code bf16}: each weight rounded to
     * bfloat16 first (as {@link Gemv#packBf16} stores it). bias may be null. Activations without a
     * twin ({@link #hasTwin}) run {@link Activations#biasForward} on y.
     */
    public static void dense(float[] y, int yOff, float[] x, int xOff, int k, int n, float alpha, float[] w, int wOff, boolean bf16,
                             float[] bias, int biasOff, Activation act, float actParam) {
        if (k <= 0 || n <= 0) {
            throw new IllegalArgumentException("dense: dimensions must be positive, got k=" + k + ", n=" + n);
        }
        Gemm.checkMatrix("x", x, xOff, k, 1, k);
        Gemm.checkMatrix("y", y, yOff, n, 1, n);
        Gemm.checkMatrix("W", w, wOff, k, n, k);
        if (bias != null) {
            Gemm.checkMatrix("bias", bias, biasOff, n, 1, n);
        }
        act.checkParameter(actParam);
        int kcb = Gemm.blockDepth(k);
        for (int j = 0; j < n; j++) {
            int row = wOff + j * k;
            float t = 0f;
            for (int pc = 0; pc < k; pc += kcb) {
                int end = Math.min(k, pc + kcb);
                float a = 0f;
                if (bf16) {
                    for (int q = pc; q < end; q++) {
                        a = Math.fma(x[xOff + q], Gemv.fromBf16(Gemv.bf16(w[row + q])), a);
                    }
                } else {
                    for (int q = pc; q < end; q++) {
                        a = Math.fma(x[xOff + q], w[row + q], a);
                    }
                }
                t += a * alpha;
            }
            y[yOff + j] = t;
        }
        if (hasTwin(act)) {
            activate(act, actParam, y, yOff, bias, biasOff, n);
        } else if (bias != null || act != Activation.IDENTITY) {
            Activations.biasForward(act, actParam, y, yOff, y, yOff, bias, biasOff, 1, n);
        }
    }

    /**
     * y[yOff .. +n) = act(x[xOff .. +n)) for inference: this twin while {@link VectorWarmUp#ready}
     * says the vector kernels are not compiled yet (and the activation has a twin), then
     * {@link Activations#forward}; the same bits either way. y may be x.
     */
    public static void forwardInference(Activation act, float a, float[] y, int yOff, float[] x, int xOff, int n) {
        if (!hasTwin(act) || VectorWarmUp.ready()) {
            Activations.forward(act, a, y, yOff, x, xOff, n);
            return;
        }
        if (n <= 0) {
            throw new IllegalArgumentException("activation: length must be positive, got " + n);
        }
        Gemm.checkMatrix("x", x, xOff, n, 1, n);
        Gemm.checkMatrix("y", y, yOff, n, 1, n);
        act.checkParameter(a);
        if (y != x || yOff != xOff) {
            System.arraycopy(x, xOff, y, yOff, n);
        }
        activate(act, a, y, yOff, null, 0, n);
    }

    /** y = act(y + bias) in place, for an activation with a twin ({@link #hasTwin}); bias may be null. */
    public static void activate(Activation act, float a, float[] y, int yOff, float[] bias, int biasOff, int n) {
        for (int i = 0; i < n; i++) {
            float v = bias == null ? y[yOff + i] : y[yOff + i] + bias[biasOff + i];
            y[yOff + i] = switch (act) {
                case IDENTITY -> v;
                case RELU -> Math.max(v, 0f);
                case LEAKY_RELU -> Math.max(v, v * a);
                case SIGMOID -> sigmoid(v);
                case ELU, TANH, SOFTPLUS, EXP, LOG -> throw new IllegalArgumentException("activation " + act + " has no scalar twin");
            };
        }
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float EXP_MAX = 88.72283905206835f;
    private static final float EXP_MIN = -87.33654475f;
    private static final float ROUND = 12582912f;

    /** 1 / (1 + e^-v), bitwise a lane of {@link VMath#sigmoid}. */
    public static float sigmoid(float v) {
        return 1f / (exp(-v) + 1f);
    }

    /** e^v, bitwise a lane of {@link VMath#exp}: Cody-Waite reduction, the Cephes polynomial, two exponent scalings. */
    public static float exp(float v) {
        float xc = Math.min(Math.max(v, EXP_MIN), EXP_MAX);
        float n = xc * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -0.693359375f, xc);
        r = Math.fma(n, 2.12194440e-4f, r);
        float p = Math.fma(r, 1.9875691500E-4f, 1.3981999507E-3f);
        p = Math.fma(p, r, 8.3334519073E-3f);
        p = Math.fma(p, r, 4.1665795894E-2f);
        p = Math.fma(p, r, 1.6666665459E-1f);
        p = Math.fma(p, r, 5.0000001201E-1f);
        p = Math.fma(p, r * r, r) + 1f;
        int ni = (int) n, n1 = ni >> 1;
        float e = p * Float.intBitsToFloat((n1 + 127) << 23) * Float.intBitsToFloat((ni - n1 + 127) << 23);
        if (v < EXP_MIN) {
            e = 0f;
        }
        if (v > EXP_MAX) {
            e = Float.POSITIVE_INFINITY;
        }
        return e;
    }
}
