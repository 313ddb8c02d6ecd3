package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PhiloxTest {
    @Test
    void knownAnswerVectorsOfRandom123() {
        int[] out = new int[4];
        Philox.block(0, 0, 0, 0, 0, 0, out);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
        Philox.block(-1, -1, -1, -1, -1, -1, out);
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
        Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
    }

    /**
     * The vectorized uniforms against the scalar definition, element by element: toUniform of word
     * e % 4 of block(e / 4 counter, stream, seed), for starts at every phase of a block, counters whose
     * low 32 bits wrap (the high word carries), negative-looking seeds and streams, and lengths around
     * the vector's 4 x lanes (also run with -Dlatent4j.vectorBits=128 and 256).
     */
    @Test
    void uniformsAreTheScalarDefinitionForEveryStartLengthAndCounterCarry() {
        int[] w = new int[4];
        long[] seeds = {0, 42, -1, 0x9E3779B97F4A7C15L};
        long[] streams = {0, 7, -2, 0x8_0000_0000L + 64 * 12345};
        long[] starts = {0, 1, 2, 3, 5, 4L * 0xFFFFFFFFL - 9, 4L * 0xFFFFFFFFL + 2, (1L << 40) + 3};
        int[] lengths = {0, 1, 3, 4, 31, 32, 33, 63, 64, 65, 130, 1000};
        for (long seed : seeds) {
            for (long stream : streams) {
                for (long start : starts) {
                    for (int n : lengths) {
                        float[] out = new float[n + 3];
                        Arrays.fill(out, -1f);
                        Philox.fillUniform(out, 2, n, seed, stream, start);
                        assertEquals(-1f, out[0]);
                        assertEquals(-1f, out[1]);
                        assertEquals(-1f, out[n + 2], "nothing written past the end");
                        for (int i = 0; i < n; i++) {
                            long e = start + i, ctr = e >>> 2;
                            Philox.block((int) ctr, (int) (ctr >>> 32), (int) stream, (int) (stream >>> 32), (int) seed, (int) (seed >>> 32), w);
                            float want = Philox.toUniform(w[(int) (e & 3)]);
                            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(out[2 + i])) {
                                throw new AssertionError("seed " + seed + ", stream " + stream + ", start " + start + ", n " + n + ", element " + i
                                        + ": " + out[2 + i] + " but the scalar definition gives " + want);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void aDrawDependsOnlyOnSeedStreamAndIndex() {
        int n = 1003;
        float[] whole = new float[n];
        Philox.fillNormal(whole, 0, n, 42, 7, 5);
        for (int cut : new int[] {1, 2, 3, 4, 5, 333, 1002}) {
            float[] parts = new float[n];
            Philox.fillNormal(parts, 0, cut, 42, 7, 5);
            Philox.fillNormal(parts, cut, n - cut, 42, 7, 5 + cut);
            assertArrayEquals(whole, parts, "split at " + cut);
        }
        float[] u1 = new float[n], u2 = new float[n];
        Philox.fillUniform(u1, 0, n, 1, 2, 0);
        Philox.fillUniform(u2, 0, 10, 1, 2, 0);
        Philox.fillUniform(u2, 10, n - 10, 1, 2, 10);
        assertArrayEquals(u1, u2);
    }

    @Test
    void sameDrawsFromAnyNumberOfThreads() {
        int n = 100_000, chunk = 997;
        float[] serial = new float[n];
        Philox.fillNormal(serial, 0, n, 9, 1, 0);
        for (int threads : new int[] {2, 3}) {
            float[] par = new float[n];
            try (Parallelism p = Parallelism.of(threads)) {
                int tasks = (n + chunk - 1) / chunk;
                p.forEach(tasks, t -> {
                    int start = t * chunk, len = Math.min(chunk, n - start);
                    Philox.fillNormal(par, start, len, 9, 1, start);
                });
            }
            assertArrayEquals(serial, par, threads + " threads");
        }
    }

    @Test
    void seedsAndStreamsGiveDifferentSequences() {
        float[] a = new float[64], b = new float[64], c = new float[64];
        Philox.fillUniform(a, 0, 64, 1, 0, 0);
        Philox.fillUniform(b, 0, 64, 2, 0, 0);
        Philox.fillUniform(c, 0, 64, 1, 1, 0);
        assertFalse(Arrays.equals(a, b));
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void uniformsAreInsideTheOpenIntervalWithTheRightMoments() {
        assertTrue(Philox.toUniform(0) > 0f);
        assertTrue(Philox.toUniform(-1) < 1f);
        int n = 1 << 20;
        float[] u = new float[n];
        Philox.fillUniform(u, 0, n, 123, 0, 0);
        double m = 0, v = 0;
        for (float x : u) {
            assertTrue(x > 0f && x < 1f);
            m += x;
        }
        m /= n;
        for (float x : u) {
            v += (x - m) * (x - m);
        }
        v /= n;
        assertEquals(0.5, m, 4 * Math.sqrt(1.0 / 12 / n));
        assertEquals(1.0 / 12, v, 1e-3);
    }

    @Test
    void normalsHaveStandardMoments() {
        int n = 1 << 20;
        float[] z = new float[n];
        Philox.fillNormal(z, 0, n, 5, 0, 0);
        double m = 0, m2 = 0, m4 = 0;
        for (float x : z) {
            assertTrue(Float.isFinite(x));
            m += x;
            m2 += x * (double) x;
            m4 += Math.pow(x, 4);
        }
        m /= n;
        m2 /= n;
        m4 /= n;
        assertEquals(0, m, 4 / Math.sqrt(n));
        assertEquals(1, m2, 4 * Math.sqrt(2.0 / n));
        assertEquals(3, m4, 4 * Math.sqrt(96.0 / n));
    }

    @Test
    void ownSineAndCosineMatchStrictMath() {
        for (int i = -5000; i <= 5000; i++) {
            double u = i / 10000.0;
            assertEquals(StrictMath.sin(2 * Math.PI * u), Philox.sinTwoPi(u), 1e-15, "sin at u=" + u);
            assertEquals(StrictMath.cos(2 * Math.PI * u), Philox.cosTwoPi(u), 1e-15, "cos at u=" + u);
        }
    }
}
