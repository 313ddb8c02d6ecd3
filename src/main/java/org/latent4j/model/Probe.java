package org.latent4j.model;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.latent4j.kernel.Parallelism;

/**
 * Downstream-task checks of a representation (a model's codes, the raw features, PCA
 * coordinates), the evaluation of a representation by what a simple model can do with it:
 * a multinomial logistic regression ({@link LogisticRegression}) and a k-nearest-neighbour
 * classifier ({@link #nearestNeighbours}), scored by {@link #accuracy} and {@link #macroF1}; and
 * k-means clustering ({@link #kMeans}) scored against the labels by the {@link #adjustedRandIndex}.
 *
 * <p>Labels are class indices 0 .. classes - 1. Everything is computed in double and is
 * deterministic: the same inputs and seed give the same answer for any thread count (rows are
 * cut into fixed chunks whose partial sums are added in chunk order).
 */
public final class Probe {
    private Probe() {}

    /** Rows per chunk of work; fixed, so that sums do not depend on the thread count. */
    private static final int CHUNK = 256;

    /** Fraction of test rows whose predicted label equals the true one. */
    public static double accuracy(int[] truth, int[] predicted) {
        checkPair(truth, predicted);
        long right = 0;
        for (int i = 0; i < truth.length; i++) {
            right += truth[i] == predicted[i] ? 1 : 0;
        }
        return (double) right / truth.length;
    }

