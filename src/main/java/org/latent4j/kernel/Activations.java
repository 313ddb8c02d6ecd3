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
                case ELU -> elu(y, yo, x, xo, bias, bo, cols, a);
                case TANH -> tanh(y, yo, x, xo, bias, bo, cols);
                case SIGMOID -> sigmoid(y, yo, x, xo, bias, bo, cols);
                case SOFTPLUS -> softplus(y, yo, x, xo, bias, bo, cols);
                case EXP -> exp(y, yo, x, xo, bias, bo, cols);
                case LOG -> log(y, yo, x, xo, bias, bo, cols);
            }
        }
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
            case SOFTPLUS -> expDerivBackward(dx, dxOff, dy, dyOff, y, yOff, n, true);
            case EXP -> mulBackward(dx, dxOff, dy, dyOff, y, yOff, n);
            case LOG -> expDerivBackward(dx, dxOff, dy, dyOff, y, yOff, n, false);
        }
    }

    // ------------------------------------------------------------------ forward bodies

    private static FloatVector load(float[] x, int xo, float[] bias, int bo, int i) {
        FloatVector v = FloatVector.fromArray(S, x, xo + i);
        return bias == null ? v : v.add(FloatVector.fromArray(S, bias, bo + i));
    }

    private static FloatVector load(float[] x, int xo, float[] bias, int bo, int i, VectorMask<Float> m) {
        FloatVector v = FloatVector.fromArray(S, x, xo + i, m);
        return bias == null ? v : v.add(FloatVector.fromArray(S, bias, bo + i, m));
    }

    private static void identity(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        if (bias == null) {
            if (y != x || yo != xo) {
                System.arraycopy(x, xo, y, yo, n);
            }
            return;
        }
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            load(x, xo, bias, bo, i).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            load(x, xo, bias, bo, i, m).intoArray(y, yo + i, m);
        }
    }

    private static void relu(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            load(x, xo, bias, bo, i).max(zero).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            load(x, xo, bias, bo, i, m).max(zero).intoArray(y, yo + i, m);
        }
    }

    private static FloatVector leaky(FloatVector v, float a) {
        // x > 0 ? x : a x  ==  max(x, a x) for 0 <= a < 1; NaN stays NaN.
        return v.max(v.mul(a));
    }

    private static void leakyRelu(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n, float a) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            leaky(load(x, xo, bias, bo, i), a).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            leaky(load(x, xo, bias, bo, i, m), a).intoArray(y, yo + i, m);
        }
    }

    private static FloatVector elu(FloatVector v, float a) {
        // x > 0 ? x : a * expm1(x); min(x, 0) keeps expm1 from overflowing, NaN flows through both.
        FloatVector neg = VMath.expm1(v.min(0f)).mul(a);
        return v.blend(neg, v.compare(VectorOperators.GT, 0f).not());
    }

    private static void elu(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n, float a) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            elu(load(x, xo, bias, bo, i), a).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            elu(load(x, xo, bias, bo, i, m), a).intoArray(y, yo + i, m);
        }
    }

    // One small method per function (no operator passed as a parameter): a lanewise() operator
    // that is not a constant at its call site cannot be intrinsified (measured ~20x slower).
    private static void tanh(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            VMath.tanh(load(x, xo, bias, bo, i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VMath.tanh(load(x, xo, bias, bo, i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void exp(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            VMath.exp(load(x, xo, bias, bo, i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VMath.exp(load(x, xo, bias, bo, i, m)).intoArray(y, yo + i, m);
        }
    }

    private static void log(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            VMath.log(load(x, xo, bias, bo, i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            VMath.log(load(x, xo, bias, bo, i, m)).intoArray(y, yo + i, m);
        }
    }

    /** sigmoid(x) = 1 / (1 + e^-x): e^-x overflows to +inf for x < -88, giving exactly 0, never NaN. */
    private static FloatVector sigmoid(FloatVector v) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        return one.div(VMath.exp(v.neg()).add(one));
    }

    private static void sigmoid(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            sigmoid(load(x, xo, bias, bo, i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            sigmoid(load(x, xo, bias, bo, i, m)).intoArray(y, yo + i, m);
        }
    }

    /** softplus(x) = max(x, 0) + log1p(e^-|x|): no overflow for any finite x. */
    static FloatVector softplus(FloatVector v) {
        return v.max(0f).add(VMath.log1p(VMath.exp(v.abs().neg())));
    }

    private static void softplus(float[] y, int yo, float[] x, int xo, float[] bias, int bo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            softplus(load(x, xo, bias, bo, i)).intoArray(y, yo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            softplus(load(x, xo, bias, bo, i, m)).intoArray(y, yo + i, m);
        }
    }

    // ------------------------------------------------------------------ backward bodies

    /** relu / leaky relu / elu derivative from y; {@code y * 0} carries a NaN of y into dx. */
    private static FloatVector reluGrad(FloatVector dy, FloatVector y, float a, boolean elu) {
        FloatVector neg = elu ? dy.mul(y.add(a)) : dy.mul(a);
        return dy.blend(neg, y.compare(VectorOperators.GT, 0f).not()).add(y.mul(0f));
    }

    private static void reluBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n, float a, boolean elu) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            reluGrad(FloatVector.fromArray(S, dy, dyo + i), FloatVector.fromArray(S, y, yo + i), a, elu).intoArray(dx, dxo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            reluGrad(FloatVector.fromArray(S, dy, dyo + i, m), FloatVector.fromArray(S, y, yo + i, m), a, elu).intoArray(dx, dxo + i, m);
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

    /** softplus: dy * (1 - e^-y) = dy * -expm1(-y); log: dy * e^-y. */
    private static FloatVector expGrad(FloatVector dy, FloatVector y, boolean softplus) {
        return softplus ? dy.mul(VMath.expm1(y.neg()).neg())
                        : dy.mul(VMath.exp(y.neg()));
    }

    private static void expDerivBackward(float[] dx, int dxo, float[] dy, int dyo, float[] y, int yo, int n, boolean softplus) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            expGrad(FloatVector.fromArray(S, dy, dyo + i), FloatVector.fromArray(S, y, yo + i), softplus).intoArray(dx, dxo + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            expGrad(FloatVector.fromArray(S, dy, dyo + i, m), FloatVector.fromArray(S, y, yo + i, m), softplus).intoArray(dx, dxo + i, m);
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
