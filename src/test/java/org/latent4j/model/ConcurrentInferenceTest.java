package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.train.Trainer;

/**
 * One model object serves 8 threads at once, 10^5 calls in all (encode, log-variance,
 * reconstruct, decode, sample; batches of 1 to 17 rows at random places), and every answer is
 * bitwise what one thread alone computed for those rows.
 */
class ConcurrentInferenceTest {
    static final int THREADS = 8, CALLS = 100_000, ROWS = 64;

    @Test
    void eightThreadsOneHundredThousandCallsMixedBatchesSameBitsAsOneThread() throws Exception {
        ModelSpec spec = Model.encoder(784).dense(32).relu().gaussianLatent(6).decoder().dense(32).relu().dense(784).bernoulli();
        Autoencoder vae = Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 3));
        Dataset data = FashionMnist.bundledTest().head(ROWS);
        LinearModel pca = LinearModel.of(Pca.fit(FashionMnist.bundledTrain().head(500), 6, Parallelism.serial()));
        float[][] x = new float[ROWS][];
        for (int i = 0; i < ROWS; i++) {
            x[i] = data.row(i);
        }
        // What one thread computes, row by row.
        float[][] mu = vae.encode(x), logvar = vae.encodeLogVariance(x), rec = vae.reconstruct(x), dec = vae.decode(mu);
        float[][] pcaCodes = pca.encode(x), pcaRec = pca.reconstruct(x);
        float[][][] samples = new float[17][][];
        for (int n = 1; n <= 16; n++) {
            samples[n] = vae.sample(n, 99);
        }
        AtomicLong calls = new AtomicLong(), rowsServed = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final long seed = t;
                results.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int c = 0; c < CALLS / THREADS; c++) {
                        int n = 1 + r.nextInt(17), at = r.nextInt(ROWS - n + 1);
                        float[][] in = Arrays.copyOfRange(x, at, at + n);
                        int kind = r.nextInt(7);
                        float[][] got = switch (kind) {
                            case 0 -> vae.encode(in);
                            case 1 -> vae.encodeLogVariance(in);
                            case 2 -> vae.reconstruct(in);
                            case 3 -> vae.decode(Arrays.copyOfRange(mu, at, at + n));
                            case 4 -> pca.encode(in);
                            case 5 -> pca.reconstruct(in);
                            default -> vae.sample(Math.min(n, 16), 99);
                        };
                        float[][] want = switch (kind) {
                            case 0 -> mu;
                            case 1 -> logvar;
                            case 2 -> rec;
                            case 3 -> dec;
                            case 4 -> pcaCodes;
                            case 5 -> pcaRec;
                            default -> samples[Math.min(n, 16)];
                        };
                        int from = kind == 6 ? 0 : at;
                        for (int i = 0; i < got.length; i++) {
                            if (!Arrays.equals(got[i], want[from + i])) {
                                return "call " + c + " of thread " + seed + " (kind " + kind + ", rows " + at + ".." + (at + n) + ") differs at row " + i;
                            }
                        }
                        calls.incrementAndGet();
                        rowsServed.addAndGet(got.length);
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                assertEquals(null, f.get());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(CALLS, calls.get());
        assertTrue(rowsServed.get() > CALLS, "mixed batch sizes");
    }
}
