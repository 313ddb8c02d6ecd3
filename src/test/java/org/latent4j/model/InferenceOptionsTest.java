package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.train.Trainer;

/**
 * The inference options of {@link Autoencoder}: threads per call give bitwise the results of one
 * thread (batch 1, through the one-row product, and larger batches, through the GEMM), and a
 * batch of one gives bitwise the row of a larger batch; bfloat16 weights stay within their
 * rounding of the float model, the same on any thread count.
 */
class InferenceOptionsTest {
    static Autoencoder model() {
        ModelSpec spec = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
                .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
        return Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 5));
    }

    static float[][] rows(int n) {
        Dataset d = FashionMnist.bundledTest();
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    @Test
    void threadsPerCallGiveTheBitsOfOneThreadAtBatchOneAndLarger() {
        Autoencoder one = model(), two = one.withThreadsPerCall(2), three = one.withThreadsPerCall(3);
        assertEquals(2, two.threadsPerCall());
        float[][] x = rows(40);
        float[][] batch = one.reconstruct(x), mu = one.encode(x);
        for (Autoencoder m : new Autoencoder[] {one, two, three}) {
            for (int rep = 0; rep < 3; rep++) {   // the helpers hot and, after the first call, reused
                for (int i = 0; i < 5; i++) {
                    assertArrayEquals(batch[i], m.reconstruct(new float[][] {x[i]})[0], m.threadsPerCall() + " threads, row " + i);
                    assertArrayEquals(mu[i], m.encode(new float[][] {x[i]})[0], m.threadsPerCall() + " threads, mu of row " + i);
                }
            }
            float[][] again = m.reconstruct(x);
            for (int i = 0; i < x.length; i++) {
                assertArrayEquals(batch[i], again[i], m.threadsPerCall() + " threads, batch of 40, row " + i);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> one.withThreadsPerCall(0));
    }

    @Test
    void bf16WeightsAreCloseToFloatAndTheSameOnAnyThreads() {
        Autoencoder f = model(), h = f.withBf16Weights(true), h2 = h.withThreadsPerCall(2);
        assertTrue(h.bf16Weights() && h2.bf16Weights());
        float[][] x = rows(20);
        float[][] want = f.reconstruct(x);
        double worst = 0;
        boolean differs = false;
        for (int i = 0; i < x.length; i++) {
            float[] got = h.reconstruct(new float[][] {x[i]})[0];
            assertArrayEquals(got, h2.reconstruct(new float[][] {x[i]})[0], "bf16 row " + i + " on 2 threads");
            for (int j = 0; j < got.length; j++) {
                worst = Math.max(worst, Math.abs(got[j] - want[i][j]));
            }
            differs |= !Arrays.equals(got, want[i]);
        }
        assertTrue(differs, "bf16 weights gave the float results: not used");
        assertTrue(worst < 5e-3, "bf16 reconstruction off by " + worst);
        // Batches above one keep the float weights.
        assertArrayEquals(want[3], h.reconstruct(Arrays.copyOfRange(x, 0, 8))[3]);
    }
}