    /**
     * The unweighted mean over the classes of each class's F1 = 2 TP / (2 TP + FP + FN) (its
     * precision and recall's harmonic mean; 0 for a class never predicted right), over the classes
     * that occur among the true or the predicted labels (scikit-learn's {@code f1_score(average='macro')}).
     */
    public static double macroF1(int[] truth, int[] predicted) {
        checkPair(truth, predicted);
        int classes = 0;
        for (int i = 0; i < truth.length; i++) {
            classes = Math.max(classes, Math.max(truth[i], predicted[i]) + 1);
        }
        long[] tp = new long[classes], fp = new long[classes], fn = new long[classes];
        for (int i = 0; i < truth.length; i++) {
            if (truth[i] == predicted[i]) {
                tp[truth[i]]++;
            } else {
                fp[predicted[i]]++;
                fn[truth[i]]++;
            }
        }
        double sum = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            if (tp[c] + fp[c] + fn[c] > 0) {
                sum += 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
                present++;
            }
        }
        return sum / present;
    }

    /**
     * The adjusted Rand index of two partitions of the same rows (Hubert and Arabie 1985): the
     * Rand index corrected for chance, from the contingency table n_ij, its row sums a_i and column
     * sums b_j: (sum C(n_ij, 2) - E) / ((sum C(a_i, 2) + sum C(b_j, 2)) / 2 - E) with
     * E = sum C(a_i, 2) sum C(b_j, 2) / C(n, 2). 1 for the same partition (up to renaming), about 0
     * for unrelated ones, negative below chance. When both partitions put every row in one group, or
     * every row alone, it is 1 (scikit-learn's convention).
     */
    public static double adjustedRandIndex(int[] a, int[] b) {
        checkPair(a, b);
        int ka = 0, kb = 0;
        for (int i = 0; i < a.length; i++) {
            ka = Math.max(ka, a[i] + 1);
            kb = Math.max(kb, b[i] + 1);
        }
        long[][] table = new long[ka][kb];
        long[] rowSums = new long[ka], colSums = new long[kb];
        for (int i = 0; i < a.length; i++) {
            table[a[i]][b[i]]++;
            rowSums[a[i]]++;
            colSums[b[i]]++;
        }
        double index = 0, sumA = 0, sumB = 0;
        for (int i = 0; i < ka; i++) {
            for (int j = 0; j < kb; j++) {
                index += pairs(table[i][j]);
            }
            sumA += pairs(rowSums[i]);
        }
        for (int j = 0; j < kb; j++) {
            sumB += pairs(colSums[j]);
        }
        if (a.length < 2) {
            return 1.0;   // one row: no pairs, both partitions the same
        }
        double expected = sumA * sumB / pairs(a.length);
        double max = (sumA + sumB) / 2;
        if (max == expected) {
            return 1.0;
        }
        return (index - expected) / (max - expected);
    }

    private static double pairs(long n) {
        return n * (n - 1) / 2.0;
    }

    private static void checkPair(int[] a, int[] b) {
        if (a == null || b == null || a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("need the same positive number of labels on both sides, got "
                    + (a == null ? 0 : a.length) + " and " + (b == null ? 0 : b.length));
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i] < 0 || b[i] < 0) {
                throw new IllegalArgumentException("labels are class indices from 0, but row " + i + " has " + Math.min(a[i], b[i]));
            }
        }
    }

    /** The label of each row of {@code test}: the majority among its k nearest training rows. */
    public static int[] nearestNeighbours(float[][] train, int[] trainLabels, float[][] test, int k, Parallelism parallelism) {
        int d = checkRows("k-NN training rows", train, -1);
        checkRows("k-NN test rows", test, d);
        if (trainLabels == null || trainLabels.length != train.length) {
            throw new IllegalArgumentException("k-NN: " + (trainLabels == null ? 0 : trainLabels.length) + " labels for "
                    + train.length + " training rows");
        }
        if (k <= 0 || k > train.length) {
            throw new IllegalArgumentException("k-NN: k is " + k + " but there are " + train.length + " training rows (1 to "
                    + train.length + " possible)");
        }
        int classes = 0;
        for (int i = 0; i < trainLabels.length; i++) {
            if (trainLabels[i] < 0) {
                throw new IllegalArgumentException("k-NN: labels are class indices from 0, but training row " + i + " has "
                        + trainLabels[i]);
            }
            classes = Math.max(classes, trainLabels[i] + 1);
        }
        int[] out = new int[test.length];
        int nc = classes;
        parallelism.forEach((test.length + CHUNK - 1) / CHUNK, t -> {
            double[] bestD = new double[k];
            int[] bestI = new int[k];
            int[] votes = new int[nc];
            for (int r = t * CHUNK, end = Math.min(test.length, r + CHUNK); r < end; r++) {
                out[r] = vote(train, trainLabels, test[r], k, bestD, bestI, votes);
            }
        });
        return out;
    }

    /**
     * The k nearest training rows by Euclidean distance (a tie in distance goes to the smaller
     * row index), then the label most of them carry (a tie in votes goes to the smaller label).
     */
    private static int vote(float[][] train, int[] labels, float[] q, int k, double[] bestD, int[] bestI, int[] votes) {
        int found = 0;
        for (int i = 0; i < train.length; i++) {
            float[] x = train[i];
            double s = 0;
            for (int j = 0; j < q.length; j++) {
                double e = (double) x[j] - q[j];
                s += e * e;
            }
            if (found == k && s >= bestD[k - 1]) {
                continue;   // not nearer than the k-th (an equal distance keeps the earlier row)
            }
            int p = found < k ? found++ : k - 1;
            while (p > 0 && bestD[p - 1] > s) {
                bestD[p] = bestD[p - 1];
                bestI[p] = bestI[p - 1];
                p--;
            }
            bestD[p] = s;
            bestI[p] = i;
        }
        Arrays.fill(votes, 0);
        for (int n = 0; n < k; n++) {
            votes[labels[bestI[n]]]++;
        }
        int best = 0;
        for (int c = 1; c < votes.length; c++) {
            if (votes[c] > votes[best]) {
                best = c;
            }
        }
        return best;
    }

    /** Checks rows of one finite width ({@code d}, or that of row 0 when d is -1); returns it. */
    private static int checkRows(String what, float[][] x, int d) {
        if (x == null || x.length == 0) {
            throw new IllegalArgumentException(what + ": at least one row is needed");
        }
        int w = d >= 0 ? d : x[0] == null ? 0 : x[0].length;
        for (int r = 0; r < x.length; r++) {
            if (x[r] == null || x[r].length != w || w == 0) {
                throw new IllegalArgumentException(what + ": row " + r + " has " + (x[r] == null ? 0 : x[r].length) + " values but "
                        + (d >= 0 ? "the model was fitted on " : "row 0 has ") + w);
            }
            for (int j = 0; j < w; j++) {
                if (!Float.isFinite(x[r][j])) {
                    throw new IllegalArgumentException(what + ": row " + r + ", value " + j + " is " + x[r][j]);
                }
            }
        }
        return w;
    }

    /**
     * A multinomial logistic regression (softmax over the classes), L2-regularized, on features
     * standardized by the training rows' means and standard deviations (a constant feature is
     * centred only). It minimizes the mean cross-entropy plus (l2 / 2) times the squared weights
     * (the biases are not penalized) by L-BFGS (10 pairs, backtracking Armijo line search) in
     * double, until the largest gradient entry is below 1e-6, the loss stops falling (relative
     * change below 1e-12), or {@code maxIterations}.
     */
    public static final class LogisticRegression {
        private final double[] mean, inverseSd;
        private final double[] weights;   // classes x (features + 1): row c is w_c, then its bias
        private final int classes, features, iterations;
        private final double loss;

        private LogisticRegression(double[] mean, double[] inverseSd, double[] weights, int classes, int iterations, double loss) {
            this.mean = mean;
            this.inverseSd = inverseSd;
            this.weights = weights;
            this.classes = classes;
            this.features = mean.length;
            this.iterations = iterations;
            this.loss = loss;
        }

        /** Fits {@code classes} classes (labels 0 .. classes - 1) to the rows. */
        public static LogisticRegression fit(float[][] x, int[] labels, int classes, double l2, int maxIterations,
                                             Parallelism parallelism) {
            int d = checkRows("logistic regression training rows", x, -1);
            int n = x.length;
            if (labels == null || labels.length != n) {
                throw new IllegalArgumentException("logistic regression: " + (labels == null ? 0 : labels.length) + " labels for "
                        + n + " rows");
            }
            if (classes < 2) {
                throw new IllegalArgumentException("logistic regression: at least 2 classes are needed, got " + classes);
            }
            for (int i = 0; i < n; i++) {
                if (labels[i] < 0 || labels[i] >= classes) {
                    throw new IllegalArgumentException("logistic regression: row " + i + " has label " + labels[i] + ", not 0 to "
                            + (classes - 1));
                }
            }
            if (!(l2 >= 0) || Double.isInfinite(l2)) {
                throw new IllegalArgumentException("logistic regression: the L2 weight must be 0 or more, got " + l2);
            }
            if (maxIterations <= 0) {
                throw new IllegalArgumentException("logistic regression: iterations must be positive, got " + maxIterations);
            }
            double[] mean = new double[d], inv = new double[d];
            for (float[] row : x) {
                for (int j = 0; j < d; j++) {
                    mean[j] += row[j];
                }
            }
            for (int j = 0; j < d; j++) {
                mean[j] /= n;
            }
            for (float[] row : x) {
                for (int j = 0; j < d; j++) {
                    double e = row[j] - mean[j];
                    inv[j] += e * e;
                }
            }
            for (int j = 0; j < d; j++) {
                double sd = Math.sqrt(inv[j] / n);
                inv[j] = sd > 0 ? 1 / sd : 1;
            }
            double[][] z = standardize(x, mean, inv);
            Objective f = new Objective(z, labels, classes, l2, parallelism);
            int p = classes * (d + 1);
            double[] w = new double[p], g = new double[p];
            double fw = f.value(w, g);
            int m = 10;
            double[][] ss = new double[m][], ys = new double[m][];
            double[] rho = new double[m];
            int stored = 0, newest = -1, iter = 0;
            double[] dir = new double[p], wNew = new double[p], gNew = new double[p], alpha = new double[m];
            while (iter < maxIterations && maxAbs(g) >= 1e-6) {
                iter++;
                // Two-loop recursion: dir = -H g.
                for (int i = 0; i < p; i++) {
                    dir[i] = -g[i];
                }
                for (int k = 0; k < stored; k++) {
                    int s = Math.floorMod(newest - k, m);
                    alpha[s] = rho[s] * dot(ss[s], dir);
                    axpy(-alpha[s], ys[s], dir);
                }
                if (stored > 0) {
                    double gamma = dot(ss[newest], ys[newest]) / dot(ys[newest], ys[newest]);
                    for (int i = 0; i < p; i++) {
                        dir[i] *= gamma;
                    }
                }
                for (int k = stored - 1; k >= 0; k--) {
                    int s = Math.floorMod(newest - k, m);
                    double beta = rho[s] * dot(ys[s], dir);
                    axpy(alpha[s] - beta, ss[s], dir);
                }
                double slope = dot(g, dir);
                if (!(slope < 0)) {   // not a descent direction (round-off): start again from the gradient
                    stored = 0;
                    for (int i = 0; i < p; i++) {
                        dir[i] = -g[i];
                    }
                    slope = dot(g, dir);
                }
                double step = stored == 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
                double fNew = Double.NaN;
                boolean accepted = false;
                for (int tries = 0; tries < 60; tries++) {
                    for (int i = 0; i < p; i++) {
                        wNew[i] = w[i] + step * dir[i];
                    }
                    fNew = f.value(wNew, gNew);
                    if (fNew <= fw + 1e-4 * step * slope) {
                        accepted = true;
                        break;
                    }
                    step *= 0.5;
                }
                if (!accepted) {
                    break;   // no step lowers the loss: as close to the optimum as double can tell
                }
                double[] s = new double[p], y = new double[p];
                for (int i = 0; i < p; i++) {
                    s[i] = wNew[i] - w[i];
                    y[i] = gNew[i] - g[i];
                }
                double sy = dot(s, y);
                if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
                    newest = (newest + 1) % m;
                    ss[newest] = s;
                    ys[newest] = y;
                    rho[newest] = 1 / sy;
                    stored = Math.min(m, stored + 1);
                }
                double fall = fw - fNew;
                System.arraycopy(wNew, 0, w, 0, p);
                System.arraycopy(gNew, 0, g, 0, p);
                fw = fNew;
                if (fall <= 1e-12 * Math.max(1, Math.abs(fw))) {
                    break;
                }
            }
            return new LogisticRegression(mean, inv, w, classes, iter, fw);
        }

        private static double[][] standardize(float[][] x, double[] mean, double[] inv) {
            double[][] z = new double[x.length][mean.length];
            for (int r = 0; r < x.length; r++) {
                for (int j = 0; j < mean.length; j++) {
                    z[r][j] = (x[r][j] - mean[j]) * inv[j];
                }
            }
            return z;
        }

        /** The most probable class of each row (a tie goes to the smaller class). */
        public int[] predict(float[][] x) {
            double[][] pr = probabilities(x);
            int[] out = new int[x.length];
            for (int r = 0; r < x.length; r++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (pr[r][c] > pr[r][best]) {
                        best = c;
                    }
                }
                out[r] = best;
            }
            return out;
        }

        /** Each row's class probabilities (softmax of the scores). */
        public double[][] probabilities(float[][] x) {
            checkRows("logistic regression rows", x, features);
            double[][] z = standardize(x, mean, inverseSd);
            double[][] out = new double[x.length][classes];
            for (int r = 0; r < x.length; r++) {
                scores(weights, z[r], classes, out[r]);
                softmaxInPlace(out[r]);
            }
            return out;
        }

        /** L-BFGS iterations taken. */
        public int iterations() {
            return iterations;
        }

        /** The regularized mean cross-entropy on the training rows at the end. */
        public double loss() {
            return loss;
        }

        public int classes() {
            return classes;
        }
    }

    private static void scores(double[] w, double[] z, int classes, double[] out) {
        int d = z.length;
        for (int c = 0; c < classes; c++) {
            int o = c * (d + 1);
            double s = w[o + d];
            for (int j = 0; j < d; j++) {
                s += w[o + j] * z[j];
            }
            out[c] = s;
        }
    }

    /** Scores to probabilities in place; returns log sum exp of the scores. */
    private static double softmaxInPlace(double[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : s) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < s.length; c++) {
            s[c] = Math.exp(s[c] - max);
            sum += s[c];
        }
        for (int c = 0; c < s.length; c++) {
            s[c] /= sum;
        }
        return max + Math.log(sum);
    }

    /** The regularized mean cross-entropy and its gradient, summed over fixed chunks of rows in chunk order. */
    private static final class Objective {
        final double[][] z;
        final int[] labels;
        final int classes, d;
        final double l2;
        final Parallelism parallelism;
        final int chunks;
        final double[] chunkLoss;
        final double[][] chunkGrad;

        Objective(double[][] z, int[] labels, int classes, double l2, Parallelism parallelism) {
            this.z = z;
            this.labels = labels;
            this.classes = classes;
            this.d = z[0].length;
            this.l2 = l2;
            this.parallelism = parallelism;
            this.chunks = (z.length + CHUNK - 1) / CHUNK;
            this.chunkLoss = new double[chunks];
            this.chunkGrad = new double[chunks][classes * (d + 1)];
        }

        double value(double[] w, double[] grad) {
            parallelism.forEach(chunks, t -> {
                double[] g = chunkGrad[t];
                Arrays.fill(g, 0);
                double[] p = new double[classes];
                double sum = 0;
                for (int r = t * CHUNK, end = Math.min(z.length, r + CHUNK); r < end; r++) {
                    double[] x = z[r];
                    scores(w, x, classes, p);
                    double target = p[labels[r]];
                    sum += softmaxInPlace(p) - target;
                    p[labels[r]] -= 1;
                    for (int c = 0; c < classes; c++) {
                        int o = c * (d + 1);
                        double e = p[c];
                        for (int j = 0; j < d; j++) {
                            g[o + j] += e * x[j];
                        }
                        g[o + d] += e;
                    }
                }
                chunkLoss[t] = sum;
            });
            int n = z.length;
            double loss = 0;
            Arrays.fill(grad, 0);
            for (int t = 0; t < chunks; t++) {
                loss += chunkLoss[t];
                axpy(1, chunkGrad[t], grad);
            }
            loss /= n;
            double penalty = 0;
            for (int c = 0; c < classes; c++) {
                int o = c * (d + 1);
                for (int j = 0; j < d; j++) {
                    grad[o + j] = grad[o + j] / n + l2 * w[o + j];
                    penalty += w[o + j] * w[o + j];
                }
                grad[o + d] /= n;
            }
            return loss + 0.5 * l2 * penalty;
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** What {@link #kMeans} found: each row's cluster, the centroids, the sum of squared distances to them, Lloyd steps taken. */
    public record Clustering(int[] assignment, double[][] centroids, double inertia, int iterations) {}

    /**
     * k-means (Lloyd's algorithm) from {@code restarts} k-means++ seedings (Arthur and Vassilvitskii
     * 2007; restart i draws from seed + i), each run for at most {@code iterations} steps or until no
     * row changes cluster; the run with the smallest inertia (sum of squared distances to the
     * nearest centroid) wins, the earlier one on a tie. A row goes to the nearest centroid, the
     * smaller index on a tie; a cluster left empty keeps its centroid. Deterministic.
     */
    public static Clustering kMeans(float[][] x, int k, int iterations, int restarts, long seed) {
        int d = checkRows("k-means rows", x, -1);
        int n = x.length;
        if (k <= 0 || k > n) {
            throw new IllegalArgumentException("k-means: " + k + " clusters asked for " + n + " rows (1 to " + n + " possible)");
        }
        if (iterations <= 0 || restarts <= 0) {
            throw new IllegalArgumentException("k-means: iterations and restarts must be positive, got " + iterations + " and "
                    + restarts);
        }
        Clustering best = null;
        for (int run = 0; run < restarts; run++) {
            Clustering c = lloyd(x, seeds(x, k, seed + run), iterations, d);
            if (best == null || c.inertia() < best.inertia()) {
                best = c;
            }
        }
        return best;
    }

    /** k-means++: the first centroid a uniformly drawn row, each next one a row drawn with probability proportional to D^2. */
    private static double[][] seeds(float[][] x, int k, long seed) {
        int n = x.length, d = x[0].length;
        SplittableRandom random = new SplittableRandom(seed);
        double[][] c = new double[k][];
        c[0] = toDouble(x[random.nextInt(n)]);
        double[] nearest = new double[n];
        Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        for (int m = 1; m < k; m++) {
            double total = 0;
            for (int i = 0; i < n; i++) {
                nearest[i] = Math.min(nearest[i], distance(x[i], c[m - 1]));
                total += nearest[i];
            }
            int pick;
            if (total > 0) {
                double u = random.nextDouble() * total, cum = 0;
                pick = n - 1;
                for (int i = 0; i < n; i++) {
                    cum += nearest[i];
                    if (cum > u && nearest[i] > 0) {
                        pick = i;
                        break;
                    }
                }
            } else {
                pick = random.nextInt(n);   // every row sits on a centroid already
            }
            c[m] = toDouble(x[pick]);
        }
        return c;
    }

    private static Clustering lloyd(float[][] x, double[][] c, int iterations, int d) {
        int n = x.length, k = c.length;
        int[] assign = new int[n];
        Arrays.fill(assign, -1);
        int steps = 0;
        for (; steps < iterations; steps++) {
            boolean changed = false;
            for (int i = 0; i < n; i++) {
                int a = nearest(x[i], c);
                changed |= a != assign[i];
                assign[i] = a;
            }
            if (!changed) {
                break;
            }
            double[][] sums = new double[k][d];
            long[] counts = new long[k];
            for (int i = 0; i < n; i++) {
                counts[assign[i]]++;
                for (int j = 0; j < d; j++) {
                    sums[assign[i]][j] += x[i][j];
                }
            }
            for (int m = 0; m < k; m++) {
                if (counts[m] > 0) {
                    for (int j = 0; j < d; j++) {
                        c[m][j] = sums[m][j] / counts[m];
                    }
                }
            }
        }
        double inertia = 0;
        for (int i = 0; i < n; i++) {
            assign[i] = nearest(x[i], c);
            inertia += distance(x[i], c[assign[i]]);
        }
        return new Clustering(assign, c, inertia, steps);
    }

    private static int nearest(float[] row, double[][] c) {
        int best = 0;
        double bd = distance(row, c[0]);
        for (int m = 1; m < c.length; m++) {
            double dm = distance(row, c[m]);
            if (dm < bd) {
                bd = dm;
                best = m;
            }
        }
        return best;
    }

    private static double distance(float[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            double e = a[j] - b[j];
            s += e * e;
        }
        return s;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int j = 0; j < a.length; j++) {
            d[j] = a[j];
        }
        return d;
    }
}
