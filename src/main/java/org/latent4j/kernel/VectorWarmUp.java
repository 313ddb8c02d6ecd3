package org.latent4j.kernel;

import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When the vector kernels of batch-1 inference ({@link Gemv}, the activations) are worth calling.
 *
 * <p>In a fresh JVM the Vector API code runs in the interpreter and then in C1, boxing every
 * vector, until C2 compiles it: the first reconstruct of a W1 model spent ~150 ms there (its
 * 1.09 M multiply-adds take ~0.05 ms once compiled). Plain scalar loops are cheap in the
 * interpreter and C1 compiles them within milliseconds. So a batch-1 dense layer runs
 * {@link ScalarKernels#dense} on the unpacked weights, and {@link Gemv} its scalar twin
 * ({@link Gemv#panelsScalar}), both bitwise the vector kernels' results, until this class says
 * the vector kernels are ready: the first call starts one daemon thread that runs them on a small
 * private problem until they are faster than the scalar twin on the same problem (both timed
 * there, best of several calls), or for at most {@link #MAX_ROUNDS} rounds, and then flips a
 * flag (it also runs the weights' packing, {@link Gemm#packB}, which the first vector call of
 * each layer needs). Results never depend on the flag, only the speed of the first calls does.
 *
 * <p>The thread starts at the first call, not at a model's loading: started there it ran beside
 * the file's reading and parsing on a 2-core machine and made the cold start slower (median
 * 206 ms against 162 without an AOT cache, 10 runs each).
 *
 * <p>{@code -Dlatent4j.scalarFirst=false}: the vector kernels from the first call (no thread).
 */
public final class VectorWarmUp {
    private VectorWarmUp() {}

    /** Rounds after which the vector kernels are taken whatever the timings say. */
    static final int MAX_ROUNDS = 20_000;

    private static final boolean SCALAR_FIRST = !"false".equals(System.getProperty("latent4j.scalarFirst"));
    private static volatile boolean ready = !SCALAR_FIRST;
    private static final AtomicBoolean started = new AtomicBoolean();
    private static final CountDownLatch done = new CountDownLatch(SCALAR_FIRST ? 1 : 0);
    private static volatile int rounds;

    /**
     * True once {@link Gemv}'s vector kernels are compiled (faster than the scalar twin); the first
     * call that sees false starts the warm-up thread.
     */
    public static boolean ready() {
        if (ready) {
            return true;
        }
        if (started.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name("latent4j-vector-warm-up").start(VectorWarmUp::warmGemv);
        }
        return false;
    }

    /** Starts the warm-up if it has not started and waits up to the timeout; true if the vector kernels are ready. */
    public static boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        ready();
        return done.await(timeout, unit) && ready;
    }

    /** Rounds the warm-up ran (0 before it ends or without it). */
    public static int rounds() {
        return rounds;
    }

    private static void warmGemv() {
        try {
            // A private problem with 4-panel groups, a lone panel and a partial one (every vector path of Gemv).
            int k = 192, n = 5 * Gemm.NR + Gemm.NR / 2 + 1;
            SplittableRandom r = new SplittableRandom(1);
            float[] w = new float[k * n], x = new float[k], bias = new float[n], y = new float[n];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextDouble(-1, 1);
            }
            for (int i = 0; i < k; i++) {
                x[i] = (float) r.nextDouble(-1, 1);
            }
            float[] packed = Gemm.packB(true, k, n, w, 0, k);
            int[] half = Gemv.packBf16(packed, k, n);
            int panels = Gemm.ceilDiv(n, Gemm.NR);
            long bestScalar = Long.MAX_VALUE, bestVector = Long.MAX_VALUE;
            int round = 0;
            while (round < MAX_ROUNDS) {
                round++;
                if (round % 8 == 1) {   // the scalar twin now and then: its time falls as C1 and C2 compile it too
                    long t0 = System.nanoTime();
                    Gemv.panelsScalar(y, 0, x, 0, k, n, 1f, packed, null, 0, 0, panels);
                    Gemv.panelsScalar(y, 0, x, 0, k, n, 1f, null, half, 0, 0, panels);
                    bestScalar = Math.min(bestScalar, System.nanoTime() - t0);
                }
                long t0 = System.nanoTime();
                Gemv.panels(y, 0, x, 0, k, n, 1f, packed, 0, 0, panels);
                Gemv.panels16(y, 0, x, 0, k, n, 1f, half, 0, 0, panels);
                bestVector = Math.min(bestVector, System.nanoTime() - t0);
                if (round <= 64) {   // the weights' packing, made on the first vector call of each layer
                    Gemm.packB(packed, 0, true, k, n, w, 0, k);
                }
                Activations.biasForward(Activation.RELU, 0f, y, 0, y, 0, bias, 0, 1, n);
                Activations.biasForward(Activation.SIGMOID, 0f, y, 0, y, 0, bias, 0, 1, n);
                if (round >= 64 && bestVector * 2 < bestScalar) {
                    break;
                }
            }
            rounds = round;
        } finally {
            ready = true;
            done.countDown();
        }
    }
}
