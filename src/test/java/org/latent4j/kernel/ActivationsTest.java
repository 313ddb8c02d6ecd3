package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Activations against double-precision references. Tolerance: |y - ref| <= 1e-5 |ref| + 1e-6
 * for forward values; |dx - ref| <= 1e-5 |ref| + 1e-6 |dy| for gradients (the derivative is
 * computed from the float output y, so it inherits y's rounding).
 */
class ActivationsTest {
    static final int[] SIZES = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 101, 1000};
    static final float LEAK = 0.01f;
    static final float ELU_ALPHA = 1.3f;

    static float param(Activation a) {
        return a == Activation.LEAKY_RELU ? LEAK : a == Activation.ELU ? ELU_ALPHA : 0f;
    }

    static double ref(Activation act, double x, double a) {
        return switch (act) {
            case IDENTITY -> x;
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x > 0 ? x : a * x;
            case ELU -> x > 0 ? x : a * (Math.exp(x) - 1);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SOFTPLUS -> Math.log1p(Math.exp(x));
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
        };
    }

    /** d act / dx in closed form, in double. */
    static double refDerivative(Activation act, double x, double a) {
        return switch (act) {
            case IDENTITY -> 1;
            case RELU -> x > 0 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : a;
            case ELU -> x > 0 ? 1 : a * Math.exp(x);
            case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
            case SIGMOID -> Math.exp(-x) / ((1 + Math.exp(-x)) * (1 + Math.exp(-x)));
            case SOFTPLUS -> 1 / (1 + Math.exp(-x));
            case EXP -> Math.exp(x);
            case LOG -> 1 / x;
        };
    }

    static float[] inputs(Activation act, SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double v = act == Activation.LOG ? Math.exp(r.nextDouble() * 8 - 4) : r.nextDouble() * 12 - 6;
            // keep clear of the kink at 0, where the one-sided derivatives differ
            if (Math.abs(v) < 1e-3) {
                v = 0.5;
            }
            x[i] = (float) v;
        }
        return x;
    }

    static void close(double ref, float got, double tol, String what) {
        if (!(Math.abs(got - ref) <= tol)) {
            throw new AssertionError(what + ": got " + got + ", reference " + ref + " (tolerance " + tol + ")");
        }
    }

    @Test
    void forwardMatchesDoubleReference() {
        SplittableRandom r = new SplittableRandom(1);
        for (Activation act : Activation.values()) {
            for (int n : SIZES) {
                float[] x = inputs(act, r, n);
                float[] y = new float[n + 3];
                Activations.forward(act, param(act), y, 2, x, 0, n);
                for (int i = 0; i < n; i++) {
                    double ref = ref(act, x[i], param(act));
                    close(ref, y[2 + i], 1e-5 * Math.abs(ref) + 1e-6, act + " n=" + n + " x=" + x[i]);
                }
                assertEquals(0f, y[0]);
                assertEquals(0f, y[1]);
                assertEquals(0f, y[n + 2], act + " wrote past its range");
            }
        }
    }

    @Test
    void backwardMatchesClosedFormDerivative() {
        SplittableRandom r = new SplittableRandom(2);
        for (Activation act : Activation.values()) {
            for (int n : SIZES) {
                float[] x = inputs(act, r, n);
                float[] y = new float[n];
                float[] dy = new float[n];
                for (int i = 0; i < n; i++) {
                    dy[i] = (float) (r.nextDouble() * 2 - 1);
                }
                Activations.forward(act, param(act), y, 0, x, 0, n);
                float[] dx = new float[n];
                Activations.backward(act, param(act), dx, 0, dy, 0, y, 0, n);
                for (int i = 0; i < n; i++) {
                    double ref = dy[i] * refDerivative(act, x[i], param(act));
                    close(ref, dx[i], 1e-5 * Math.abs(ref) + 1e-6 * Math.abs(dy[i]) + 1e-30, act + " backward n=" + n + " x=" + x[i]);
                }
            }
        }
    }

    @Test
    void closedFormDerivativesAgreeWithFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(3);
        for (Activation act : Activation.values()) {
            for (int t = 0; t < 50; t++) {
                double x = inputs(act, r, 1)[0];
                double h = 1e-6 * Math.max(1, Math.abs(x));
                double fd = (ref(act, x + h, param(act)) - ref(act, x - h, param(act))) / (2 * h);
                double an = refDerivative(act, x, param(act));
                assertTrue(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), act + " at " + x + ": fd " + fd + " vs " + an);
            }
        }
    }

    @Test
    void fusedBiasActivationMatchesReferenceAndWorksInPlace() {
        SplittableRandom r = new SplittableRandom(4);
        for (Activation act : Activation.values()) {
            int rows = 5, cols = 37;
            float[] x = inputs(act, r, rows * cols);
            float[] bias = new float[cols];
            for (int c = 0; c < cols; c++) {
                bias[c] = act == Activation.LOG ? 0.25f : (float) (r.nextDouble() - 0.5);
            }
            float[] y = x.clone();
            Activations.biasForward(act, param(act), y, 0, y, 0, bias, 0, rows, cols); // in place
            for (int i = 0; i < rows * cols; i++) {
                double ref = ref(act, (double) (x[i] + bias[i % cols]), param(act));
                close(ref, y[i], 1e-5 * Math.abs(ref) + 1e-6, act + " bias row " + i / cols);
            }
        }
    }

    @Test
    void vectorAndScalarTwinsAgree() {
        SplittableRandom r = new SplittableRandom(5);
        for (Activation act : Activation.values()) {
            int n = 257;
            float[] x = inputs(act, r, n);
            float[] yv = new float[n], ys = new float[n];
            Activations.forward(act, param(act), yv, 0, x, 0, n);
            Activations.forwardScalar(act, param(act), ys, 0, x, 0, n);
            float[] dy = inputs(Activation.IDENTITY, r, n);
            float[] dv = new float[n], ds = new float[n];
            Activations.backward(act, param(act), dv, 0, dy, 0, yv, 0, n);
            Activations.backwardScalar(act, param(act), ds, 0, dy, 0, yv, 0, n);
            for (int i = 0; i < n; i++) {
                close(ys[i], yv[i], 2e-5 * Math.abs(ys[i]) + 1e-6, act + " forward twin");
                close(ds[i], dv[i], 2e-5 * Math.abs(ds[i]) + 1e-6 * Math.abs(dy[i]), act + " backward twin");
            }
        }
    }

    @Test
    void scalarTwinsMatchDoubleReference() {
        // The plain loops the benchmarks compare with, held to the same bounds as the vector kernels.
        SplittableRandom r = new SplittableRandom(6);
        for (Activation act : Activation.values()) {
            for (int n : SIZES) {
                float[] x = inputs(act, r, n), y = new float[n], dy = new float[n], dx = new float[n];
                for (int i = 0; i < n; i++) {
                    dy[i] = (float) (r.nextDouble() * 2 - 1);
                }
                Activations.forwardScalar(act, param(act), y, 0, x, 0, n);
                Activations.backwardScalar(act, param(act), dx, 0, dy, 0, y, 0, n);
                for (int i = 0; i < n; i++) {
                    double ref = ref(act, x[i], param(act));
                    close(ref, y[i], 1e-5 * Math.abs(ref) + 1e-6, act + " scalar forward n=" + n + " x=" + x[i]);
                    double g = dy[i] * refDerivative(act, x[i], param(act));
                    close(g, dx[i], 1e-5 * Math.abs(g) + 1e-6 * Math.abs(dy[i]) + 1e-30, act + " scalar backward n=" + n + " x=" + x[i]);
                }
            }
        }
    }

    @Test
    void nanPropagatesForwardAndBackward() {
        for (Activation act : Activation.values()) {
            for (int n : new int[] {1, 9, 20}) {
                float[] x = new float[n];
                java.util.Arrays.fill(x, 0.5f);
                x[n - 1] = Float.NaN;
                float[] y = new float[n];
                Activations.forward(act, param(act), y, 0, x, 0, n);
                assertTrue(Float.isNaN(y[n - 1]), act + " forward turned NaN into " + y[n - 1]);
                float[] dy = new float[n];
                java.util.Arrays.fill(dy, 1f);
                float[] dx = new float[n];
                Activations.backward(act, param(act), dx, 0, dy, 0, y, 0, n);
                // The identity's derivative does not look at y: its dx is dy, NaN or not.
                if (act != Activation.IDENTITY) {
                    assertTrue(Float.isNaN(dx[n - 1]), act + " backward turned NaN into " + dx[n - 1]);
                }
                assertTrue(n == 1 || Float.isFinite(dx[0]), act + " backward spread NaN to a finite element");
            }
        }
    }

    @Test
    void hugeInputsStayFiniteWhereTheMathIs() {
        float[] x = {100f, -100f, 88.8f, -88.8f, 1e30f, -1e30f};
        float[] y = new float[x.length];
        Activations.forward(Activation.SIGMOID, 0, y, 0, x, 0, x.length);
        assertEquals(1f, y[0]);
        assertEquals(0f, y[1]);
        assertEquals(0f, y[5]);
        Activations.forward(Activation.SOFTPLUS, 0, y, 0, x, 0, x.length);
        assertEquals(100f, y[0]);
        assertTrue(y[1] >= 0f && y[1] < 1e-40f, "softplus(-100) = " + y[1]);
        assertEquals(1e30f, y[4]);
        Activations.forward(Activation.TANH, 0, y, 0, x, 0, x.length);
        assertEquals(1f, y[0]);
        assertEquals(-1f, y[1]);
        Activations.forward(Activation.ELU, ELU_ALPHA, y, 0, x, 0, x.length);
        assertEquals(-ELU_ALPHA, y[1], 1e-6f);
        assertEquals(1e30f, y[4]);
        for (Activation act : new Activation[] {Activation.SIGMOID, Activation.SOFTPLUS, Activation.TANH, Activation.ELU}) {
            Activations.forward(act, param(act), y, 0, x, 0, x.length);
            float[] dx = new float[x.length];
            float[] ones = {1, 1, 1, 1, 1, 1};
            Activations.backward(act, param(act), dx, 0, ones, 0, y, 0, x.length);
            for (int i = 0; i < x.length; i++) {
                assertTrue(Float.isFinite(y[i]) && Float.isFinite(dx[i]), act + "(" + x[i] + ") = " + y[i] + ", grad " + dx[i]);
            }
        }
    }

    @Test
    void badArgumentsGetClearErrors() {
        float[] x = new float[8];
        var e = assertThrows(IllegalArgumentException.class, () -> Activations.forward(Activation.RELU, 0, x, 0, x, 0, 0));
        assertTrue(e.getMessage().contains("length must be positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activations.forward(Activation.LEAKY_RELU, 1.5f, x, 0, x, 0, 8));
        assertTrue(e.getMessage().contains("slope"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activations.forward(Activation.RELU, 0, x, 4, x, 0, 8));
        assertTrue(e.getMessage().contains("outside its array of length 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activations.biasForward(Activation.RELU, 0, x, 0, x, 0, new float[3], 0, 2, 4));
        assertTrue(e.getMessage().startsWith("bias"), e.getMessage());
    }
}
