package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.latent4j.kernel.Parallelism;

/** Probe's classifiers, clustering and scores against brute-force references written here. */
class ProbeTest {
    /** Macro-F1 by precision and recall per class (0 where undefined), over the classes in either list. */
    static double referenceMacroF1(int[] truth, int[] pred) {
        java.util.TreeSet<Integer> classes = new java.util.TreeSet<>();
        for (int i = 0; i < truth.length; i++) {
            classes.add(truth[i]);
            classes.add(pred[i]);
        }
        double sum = 0;
        for (int c : classes) {
            int tp = 0, predicted = 0, actual = 0;
            for (int i = 0; i < truth.length; i++) {
                tp += truth[i] == c && pred[i] == c ? 1 : 0;
                predicted += pred[i] == c ? 1 : 0;
                actual += truth[i] == c ? 1 : 0;
            }
            double precision = predicted == 0 ? 0 : (double) tp / predicted, recall = actual == 0 ? 0 : (double) tp / actual;
            sum += precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
        return sum / classes.size();
    }

    /** ARI by counting every pair of rows: together in both, in a only, in b only, apart in both. */
    static double referenceAriByPairs(int[] a, int[] b) {
        double both = 0, onlyA = 0, onlyB = 0, neither = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = i + 1; j < a.length; j++) {
                boolean sa = a[i] == a[j], sb = b[i] == b[j];
                if (sa && sb) {
                    both++;
                } else if (sa) {
                    onlyA++;
                } else if (sb) {
                    onlyB++;
                } else {
                    neither++;
                }
            }
        }
        return 2 * (both * neither - onlyA * onlyB) / ((both + onlyA) * (onlyA + neither) + (both + onlyB) * (onlyB + neither));
    }

    /** ARI from the contingency table by the Hubert-Arabie formula, with binomials by multiplication. */
    static double referenceAriByTable(int[] a, int[] b) {
        int ka = Arrays.stream(a).max().getAsInt() + 1, kb = Arrays.stream(b).max().getAsInt() + 1;
        long[][] n = new long[ka][kb];
        for (int i = 0; i < a.length; i++) {
            n[a[i]][b[i]]++;
        }
        double index = 0, rows = 0, cols = 0;
        for (int i = 0; i < ka; i++) {
            long ai = 0;
            for (int j = 0; j < kb; j++) {
                index += n[i][j] * (n[i][j] - 1) / 2.0;
                ai += n[i][j];
            }
            rows += ai * (ai - 1) / 2.0;
        }
        for (int j = 0; j < kb; j++) {
            long bj = 0;
            for (int i = 0; i < ka; i++) {
                bj += n[i][j];
            }
            cols += bj * (bj - 1) / 2.0;
        }
        double expected = rows * cols / (a.length * (a.length - 1) / 2.0);
        return (index - expected) / ((rows + cols) / 2 - expected);
    }

    @Test
    void accuracyAndMacroF1AgainstCounts() {
        int[] truth = {0, 0, 1, 1, 2}, pred = {0, 1, 1, 1, 0};
        assertEquals(0.6, Probe.accuracy(truth, pred), 1e-15);
        // class 0: TP 1, FP 1, FN 1 -> 0.5; class 1: P 2/3, R 1 -> 0.8; class 2: never predicted -> 0
        assertEquals((0.5 + 0.8 + 0) / 3, Probe.macroF1(truth, pred), 1e-15);
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + r.nextInt(60);
            int[] t = new int[n], p = new int[n];
            for (int i = 0; i < n; i++) {
                t[i] = r.nextInt(4);                               // class 4 only ever predicted
                p[i] = r.nextInt(10) < 6 ? t[i] : r.nextInt(5);
            }
            long right = 0;
            for (int i = 0; i < n; i++) {
                right += t[i] == p[i] ? 1 : 0;
            }
            assertEquals((double) right / n, Probe.accuracy(t, p), 1e-15);
            assertEquals(referenceMacroF1(t, p), Probe.macroF1(t, p), 1e-12, "trial " + trial);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Probe.macroF1(new int[] {1, 2}, new int[] {1}));
        assertTrue(e.getMessage().contains("2 and 1"), e.getMessage());
    }

    @Test
    void adjustedRandIndexAgainstPairCountsAndKnownValues() {
        // scikit-learn's documented values
        assertEquals(0.5714285714285715, Probe.adjustedRandIndex(new int[] {0, 0, 1, 1}, new int[] {0, 0, 1, 2}), 1e-12);
        assertEquals(-0.5, Probe.adjustedRandIndex(new int[] {0, 0, 1, 1}, new int[] {0, 1, 0, 1}), 1e-12);
        assertEquals(1.0, Probe.adjustedRandIndex(new int[] {0, 0, 1, 1, 2}, new int[] {2, 2, 0, 0, 1}), 1e-12, "renamed");
        assertEquals(1.0, Probe.adjustedRandIndex(new int[] {3, 3, 3}, new int[] {1, 1, 1}), 1e-12, "one group each");
        SplittableRandom r = new SplittableRandom(9);
        for (int trial = 0; trial < 40; trial++) {
            int n = 3 + r.nextInt(120), ka = 1 + r.nextInt(5), kb = 2 + r.nextInt(6);
            int[] a = new int[n], b = new int[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.nextInt(ka);
                b[i] = r.nextInt(3) == 0 ? r.nextInt(kb) : a[i] % kb;   // partly related
            }
            double ari = Probe.adjustedRandIndex(a, b);
            double byPairs = referenceAriByPairs(a, b);
            if (Double.isNaN(byPairs)) {
                continue;   // both one group: the pair formula is 0/0
            }
            assertEquals(byPairs, ari, 1e-10, "trial " + trial);
            assertEquals(referenceAriByTable(a, b), ari, 1e-10, "trial " + trial);
        }
    }

    static float[][] blobs(int n, int classes, double spread, long seed, int[] labels) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
            double a = 2 * Math.PI * labels[i] / classes;
            x[i] = new float[] {(float) (4 * Math.cos(a) + spread * r.nextGaussian()), (float) (4 * Math.sin(a) + spread * r.nextGaussian()),
                (float) r.nextGaussian()};
        }
        return x;
    }

    @Test
    void logisticRegressionSeparatesASeparableSetCompletely() {
        int[] yTrain = new int[300], yTest = new int[150];
        float[][] train = blobs(300, 3, 0.5, 1, yTrain), test = blobs(150, 3, 0.5, 2, yTest);
        // separable: every row is nearer its own class's centre direction than the others by a margin
        try (Parallelism p = Parallelism.of(2)) {
            Probe.LogisticRegression lr = Probe.LogisticRegression.fit(train, yTrain, 3, 1e-4, 300, p);
            assertEquals(1.0, Probe.accuracy(yTrain, lr.predict(train)), "every training row right");
            assertEquals(1.0, Probe.accuracy(yTest, lr.predict(test)), "every test row right");
            assertTrue(lr.iterations() > 1, "it iterated: " + lr.iterations());
        }
    }

    /** The regularized cross-entropy minimized by plain gradient descent in double, standardized features: the reference. */
    static double[][] referenceProbabilities(float[][] x, int[] y, int classes, double l2, float[][] query) {
        int n = x.length, d = x[0].length;
        double[] mean = new double[d], sd = new double[d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j] / (double) n;
            }
        }
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                sd[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / n;
            }
        }
        for (int j = 0; j < d; j++) {
            sd[j] = Math.sqrt(sd[j]);
        }
        double[][] w = new double[classes][d];
        double[] b = new double[classes];
        for (int step = 0; step < 20000; step++) {
            double[][] gw = new double[classes][d];
            double[] gb = new double[classes];
            for (int i = 0; i < n; i++) {
                double[] p = softmax(w, b, x[i], mean, sd);
                for (int c = 0; c < classes; c++) {
                    double e = p[c] - (y[i] == c ? 1 : 0);
                    for (int j = 0; j < d; j++) {
                        gw[c][j] += e * (x[i][j] - mean[j]) / sd[j] / n;
                    }
                    gb[c] += e / n;
                }
            }
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j < d; j++) {
                    w[c][j] -= 0.5 * (gw[c][j] + l2 * w[c][j]);
                }
                b[c] -= 0.5 * gb[c];
            }
        }
        double[][] out = new double[query.length][];
        for (int i = 0; i < query.length; i++) {
            out[i] = softmax(w, b, query[i], mean, sd);
        }
        return out;
    }

    static double[] softmax(double[][] w, double[] b, float[] x, double[] mean, double[] sd) {
        double[] s = new double[b.length];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int c = 0; c < b.length; c++) {
            s[c] = b[c];
            for (int j = 0; j < x.length; j++) {
                s[c] += w[c][j] * (x[j] - mean[j]) / sd[j];
            }
            max = Math.max(max, s[c]);
        }
        for (int c = 0; c < b.length; c++) {
            s[c] = Math.exp(s[c] - max);
            sum += s[c];
        }
        for (int c = 0; c < b.length; c++) {
            s[c] /= sum;
        }
        return s;
    }

    @Test
    void logisticRegressionReachesTheOptimumOfGradientDescent() {
        int[] y = new int[90];
        float[][] x = blobs(90, 3, 2.5, 3, y);   // overlapping classes: a finite optimum
        double[][] want = referenceProbabilities(x, y, 3, 0.05, x);
        Probe.LogisticRegression lr = Probe.LogisticRegression.fit(x, y, 3, 0.05, 500, Parallelism.serial());
        double[][] got = lr.probabilities(x);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            for (int c = 0; c < 3; c++) {
                worst = Math.max(worst, Math.abs(got[i][c] - want[i][c]));
            }
        }
        assertTrue(worst < 1e-4, "probabilities within 1e-4 of gradient descent's: " + worst);
        // the biases are not penalized: at the optimum each class's mean probability is its frequency
        for (int c = 0; c < 3; c++) {
            double mean = 0;
            for (double[] p : got) {
                mean += p[c] / x.length;
            }
            assertEquals(1.0 / 3, mean, 1e-5, "class " + c);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Probe.LogisticRegression.fit(x, y, 2, 0, 10, Parallelism.serial()));
        assertTrue(e.getMessage().contains("label 2, not 0 to 1"), e.getMessage());
    }

    /** k-NN by sorting every training row by (distance, index), then counting the first k labels. */
    static int[] referenceKnn(float[][] train, int[] labels, float[][] test, int k) {
        int[] out = new int[test.length];
        for (int q = 0; q < test.length; q++) {
            List<double[]> all = new ArrayList<>();
            for (int i = 0; i < train.length; i++) {
                double s = 0;
                for (int j = 0; j < train[i].length; j++) {
                    s += ((double) train[i][j] - test[q][j]) * ((double) train[i][j] - test[q][j]);
                }
                all.add(new double[] {s, i});
            }
            all.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(a[1], b[1]));
            int[] votes = new int[10];
            for (int n = 0; n < k; n++) {
                votes[labels[(int) all.get(n)[1]]]++;
            }
            int best = 0;
            for (int c = 0; c < votes.length; c++) {
                if (votes[c] > votes[best]) {
                    best = c;
                }
            }
            out[q] = best;
        }
        return out;
    }

    @Test
    void nearestNeighboursAgainstANaiveLoop() {
        SplittableRandom r = new SplittableRandom(11);
        // small whole-number coordinates: many equal distances, so the tie rules matter
        float[][] train = new float[150][3], test = new float[60][3];
        int[] labels = new int[150];
        for (float[][] set : new float[][][] {train, test}) {
            for (float[] row : set) {
                for (int j = 0; j < 3; j++) {
                    row[j] = r.nextInt(4);
                }
            }
        }
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (int) (train[i][0] + r.nextInt(2)) % 4;
        }
        try (Parallelism two = Parallelism.of(2)) {
            for (int k : new int[] {1, 2, 5, 6, 150}) {
                int[] want = referenceKnn(train, labels, test, k);
                assertArrayEquals(want, Probe.nearestNeighbours(train, labels, test, k, Parallelism.serial()), "k = " + k);
                assertArrayEquals(want, Probe.nearestNeighbours(train, labels, test, k, two), "k = " + k + ", 2 threads");
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Probe.nearestNeighbours(train, labels, test, 151, Parallelism.serial()));
        assertTrue(e.getMessage().contains("k is 151 but there are 150 training rows"), e.getMessage());
    }

    @Test
    void kMeansFindsTheBestPartitionOfASmallSetAndSeparatedBlobs() {
        // 9 points: brute force over every assignment to 3 clusters finds the least inertia; k-means must reach it
        SplittableRandom r = new SplittableRandom(4);
        float[][] small = new float[9][];
        for (int i = 0; i < small.length; i++) {
            small[i] = new float[] {(float) (3 * (i % 3) + r.nextGaussian()), (float) (r.nextGaussian() + (i % 3 == 1 ? 2 : 0))};
        }
        double bestInertia = Double.POSITIVE_INFINITY;
        int[] assign = new int[9];
        for (int code = 0; code < 19683; code++) {   // 3^9
            for (int i = 0, c = code; i < 9; i++, c /= 3) {
                assign[i] = c % 3;
            }
            bestInertia = Math.min(bestInertia, inertia(small, assign, 3));
        }
        Probe.Clustering km = Probe.kMeans(small, 3, 100, 4, 42);
        assertEquals(bestInertia, km.inertia(), 1e-9, "the optimum of all 3^9 partitions");
        assertEquals(inertia(small, km.assignment(), 3), km.inertia(), 1e-9, "inertia of its own assignment");

        int[] labels = new int[600];
        float[][] x = blobs(600, 4, 0.4, 8, labels);
        Probe.Clustering c = Probe.kMeans(x, 4, 100, 4, 42);
        assertEquals(1.0, Probe.adjustedRandIndex(labels, c.assignment()), 1e-12, "well separated blobs recovered");
        assertArrayEquals(c.assignment(), Probe.kMeans(x, 4, 100, 4, 42).assignment(), "deterministic");
    }

    /** The sum of squared distances of the rows to their cluster's mean. */
    static double inertia(float[][] x, int[] assign, int k) {
        double[][] mean = new double[k][x[0].length];
        int[] count = new int[k];
        for (int i = 0; i < x.length; i++) {
            count[assign[i]]++;
            for (int j = 0; j < x[i].length; j++) {
                mean[assign[i]][j] += x[i][j];
            }
        }
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                double e = x[i][j] - mean[assign[i]][j] / count[assign[i]];
                s += e * e;
            }
        }
        return s;
    }
}
