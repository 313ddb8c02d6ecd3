package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized activation kernels, forward and backward, on flat float arrays.
 *
 * <p>Each loop is a vector body over {@code loopBound} followed by one masked vector step for the
 * tail (not a scalar tail), so every element goes through the same instructions wherever it sits:
 * a result never depends on how a range was split. Transcendentals come from {@link VMath}, which
 * gives the same bits interpreted and compiled. The scalar twins ({@link #forwardScalar},
 * {@link #backwardScalar}) are the plain loops the benchmarks compare against.
 */
public final class Activations {
    private Activations() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();

    /** y[yOff .. +n) = act(x[xOff .. +n)); y may be x (in place). */
    public static void forward(Activation act, float a, float[] y, int yOff, float[] x, int xOff, int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("activation: length must be positive, got " + n);
        }
        biasForward(act, a, y, yOff, x, xOff, null, 0, 1, n);
    }

    /**
     * y[r][c] = act(x[r][c] + bias[biasOff + c]) for rows x cols row-major blocks (bias may be
     * null: then no bias). The fused bias-add + activation that follows a dense layer's GEMM.
     */
    public static void biasForward(Activation act, float a, float[] y, int yOff, float[] x, int xOff,
                                   float[] bias, int biasOff, int rows, int cols) {
        act.checkParameter(a);
        long n = (long) rows * cols;
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("activation: rows and cols must be positive, got " + rows + "x" + cols);
        }
        checkRange("y", y, yOff, n);
        checkRange("x", x, xOff, n);
        if (bias != null) {
            checkRange("bias", bias, biasOff, cols);
        }
        int bo = biasOff;
        for (int r = 0; r < rows; r++) {
            int yo = yOff + r * cols, xo = xOff + r * cols;
            switch (act) {
                case IDENTITY -> identity(y, yo, x, xo, bias, bo, cols);
                case RELU -> relu(y, yo, x, xo, bias, bo, cols);
                case LEAKY_RELU -> leakyRelu(y, yo, x, xo, bias, bo, cols, a);
                // The transcendental ones: add the bias into y first, then the VMath loop in place.
                case ELU -> VMath.elu(y, yo, biased(y, yo, x, xo, bias, bo, cols), bias == null ? xo : yo, cols, a);
                case TANH -> VMath.tanh(y, yo, biased(y, yo, x, xo, bias, bo, cols), bias == null ? xo : yo, cols);
                case SIGMOID -> VMath.sigmoid(y, yo, biased(y, yo, x, xo, bias, bo, cols), bias == null ? xo : yo, cols);
                case SOFTPLUS -> VMath.softplus(y, yo, biased(y, yo, x, xo, bias, bo, cols), bias == null ? xo : yo, cols);
                case EXP -> VMath.exp(y, yo, biased(y, yo, x, xo, bias, bo, cols), bias == null ? xo : yo, cols);
                case LOG -> VMath.log(y, yo, biased(y, yo, x, xo, bias, bo, cols), bias == null ? xo : yo, cols);
            }
        }
    }

    /** With a bias: y = x + bias, and y is the input of the next pass; without: x is. */
    private static float[] biased(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        if (bias == null) {
            return x;
        }
        identity(y, yo, x, xo, bias, bo, n);
        return y;
    }

    /**
     * dx = dy * act'(x), from the forward output y. dx may be dy (in place).
     */
    public static void backward(Activation act, float a, float[] dx, int dxOff, float[] dy, int dyOff,
                                float[] y, int yOff, int n) {
        act.checkParameter(a);
        if (n <= 0) {
            throw new IllegalArgumentException("activation backward: length must be positive, got " + n);
        }
        checkRange("dx", dx, dxOff, n);
        checkRange("dy", dy, dyOff, n);
        checkRange("y", y, yOff, n);
        switch (act) {
            case IDENTITY -> { if (dx != dy || dxOff != dyOff) { System.arraycopy(dy, dyOff, dx, dxOff, n); } }
            case RELU -> reluBackward(dx, dxOff, dy, dyOff, y, yOff, n, 0f, false);
            case LEAKY_RELU -> reluBackward(dx, dxOff, dy, dyOff, y, yOff, n, a, false);
            case ELU -> reluBackward(dx, dxOff, dy, dyOff, y, yOff, n, a, true);
            case TANH -> tanhBackward(dx, dxOff, dy, dyOff, y, yOff, n);
            case SIGMOID -> sigmoidBackward(dx, dxOff, dy, dyOff, y, yOff, n);
            case SOFTPLUS -> VMath.softplusBackward(dx, dxOff, dy, dyOff, y, yOff, n);
            case EXP -> mulBackward(dx, dxOff, dy, dyOff, y, yOff, n);
            case LOG -> VMath.expNegBackward(dx, dxOff, dy, dyOff, y, yOff, n);
        }
    }

    // ------------------------------------------------------------------ forward bodies

    // No helper here returns a vector: C2 does not inline a callee it has already compiled into more
    // than InlineSmallCode bytes, and a vector returned from a call it did not inline is boxed on the
    // heap (seen at 256 bits: a load(x, bias) helper compiled alone allocated 32 bytes per vector).
    // So each body writes its loads out, with the bias / no-bias choice outside the loop.

    private static void identity(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        if (bias == null) {
            if (y != x || yo != xo) {
                System.arraycopy(x, xo, y, yo, n);
            }
            return;
        }
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, bias, bo + i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, xo + i, m).add(FloatVector.fromArray(S, bias, bo + i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void relu(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        if (bias == null) {
            for (int bound = S.loopBound(n); i < bound; i += L) {
                FloatVector.fromArray(S, x, xo + i).max(zero).intoArray(y, yo + i);
            }
            if (i < n) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector.fromArray(S, x, xo + i, m).max(zero).intoArray(y, yo + i, m);
            }
            return;
        }
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, bias, bo + i)).max(zero).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, xo + i, m).add(FloatVector.fromArray(S, bias, bo + i, m)).max(zero).intoArray(y, yo + i, m);
        }
    }

    // Leaky relu: x > 0 ? x : a x  ==  max(x, a x) for 0 <= a < 1; NaN stays NaN.
    private static void leakyRelu(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n, float a) {
        int i = 0;
        if (bias == null) {
            for (int bound = S.loopBound(n); i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xo + i);
                v.max(v.mul(a)).intoArray(y, yo + i);
            }
            if (i < n) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector v = FloatVector.fromArray(S, x, xo + i, m);
                v.max(v.mul(a)).intoArray(y, yo + i, m);
            }
            return;
        }
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, bias, bo + i));
            v.max(v.mul(a)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xo + i, m).add(FloatVector.fromArray(S, bias, bo + i, m));
            v.max(v.mul(a)).intoArray(y, yo + i, m);
        }
    }

    // ------------------------------------------------------------------ backward bodies

    /** relu / leaky relu / elu derivative from y; {@code y * 0} carries a NaN of y into dx. */
    private static void reluBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n, float a, boolean elu) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, dy, dyo + i), v = FloatVector.fromArray(S, y, yo + i);
            FloatVector neg = elu ? g.mul(v.add(a)) : g.mul(a);
            g.blend(neg, v.compare(VectorOperators.GT, 0f).not()).add(v.mul(0f)).intoArray(dx, dxo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(S, dy, dyo + i, m), v = FloatVector.fromArray(S, y, yo + i, m);
            FloatVector neg = elu ? g.mul(v.add(a)) : g.mul(a);
            g.blend(neg, v.compare(VectorOperators.GT, 0f).not()).add(v.mul(0f)).intoArray(dx, dxo + i, m);
        }
    }

    private static void tanhBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, y, yo + i);
            FloatVector g = v.neg().fma(v, FloatVector.broadcast(S, 1f)); // 1 - y^2
            FloatVector.fromArray(S, dy, dyo + i).mul(g).intoArray(dx, dxo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, y, yo + i, m);
            FloatVector g = v.neg().fma(v, FloatVector.broadcast(S, 1f));
            FloatVector.fromArray(S, dy, dyo + i, m).mul(g).intoArray(dx, dxo + i, m);
        }
    }

    private static void sigmoidBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, y, yo + i);
            FloatVector g = v.sub(v.mul(v)); // y (1 - y)
            FloatVector.fromArray(S, dy, dyo + i).mul(g).intoArray(dx, dxo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, y, yo + i, m);
            FloatVector g = v.sub(v.mul(v));
            FloatVector.fromArray(S, dy, dyo + i, m).mul(g).intoArray(dx, dxo + i, m);
        }
    }

    private static void mulBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, dy, dyo + i).mul(FloatVector.fromArray(S, y, yo + i)).intoArray(dx, dxo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, dy, dyo + i, m).mul(FloatVector.fromArray(S, y, yo + i, m)).intoArray(dx, dxo + i, m);
        }
    }

    // ------------------------------------------------------------------ scalar twins

    /** The plain scalar loop of {@link #forward}: the baseline the benchmarks compare with. */
    public static void forwardScalar(Activation act, float a, float[] y, int yOff, float[] x, int xOff, int n) {
        act.checkParameter(a);
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            y[yOff + i] = switch (act) {
                case IDENTITY -> v;
                case RELU -> Math.max(v, 0f);
                case LEAKY_RELU -> v > 0f ? v : a * v;
                case ELU -> v > 0f ? v : a * (float) Math.expm1(v);
                case TANH -> (float) Math.tanh(v);
                case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-v)));
                case SOFTPLUS -> Math.max(v, 0f) + (float) Math.log1p(Math.exp(-Math.abs(v)));
                case EXP -> (float) Math.exp(v);
                case LOG -> (float) Math.log(v);
            };
        }
    }

    /** The plain scalar loop of {@link #backward}. */
    public static void backwardScalar(Activation act, float a, float[] dx, int dxOff, float[] dy, int dyOff, float[] y, int yOff, int n) {
        act.checkParameter(a);
        for (int i = 0; i < n; i++) {
            float g = dy[dyOff + i], v = y[yOff + i];
            dx[dxOff + i] = switch (act) {
                case IDENTITY -> g;
                case RELU -> v > 0f ? g : 0f * v;
                case LEAKY_RELU -> v > 0f ? g : a * g + 0f * v;
                case ELU -> v > 0f ? g : g * (v + a);
                case TANH -> g * (1f - v * v);
                case SIGMOID -> g * (v - v * v);
                case SOFTPLUS -> g * (float) -Math.expm1(-v);
                case EXP -> g * v;
                case LOG -> g * (float) Math.exp(-v);
            };
        }
    }

    static void checkRange(String name, float[] x, int off, long n) {
        if (x == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (off < 0 || off + n > x.length) {
            throw new IllegalArgumentException(name + ": range [" + off + ", " + (off + n) + ") is outside its array of length " + x.length);
        }
    }
}
