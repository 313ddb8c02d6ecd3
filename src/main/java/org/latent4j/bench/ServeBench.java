package org.latent4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.latent4j.model.LatentModel;

/**
 * Serving throughput: {@code callers} threads call one shared model's reconstruct on batches of
 * {@code batch} rows for a fixed time; reports calls and rows per second. Shows how inference
 * scales with the threads of an application (a web server's, say) on this machine.
 */
public final class ServeBench {
    private ServeBench() {}

    public record Point(int callers, int batch, double callsPerSecond, double rowsPerSecond) {}

    public static Point run(LatentModel model, float[][] rows, int callers, int batch, double seconds) throws InterruptedException {
        float[][] in = java.util.Arrays.copyOf(rows, batch);
        LongAdder calls = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch ready = new CountDownLatch(callers), go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            Thread th = Thread.ofPlatform().daemon().name("serve-bench-" + t).start(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (!stop.get()) {
                    model.reconstruct(in);
                    calls.increment();
                }
            });
            threads.add(th);
        }
        ready.await();
        long t0 = System.nanoTime();
        go.countDown();
        Thread.sleep((long) (seconds * 1000));
        long done = calls.sum();
        double s = (System.nanoTime() - t0) / 1e9;
        stop.set(true);
        for (Thread th : threads) {
            th.join();
        }
        return new Point(callers, batch, done / s, done * (double) batch / s);
    }
}
