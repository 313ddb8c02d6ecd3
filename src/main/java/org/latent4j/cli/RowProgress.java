package org.latent4j.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Function;

/**
 * Progress of long work over rows (scoring, calibrating): nothing for work that ends within the
 * first interval (2 s), then a line every interval on the error stream ("scoring: 41 % (4,096 of
 * 10,000 rows), 2.1 s"), which reads well on a terminal and in a CI log alike.
 */
final class RowProgress {
    /** Rows per block: a multiple of the detector's own chunk, so block-wise scores equal one call's. */
    static final int BLOCK = 1024;

    private final String what;
    private final long total;
    private final PrintStream out;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastLine;
    private boolean printed;

    RowProgress(String what, long total, PrintStream out, long intervalNanos) {
        this.what = what;
        this.total = total;
        this.out = out;
        this.intervalNanos = intervalNanos;
        this.lastLine = start;
    }

    /** Says how far the work is after {@code done} rows, when an interval has passed since the last line. */
    void at(long done) {
        long now = System.nanoTime();
        if (now - lastLine < intervalNanos && done < total) {
            return;
        }
        if (done >= total && !printed && now - start < intervalNanos) {
            return;   // short work: no line at all
        }
        lastLine = now;
        printed = true;
        out.printf(Locale.ROOT, "%s: %d %% (%,d of %,d rows), %.1f s%n", what, total == 0 ? 100 : done * 100 / total, done, total,
                (now - start) / 1e9);
    }

    /**
     * {@code score} applied to x block by block ({@link #BLOCK} rows), with progress lines for long
     * work; the same scores as one call when a row's score does not depend on the rows beside it
     * (true of every latent4j score: a detector draws the same noise for every row).
     */
    static double[] scoreRows(String what, float[][] x, Function<float[][], double[]> score, PrintStream out, long intervalNanos) {
        RowProgress p = new RowProgress(what, x.length, out, intervalNanos);
        double[] s = new double[x.length];
        for (int from = 0; from < x.length; from += BLOCK) {
            int to = Math.min(x.length, from + BLOCK);
            double[] part = score.apply(java.util.Arrays.copyOfRange(x, from, to));
            System.arraycopy(part, 0, s, from, part.length);
            p.at(to);
        }
        return s;
    }

    /** {@link #scoreRows} with a line at most every 2 s on the error stream. */
    static double[] scoreRows(String what, float[][] x, Function<float[][], double[]> score) {
        return scoreRows(what, x, score, System.err, 2_000_000_000L);
    }
}
