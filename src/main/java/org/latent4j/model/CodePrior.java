package org.latent4j.model;

import org.latent4j.kernel.Philox;

/**
 * A prior over the code indices of a discrete latent, fitted on the training set's indices
 * (rows of P positions in raster order), with add-{@link #ALPHA} smoothing of the counts:
 * <ul>
 * <li>{@link Kind#CATEGORICAL}: each position independent, p(k_p) = (n_p(k) + a) / (N + K a);</li>
 * <li>{@link Kind#MARKOV}: autoregressive in raster order, the first position categorical and
 *     p(k_p | k_{p-1}) = (n(k_{p-1} -> k) + a) / (n(k_{p-1}) + K a), one transition table shared by
 *     all positions (a first-order Markov chain over the grid: the smallest autoregressive prior,
 *     far weaker than a PixelCNN, but exact to score and to sample, and fitted by counting).</li>
 * </ul>
 * {@link #bits} scores an index row exactly (-log2 of its probability), {@link #sample} draws from
 * the prior with the counter-based generator (same seed, same draws).
 */
public final class CodePrior {
    /** The smoothing added to every count. */
    public static final double ALPHA = 0.5;

    /** The prior's structure. */
    public enum Kind { CATEGORICAL, MARKOV }

    private final Kind kind;
    private final int positions;
    private final int codes;
    /** log p(k at position p): positions x codes (CATEGORICAL; MARKOV uses row 0). */
    private final double[] logFirst;
    /** log p(k | previous k'): codes x codes (MARKOV only). */
    private final double[] logNext;

    private CodePrior(Kind kind, int positions, int codes, double[] logFirst, double[] logNext) {
        this.kind = kind;
        this.positions = positions;
        this.codes = codes;
        this.logFirst = logFirst;
        this.logNext = logNext;
    }

    /** Fits the prior on index rows of {@code positions} indices in 0..codes-1. */
    public static CodePrior fit(Kind kind, int[][] index, int positions, int codes) {
        if (index.length == 0) {
            throw new IllegalArgumentException("a prior needs at least one index row");
        }
        double[] first = new double[positions * codes];
        double[] next = kind == Kind.MARKOV ? new double[codes * codes] : null;
        for (int[] row : index) {
            if (row.length != positions) {
                throw new IllegalArgumentException("an index row has " + row.length + " positions, not " + positions);
            }
            for (int p = 0; p < positions; p++) {
                first[p * codes + row[p]]++;
                if (next != null && p > 0) {
                    next[row[p - 1] * codes + row[p]]++;
                }
            }
        }
        normalizeLog(first, positions, codes);
        if (next != null) {
            normalizeLog(next, codes, codes);
        }
        return new CodePrior(kind, positions, codes, first, next);
    }

    private static void normalizeLog(double[] counts, int rows, int codes) {
        for (int r = 0; r < rows; r++) {
            double total = 0;
            for (int k = 0; k < codes; k++) {
                total += counts[r * codes + k] + ALPHA;
            }
            for (int k = 0; k < codes; k++) {
                counts[r * codes + k] = Math.log((counts[r * codes + k] + ALPHA) / total);
            }
        }
    }

    public Kind kind() {
        return kind;
    }

    /** log p(k at position p | the row so far). */
    private double logP(int[] row, int p, int k) {
        if (kind == Kind.MARKOV && p > 0) {
            return logNext[row[p - 1] * codes + k];
        }
        return logFirst[(kind == Kind.MARKOV ? 0 : p) * codes + k];
    }

    /** -log2 p(row) under the prior: the bits to code the row's indices with it. */
    public double bits(int[] row) {
        double s = 0;
        for (int p = 0; p < positions; p++) {
            s -= logP(row, p, row[p]);
        }
        return s / Math.log(2);
    }

    /** n index rows drawn from the prior: position p's draw uses uniform Philox(seed, 0, row * positions + p). */
    public int[][] sample(int n, long seed) {
        int[][] out = new int[n][positions];
        float[] u = new float[positions];
        for (int r = 0; r < n; r++) {
            Philox.fillUniform(u, 0, positions, seed, 0, (long) r * positions);
            for (int p = 0; p < positions; p++) {
                double acc = 0;
                int k = 0;
                for (; k < codes - 1; k++) {
                    acc += Math.exp(logP(out[r], p, k));
                    if (u[p] < acc) {
                        break;
                    }
                }
                out[r][p] = k;
            }
        }
        return out;
    }
}
