package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemv} against a double-precision dot product per output (the naive twin), bitwise
 * against {@link Gemm#gemmPacked} plus {@link Activations#biasForward} on the same row, and
 * bitwise the same on 1, 2 and 3 threads; its bfloat16 weights against the twin on the rounded
 * weights, and the rounding itself against the two neighbouring bfloat16 values.
 */
class GemvTest {
    static SpinTeam two;
    static SpinTeam three;

    @BeforeAll
    static void teams() {
        two = new SpinTeam(2);
        three = new SpinTeam(3);
    }

    @AfterAll
    static void close() {
        two.close();
        three.close();
    }

    static float[] random(SplittableRandom r, int n) {
        return GemmTest.random(r, n);
    }

    /** Shapes: one panel and parts of one, 4-panel groups and remainders, k over several Gemm blocks. */
    static final int[][] SHAPES = {{1, 1}, {3, 5}, {17, 31}, {64, 32}, {256, 33}, {300, 97}, {784, 512}, {513, 130}, {1000, 200}, {32, 784}};

    /** y_j = act(alpha sum_p x_p W_jp + b_j) in double, W stored (n, k) as a dense layer's weight. */
    static double[] twin(float[] x, int xOff, float[] w, int k, int n, float alpha, float[] bias, int biasOff, Activation act) {
        double[] y = new double[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                s += (double) x[xOff + p] * w[j * k + p];
            }
            s = alpha * s + (bias == null ? 0 : bias[biasOff + j]);
            y[j] = switch (act) {
                case IDENTITY -> s;
                case RELU -> Math.max(0, s);
                case SIGMOID -> 1 / (1 + Math.exp(-s));
                default -> throw new IllegalArgumentException();
            };
        }
        return y;
    }

    /** |y - twin| <= 2 (k + 2) u (|alpha| sum |x w| + |b|) + 1e-6 (the sigmoid's own error). */
    static void close(float[] y, int yOff, double[] want, float[] x, int xOff, float[] w, int k, int n, float alpha, float[] bias,
                      int biasOff, String what) {
        for (int j = 0; j < n; j++) {
            double mag = 0;
            for (int p = 0; p < k; p++) {
                mag += Math.abs((double) x[xOff + p] * w[j * k + p]);
            }
            mag = Math.abs(alpha) * mag + (bias == null ? 0 : Math.abs(bias[biasOff + j]));
            double tol = 2 * (k + 2) * 0x1p-24 * mag + 1e-6;
            assertTrue(Math.abs(y[yOff + j] - want[j]) <= tol, what + ": output " + j + " is " + y[yOff + j] + ", want " + want[j]);
        }
    }

    @Test
    void matchesTheDoubleTwinAndTheGemmBitwiseOnAnyThreads() {
        SplittableRandom r = new SplittableRandom(20);
        Gemv serial = new Gemv(), on2 = new Gemv(two), on3 = new Gemv(three);
        Gemm gemm = new Gemm(Parallelism.serial());
        for (int[] s : SHAPES) {
            int k = s[0], n = s[1];
            for (Activation act : new Activation[] {Activation.IDENTITY, Activation.RELU, Activation.SIGMOID}) {
                float alpha = act == Activation.IDENTITY ? 0.75f : 1f;
                int xOff = r.nextInt(3), yOff = r.nextInt(3), bOff = r.nextInt(3);
                float[] w = random(r, n * k), x = random(r, xOff + k), bias = act == Activation.RELU ? null : random(r, bOff + n);
                float[] packed = Gemm.packB(true, k, n, w, 0, k);
                float[] y = new float[yOff + n + 2];
                y[yOff + n] = 42f;   // past the outputs: never written
                serial.dense(y, yOff, x, xOff, k, n, alpha, packed, null, 0, bias, bOff, act, 0f);
                String what = k + "x" + n + " " + act;
                close(y, yOff, twin(x, xOff, w, k, n, alpha, bias, bOff, act), x, xOff, w, k, n, alpha, bias, bOff, what);
                assertEquals(42f, y[yOff + n], what + ": wrote past its outputs");

                // The GEMM on the same row, then the same bias and activation: the same bits.
                float[] g = new float[n];
                gemm.gemmPacked(g, 0, n, false, 1, n, k, alpha, x, xOff, k, packed, 0f);
                if (bias != null || act != Activation.IDENTITY) {
                    Activations.biasForward(act, 0f, g, 0, g, 0, bias, bOff, 1, n);
                }
                for (int j = 0; j < n; j++) {
                    assertEquals(Float.floatToRawIntBits(g[j]), Float.floatToRawIntBits(y[yOff + j]), what + ": output " + j + " differs from Gemm");
                }
                for (Gemv threaded : new Gemv[] {on2, on3}) {
                    float[] t = new float[yOff + n];
                    threaded.dense(t, yOff, x, xOff, k, n, alpha, packed, null, 0, bias, bOff, act, 0f);
                    assertArrayEquals(java.util.Arrays.copyOfRange(y, yOff, yOff + n), java.util.Arrays.copyOfRange(t, yOff, yOff + n),
                            what + " on " + threaded.threads() + " threads");
                }
            }
        }
    }

    @Test
    void bf16WeightsMatchTheTwinOnTheRoundedWeightsAndAnyThreads() {
        SplittableRandom r = new SplittableRandom(21);
        Gemv serial = new Gemv(), on2 = new Gemv(two);
        for (int[] s : SHAPES) {
            int k = s[0], n = s[1];
            float[] w = random(r, n * k), x = random(r, k), bias = random(r, n);
            float[] rounded = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                rounded[i] = Gemv.fromBf16(Gemv.bf16(w[i]));
            }
            float[] packed = Gemm.packB(true, k, n, w, 0, k);
            int[] half = Gemv.packBf16(packed, k, n);
            float[] y = new float[n], t = new float[n];
            serial.dense(y, 0, x, 0, k, n, 1f, null, half, 0, bias, 0, Activation.RELU, 0f);
            close(y, 0, twin(x, 0, rounded, k, n, 1f, bias, 0, Activation.RELU), x, 0, rounded, k, n, 1f, bias, 0, k + "x" + n + " bf16");
            on2.dense(t, 0, x, 0, k, n, 1f, null, half, 0, bias, 0, Activation.RELU, 0f);
            assertArrayEquals(y, t, k + "x" + n + " bf16 on 2 threads");
        }
    }

    /**
     * The scalar twin a fresh JVM runs first ({@link Gemv#panelsScalar}) gives bitwise the vector
     * kernels' outputs, float and bfloat16 weights, any alpha, any range of panels, and writes
     * nothing outside the range's columns.
     */
    @Test
    void theScalarTwinIsBitwiseTheVectorKernels() {
        SplittableRandom r = new SplittableRandom(22);
        for (int[] s : SHAPES) {
            int k = s[0], n = s[1], panels = Gemm.ceilDiv(n, Gemm.NR);
            float[] w = random(r, n * k), x = random(r, 2 + k);
            float[] packed = Gemm.packB(true, k, n, w, 0, k);
            int[] half = Gemv.packBf16(packed, k, n);
            for (float alpha : new float[] {1f, -0.3f}) {
                for (int[] range : new int[][] {{0, panels}, {panels / 2, panels}, {0, (panels + 1) / 2}}) {
                    int p0 = range[0], p1 = range[1];
                    for (boolean bf16 : new boolean[] {false, true}) {
                        float[] v = new float[n + 3], t = new float[n + 3];
                        java.util.Arrays.fill(v, 7f);
                        java.util.Arrays.fill(t, 7f);
                        if (bf16) {
                            Gemv.panels16(v, 2, x, 2, k, n, alpha, half, 0, p0, p1);
                        } else {
                            Gemv.panels(v, 2, x, 2, k, n, alpha, packed, 0, p0, p1);
                        }
                        Gemv.panelsScalar(t, 2, x, 2, k, n, alpha, bf16 ? null : packed, bf16 ? half : null, 0, p0, p1);
                        String what = k + "x" + n + (bf16 ? " bf16" : "") + " alpha " + alpha + " panels " + p0 + ".." + p1;
                        for (int j = 0; j < v.length; j++) {
                            assertEquals(Float.floatToRawIntBits(v[j]), Float.floatToRawIntBits(t[j]), what + ": element " + j);
                        }
                        if (p1 > p0) {
                            assertTrue(t[2 + p0 * Gemm.NR] != 7f, what + ": nothing written");
                        }
                    }
                }
            }
        }
    }

    /** The warm-up thread ends and hands batch-1 calls to the vector kernels (it ran at least one round). */
    @Test
    void theVectorWarmUpEndsAndHandsOverToTheVectorKernels() throws InterruptedException {
        assertTrue(VectorWarmUp.await(120, java.util.concurrent.TimeUnit.SECONDS), "the warm-up did not end in 120 s");
        assertTrue(VectorWarmUp.ready());
        assertTrue(VectorWarmUp.rounds() >= 1 || "false".equals(System.getProperty("latent4j.scalarFirst")),
                "the warm-up ran " + VectorWarmUp.rounds() + " rounds");
    }

    @Test
    void bf16RoundsToTheNearestNeighbourTiesToEven() {
        SplittableRandom r = new SplittableRandom(22);
        for (int i = 0; i < 100_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                assertEquals(Float.isNaN(f), Float.isNaN(Gemv.fromBf16(Gemv.bf16(f))), "NaN stays NaN: " + f);
                continue;
            }
            int bits = Float.floatToRawIntBits(f);
            // The two bfloat16 neighbours (truncation and one bfloat16 step away from zero), in double: past the
            // largest float the step away rounds to infinity, as IEEE rounding does.
            float down = Float.intBitsToFloat(bits & 0xFFFF0000);
            double up = down + Math.copySign(Math.ulp(down) * 65536.0, f);
            float got = Gemv.fromBf16(Gemv.bf16(f));
            double dd = Math.abs((double) f - down), du = Math.abs((double) f - up);
            double pick = dd < du ? down : du < dd ? up : ((bits >>> 16) & 1) == 0 ? down : up;
            float want = Math.abs(pick) >= 0x1p128 ? Math.copySign(Float.POSITIVE_INFINITY, f) : (float) pick;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), "bf16 of " + f);
        }
        assertEquals(0x3F80, Gemv.bf16(1f));
        assertEquals(0x3F80, Gemv.bf16(Float.intBitsToFloat(0x3F808000)));   // a tie, to the even 0x3F80
        assertEquals(0x3F82, Gemv.bf16(Float.intBitsToFloat(0x3F818000)));   // a tie, to the even 0x3F82
    }

    @Test
    void refusesOperandsThatDoNotFit() {
        Gemv g = new Gemv();
        float[] packed = Gemm.packB(true, 8, 8, new float[64], 0, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.dense(new float[8], 0, new float[7], 0, 8, 8, 1f, packed, null, 0, null, 0, Activation.IDENTITY, 0f));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> g.dense(new float[8], 0, new float[8], 0, 8, 9, 1f, packed, null, 0, null, 0, Activation.IDENTITY, 0f));
        assertThrows(IllegalArgumentException.class,
                () -> g.dense(new float[8], 0, new float[8], 0, 8, 8, 1f, null, new int[3], 0, null, 0, Activation.IDENTITY, 0f));
    }
}
