package org.latent4j.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A line every interval while one long engine call runs that reports no progress of its own (a
 * PCA or PPCA fit): "pca: fitting 60,000 x 784 rows, 4.0 s". Work that ends within the first
 * interval prints nothing. A daemon thread, stopped by {@link #close()}.
 */
final class Heartbeat implements AutoCloseable {
    private final Thread thread;

    Heartbeat(String what, PrintStream out, long intervalMillis) {
        long start = System.nanoTime();
        thread = Thread.ofPlatform().daemon().name("latent4j-heartbeat").unstarted(() -> {
            try {
                while (true) {
                    Thread.sleep(intervalMillis);
                    out.printf(Locale.ROOT, "%s, %.1f s%n", what, (System.nanoTime() - start) / 1e9);
                }
            } catch (InterruptedException e) {
                // closed: the work is done
            }
        });
        thread.start();
    }

    /** A line every 2 s on the error stream. */
    static Heartbeat of(String what) {
        return new Heartbeat(what, System.err, 2000);
    }

    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
