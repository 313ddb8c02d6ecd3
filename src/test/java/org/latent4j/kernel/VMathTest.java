package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * VMath against double precision (random inputs, ulp bounds stated per function), special
 * values, and the same bits with the JIT off (a child JVM with -Xint).
 */
class VMathTest {
    interface Fn {
        void apply(float[] y, int yo, float[] x, int xo, int n);
    }

    static float[] apply(Fn f, float[] x) {
        float[] y = new float[x.length];
        f.apply(y, 0, x, 0, x.length);
        return y;
    }

    static void within(Fn f, DoubleUnaryOperator ref, double lo, double hi, int maxUlp, String name) {
        SplittableRandom r = new SplittableRandom(name.hashCode());
        int n = 20000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        float[] y = apply(f, x);
        for (int i = 0; i < n; i++) {
            double e = ref.applyAsDouble(x[i]);
            float ef = (float) e;
            double err = Math.abs(y[i] - e) / Math.ulp(ef == 0 ? Float.MIN_NORMAL : ef);
            assertTrue(err <= maxUlp, name + "(" + x[i] + ") = " + y[i] + ", exact " + e + ": " + err + " ulp");
        }
    }

    @Test
    void accurateToAFewUlp() {
        within(VMath::exp, Math::exp, -87, 88.7, 2, "exp");
        within(VMath::exp, Math::exp, -1, 1, 2, "exp small");
        within(VMath::expm1, Math::expm1, -0.6, 0.6, 3, "expm1 small");
        within(VMath::expm1, Math::expm1, -20, 20, 3, "expm1");
        within(VMath::log, Math::log, 1e-30, 1e30, 2, "log");
        within(VMath::log, Math::log, 0.5, 2, 2, "log near 1");
        within(VMath::log1p, Math::log1p, -0.9, 10, 3, "log1p");
        within(VMath::log1p, Math::log1p, 0, 1e-5, 3, "log1p tiny");
        within(VMath::tanh, Math::tanh, -10, 10, 3, "tanh");
        within(VMath::tanh, Math::tanh, -0.7, 0.7, 3, "tanh small");
    }

    @Test
    void specialValues() {
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 100f, -100f, -200f, 1e-40f, -1f};
        float[] e = apply(VMath::exp, x);
        assertTrue(Float.isNaN(e[0]));
        assertEquals(Float.POSITIVE_INFINITY, e[1]);
        assertEquals(0f, e[2]);
        assertEquals(1f, e[3]);
        assertEquals(Float.POSITIVE_INFINITY, e[5]);
        assertEquals(0f, e[6], "results below the smallest normal float are flushed to zero");
        assertEquals(0f, e[7]);
        float[] l = apply(VMath::log, x);
        assertTrue(Float.isNaN(l[0]));
        assertEquals(Float.POSITIVE_INFINITY, l[1]);
        assertTrue(Float.isNaN(l[2]));
        assertEquals(Float.NEGATIVE_INFINITY, l[3]);
        assertEquals((float) Math.log(1e-40f), l[8], 1e-5f);
        assertTrue(Float.isNaN(l[9]));
        float[] t = apply(VMath::tanh, x);
        assertTrue(Float.isNaN(t[0]));
        assertEquals(1f, t[1]);
        assertEquals(-1f, t[2]);
        assertEquals(1f, t[5]);
        assertTrue(Float.isNaN(apply(VMath::expm1, x)[0]) && Float.isNaN(apply(VMath::log1p, x)[0]));
    }

    /** Bits of every function on fixed inputs, as one hash. */
    static long fingerprint() {
        float[] x = new float[4096];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 40 - 20);
        }
        long h = 1;
        float[] ax = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            ax[i] = Math.abs(x[i]);
        }
        for (Fn f : java.util.List.<Fn>of(VMath::exp, VMath::expm1, VMath::tanh, VMath::sigmoid, VMath::softplus)) {
            for (float y : apply(f, x)) {
                h = h * 31 + Float.floatToRawIntBits(y);
            }
        }
        for (Fn f : java.util.List.<Fn>of(VMath::log, VMath::log1p)) {
            for (float y : apply(f, ax)) {
                h = h * 31 + Float.floatToRawIntBits(y);
            }
        }
        float[] y = new float[x.length];
        for (Activation a : Activation.values()) {
            float[] in = a == Activation.LOG ? ax : x;
            Activations.forward(a, a == Activation.LEAKY_RELU ? 0.1f : a == Activation.ELU ? 1f : 0f, y, 0, in, 0, x.length);
            for (float v : y) {
                h = h * 31 + Float.floatToRawIntBits(v);
            }
        }
        // Row sums (loss per row, KL per row, plain sums): the lanes' order must not depend on the JIT.
        float[] t = new float[x.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = (i * 7 % 11) / 10f;
        }
        float[] rows = new float[x.length / 64];
        for (int row = 0; row < rows.length; row++) {
            h = h * 31 + Float.floatToRawIntBits(VMath.bceRowSum(x, t, row * 64, 61));
            h = h * 31 + Float.floatToRawIntBits(Reductions.sum(x, row * 64, 63));
        }
        VaeKernels.gaussianKl(rows, x, t, rows.length, 64);
        for (float v : rows) {
            h = h * 31 + Float.floatToRawIntBits(v);
        }
        return h;
    }

    public static void main(String[] args) {
        System.out.println("fingerprint " + fingerprint());
    }

    @Test
    void sameBitsInterpretedAndCompiled() throws Exception {
        for (int i = 0; i < 200; i++) {
            fingerprint(); // let C2 compile the kernels here
        }
        long compiled = fingerprint();
        String java = Path(System.getProperty("java.home"));
        ProcessBuilder pb = new ProcessBuilder(java, "-Xint", "--add-modules=jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), VMathTest.class.getName());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
        assertTrue(out.contains("fingerprint " + compiled), "interpreted run printed: " + out + " but compiled gives " + compiled);
    }

    private static String Path(String home) {
        return java.nio.file.Path.of(home, "bin", "java").toString();
    }
}
