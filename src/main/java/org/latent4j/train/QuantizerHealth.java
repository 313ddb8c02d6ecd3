package org.latent4j.train;

import java.util.Locale;
import org.latent4j.data.Dataset;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Ops;
import org.latent4j.graph.Planner;
import org.latent4j.graph.Quantizers;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.VqKernels;
import org.latent4j.runtime.Executor;

/**
 * The health of a discrete latent's codebook after an epoch, measured on (up to {@link #ROWS}
 * of) the training rows with the epoch's weights: how often each code is chosen, the perplexity
 * exp(-sum_k p_k ln p_k) of that usage (the number of equally used codes it equals; at most the
 * codebook's size), the fraction of codes used at least once, the codes re-seeded in the epoch,
 * and the mean per-sample codebook and commitment losses (a VQ latent's; 0 for FSQ).
 */
public record QuantizerHealth(int epoch, int codes, long[] counts, double perplexity, int used, long revived, double codebookLoss,
                              double commitmentLoss) {
    /** Rows the health is measured on (the first ones of the training set, in its order). */
    public static final int ROWS = 10_000;
    /** Usage under this fraction of the codes is called a collapse. */
    public static final double COLLAPSE = 0.10;

    /** The fraction of codes used at least once. */
    public double usedFraction() {
        return used / (double) codes;
    }

    /** One log line, e.g. "codebook: 498/512 codes used (97.3 %), perplexity 431.2, 12 re-seeded, codebook loss 3.21, commitment 0.80". */
    public String line() {
        return String.format(Locale.ROOT, "codebook: %d/%d codes used (%.1f %%), perplexity %.1f, %d re-seeded, codebook loss %.4f, commitment %.4f",
                used, codes, 100 * usedFraction(), perplexity, revived, codebookLoss, commitmentLoss);
    }

    /** A plain-words warning when the usage collapsed (under {@link #COLLAPSE} of the codes), else null. */
    public String warning() {
        if (usedFraction() >= COLLAPSE) {
            return null;
        }
        return String.format(Locale.ROOT, "warning: the codebook has collapsed: only %d of its %d codes (%.1f %%) are chosen for the"
                + " training images, so the model uses a small vocabulary; keep dead-code revival on (deadCodeThreshold), use moving"
                + " averages rather than gradient updates, or a smaller codebook", used, codes, 100 * usedFraction());
    }

    /** The quantizer node of a graph, or null (see {@link Quantizers#quantizer}). */
    public static Node quantizer(Graph g) {
        return Quantizers.quantizer(g);
    }

    /** Codes of a quantizer node (see {@link Quantizers#codes}). */
    public static int codes(Node q) {
        return Quantizers.codes(q);
    }

    /** Codes re-seeded since training began (the quantizer.revived state), 0 for FSQ. */
    public static long revivedSoFar(Graph g, float[] params) {
        return g.params().containsKey("quantizer.revived") ? (long) params[g.param("quantizer.revived").offset()] : 0;
    }

    /**
     * Measures the health on up to {@link #ROWS} rows of {@code data}, in batches of {@code batch},
     * with an inference plan from the input to the quantizer's losses. {@code revivedBefore}: the
     * revived count at the epoch's start.
     */
    public static QuantizerHealth measure(Graph g, float[] params, Dataset data, int batch, Parallelism par, int epoch, long revivedBefore) {
        Node q = quantizer(g);
        if (q == null) {
            throw new IllegalArgumentException("the model has no discrete latent");
        }
        int book = -1, commit = -1, last = q.id();
        for (int id : g.penalties) {
            if (g.node(id).op() instanceof Ops.QuantizationLoss l) {
                if (l.codebook()) {
                    book = id;
                } else {
                    commit = id;
                }
                last = Math.max(last, id);
            }
        }
        int rows = Math.min(ROWS, data.rows()), d = data.features(), codes = codes(q);
        int positions = q.shape().spatial() ? q.shape().height() * q.shape().width() : 1;
        Executor ex = new Executor(Planner.forward(g, 0, last), par, batch);
        long[] counts = new long[codes];
        int[] index = q.op() instanceof Ops.FiniteScalarQuantize ? new int[batch * positions] : null;
        double bookSum = 0, commitSum = 0;
        for (int s = 0; s < rows; s += batch) {
            int n = Math.min(batch, rows - s);
            ex.load(g.input, data.x(), s * d, n);
            ex.run(params, null, n, 0, 0, 1f);
            int[] idx;
            if (q.op() instanceof Ops.FiniteScalarQuantize f) {
                VqKernels.fsqIndices(index, ex.value(q.id()), f.levels(), n, positions);
                idx = index;
            } else {
                idx = ex.intBuffer(q.id(), 1);
            }
            for (int i = 0; i < n * positions; i++) {
                counts[idx[i]]++;
            }
            for (int r = 0; r < n; r++) {
                bookSum += book >= 0 ? ex.value(book)[r] : 0;
                commitSum += commit >= 0 ? ex.value(commit)[r] : 0;
            }
        }
        long total = (long) rows * positions;
        double entropy = 0;
        int used = 0;
        for (long c : counts) {
            if (c > 0) {
                used++;
                double p = c / (double) total;
                entropy -= p * Math.log(p);
            }
        }
        return new QuantizerHealth(epoch, codes, counts, Math.exp(entropy), used, revivedSoFar(g, params) - revivedBefore,
                bookSum / rows, commitSum / rows);
    }
}
