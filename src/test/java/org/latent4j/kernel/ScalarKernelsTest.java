package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ScalarKernels}, the scalar twins a fresh JVM runs first, against the vector kernels bit
 * for bit: the one-row dense layer against {@link Gemm#gemmPacked} (float weights) or
 * {@link Gemv#panels16} (bfloat16) followed by {@link Activations#biasForward}, and exp and the
 * sigmoid against {@link VMath} on a sweep of float bit patterns and the special values.
 */
class ScalarKernelsTest {
    private static void sameBits(float want, float got, String what) {
        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what + ": want " + want + ", got " + got);
    }

    @Test
    void aDenseRowIsBitwiseTheVectorKernelsForEveryActivation() {
        SplittableRandom r = new SplittableRandom(31);
        Gemm gemm = new Gemm(Parallelism.serial());
        for (int[] s : GemvTest.SHAPES) {
            int k = s[0], n = s[1];
            for (Activation act : Activation.values()) {
                float a = act == Activation.LEAKY_RELU ? 0.1f : act == Activation.ELU ? 1f : 0f;
                float alpha = act == Activation.IDENTITY ? -0.75f : 1f;
                float[] w = GemmTest.random(r, 3 + n * k), x = GemmTest.random(r, 1 + k), bias = GemmTest.random(r, 2 + n);
                if (act == Activation.LOG) {   // positive inputs
                    for (int i = 0; i < bias.length; i++) {
                        bias[i] = 4f * k + Math.abs(bias[i]);
                    }
                }
                boolean noBias = act == Activation.RELU && (k & 1) == 1;
                float[] packed = Gemm.packB(true, k, n, w, 3, k);
                for (boolean bf16 : new boolean[] {false, true}) {
                    float[] want = new float[n];
                    if (bf16) {
                        Gemv.panels16(want, 0, x, 1, k, n, alpha, Gemv.packBf16(packed, k, n), 0, 0, Gemm.ceilDiv(n, Gemm.NR));
                    } else {
                        gemm.gemmPacked(want, 0, n, false, 1, n, k, alpha, x, 1, k, packed, 0f);
                    }
                    if (!noBias || act != Activation.IDENTITY) {
                        Activations.biasForward(act, a, want, 0, want, 0, noBias ? null : bias, 2, 1, n);
                    }
                    float[] got = new float[n + 2];
                    got[n + 1] = 42f;
                    ScalarKernels.dense(got, 1, x, 1, k, n, alpha, w, 3, bf16, noBias ? null : bias, 2, act, a);
                    String what = k + "x" + n + " " + act + (bf16 ? " bf16" : "");
                    for (int j = 0; j < n; j++) {
                        sameBits(want[j], got[1 + j], what + " output " + j);
                    }
                    assertEquals(0f, got[0], what + ": wrote before its outputs");
                    assertEquals(42f, got[n + 1], what + ": wrote past its outputs");
                }
            }
        }
    }

    @Test
    void expAndSigmoidAreBitwiseVMathOnASweepOfFloats() {
        // Every 997th bit pattern (both signs, subnormals, infinities, NaNs), then the edges.
        int count = (int) ((1L << 32) / 997) + 1 + 16;
        float[] x = new float[count];
        int i = 0;
        for (long bits = 0; bits < (1L << 32); bits += 997) {
            x[i++] = Float.intBitsToFloat((int) bits);
        }
        float[] edges = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE, Float.MAX_VALUE,
            88.72283905206835f, -87.33654475f, Math.nextUp(88.72283905206835f), Math.nextDown(-87.33654475f), 1e-8f, -1e-8f, 0.5f, -0.5f, 20f};
        System.arraycopy(edges, 0, x, i, edges.length);
        i += edges.length;
        float[] e = new float[i], s = new float[i];
        VMath.exp(e, 0, x, 0, i);
        VMath.sigmoid(s, 0, x, 0, i);
        for (int j = 0; j < i; j++) {
            sameBits(e[j], ScalarKernels.exp(x[j]), "exp(" + x[j] + ")");
            sameBits(s[j], ScalarKernels.sigmoid(x[j]), "sigmoid(" + x[j] + ")");
        }
        assertTrue(i > 4_000_000, "swept " + i + " values");
    }

    @Test
    void reluAndLeakyReluKeepTheVectorCodesZeroAndNaN() {
        float[] v = {-0f, 0f, Float.NaN, -1f, 2f, Float.NEGATIVE_INFINITY, -Float.MIN_VALUE};
        for (Activation act : new Activation[] {Activation.RELU, Activation.LEAKY_RELU, Activation.IDENTITY, Activation.SIGMOID}) {
            float a = act == Activation.LEAKY_RELU ? 0.2f : 0f;
            float[] want = new float[v.length], got = v.clone();
            Activations.biasForward(act, a, want, 0, v, 0, null, 0, 1, v.length);
            ScalarKernels.activate(act, a, got, 0, null, 0, v.length);
            for (int j = 0; j < v.length; j++) {
                sameBits(want[j], got[j], act + "(" + v[j] + ")");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ScalarKernels.activate(Activation.TANH, 0f, new float[1], 0, null, 0, 1));
    }

    @Test
    void refusesOperandsThatDoNotFit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScalarKernels.dense(new float[4], 0, new float[8], 0, 8, 4, 1f, new float[31], 0, false, null, 0, Activation.RELU, 0f));
        assertTrue(e.getMessage().contains("W"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ScalarKernels.dense(new float[3], 0, new float[8], 0, 8, 4, 1f, new float[32], 0, false, null, 0, Activation.RELU, 0f));
    }
}
