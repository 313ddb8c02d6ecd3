package org.latent4j.model;

import java.util.Arrays;

/**
 * Measures of a model's answers: reconstruction errors (MSE, RMSE, MAE, PSNR) and, for anomaly
 * scores against labels (true = anomalous), the area under the ROC curve (ties counted half) and
 * the area under the precision-recall curve as average precision. All in double.
 */
public final class Metrics {
    private Metrics() {}

    public static double mse(float[][] x, float[][] y) {
        return sum(x, y, false) / count(x);
    }

    public static double rmse(float[][] x, float[][] y) {
        return Math.sqrt(mse(x, y));
    }

    public static double mae(float[][] x, float[][] y) {
        return sum(x, y, true) / count(x);
    }

    /** Peak signal-to-noise ratio in dB for values whose range is {@code peak} (1 for [0, 1] pixels). */
    public static double psnr(float[][] x, float[][] y, double peak) {
        return 10 * Math.log10(peak * peak / mse(x, y));
    }

    private static double sum(float[][] x, float[][] y, boolean abs) {
        if (x.length != y.length || x.length == 0) {
            throw new IllegalArgumentException("need the same positive number of rows, got " + x.length + " and " + y.length);
        }
        double s = 0;
        for (int r = 0; r < x.length; r++) {
            if (x[r].length != y[r].length) {
                throw new IllegalArgumentException("row " + r + " has " + x[r].length + " and " + y[r].length + " values");
            }
            for (int j = 0; j < x[r].length; j++) {
                double e = (double) x[r][j] - y[r][j];
                s += abs ? Math.abs(e) : e * e;
            }
        }
        return s;
    }

    private static long count(float[][] x) {
        long n = 0;
        for (float[] r : x) {
            n += r.length;
        }
        return n;
    }

    /** ROC-AUC: the chance that a random anomaly scores above a random normal row (ties count half). */
    public static double rocAuc(double[] scores, boolean[] anomalous) {
        int[] idx = sortedByScore(scores, anomalous);
        long pos = 0, neg = 0;
        for (boolean a : anomalous) {
            if (a) {
                pos++;
            } else {
                neg++;
            }
        }
        // Mann-Whitney U from ranks, averaging the ranks of tied scores.
        double rankSumPos = 0;
        for (int i = 0; i < idx.length; ) {
            int j = i;
            while (j < idx.length && scores[idx[j]] == scores[idx[i]]) {
                j++;
            }
            double avgRank = (i + 1 + j) / 2.0;   // ranks i+1 .. j
            for (int k = i; k < j; k++) {
                if (anomalous[idx[k]]) {
                    rankSumPos += avgRank;
                }
            }
            i = j;
        }
        return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    /** PR-AUC as average precision: the mean, over the anomalies, of the precision at each one's score threshold. */
    public static double averagePrecision(double[] scores, boolean[] anomalous) {
        int[] idx = sortedByScore(scores, anomalous);
        long pos = 0;
        for (boolean a : anomalous) {
            pos += a ? 1 : 0;
        }
        double ap = 0;
        long tp = 0, seen = 0;
        // Highest scores first; a group of tied scores is one threshold.
        for (int i = idx.length - 1; i >= 0; ) {
            int j = i;
            long groupTp = 0;
            while (j >= 0 && scores[idx[j]] == scores[idx[i]]) {
                groupTp += anomalous[idx[j]] ? 1 : 0;
                j--;
            }
            seen += i - j;
            tp += groupTp;
            ap += groupTp * ((double) tp / seen);
            i = j;
        }
        return ap / pos;
    }

    private static int[] sortedByScore(double[] scores, boolean[] anomalous) {
        if (scores.length != anomalous.length) {
            throw new IllegalArgumentException(scores.length + " scores but " + anomalous.length + " labels");
        }
        boolean anyPos = false, anyNeg = false;
        for (int i = 0; i < scores.length; i++) {
            if (Double.isNaN(scores[i])) {
                throw new IllegalArgumentException("score " + i + " is NaN");
            }
            anyPos |= anomalous[i];
            anyNeg |= !anomalous[i];
        }
        if (!anyPos || !anyNeg) {
            throw new IllegalArgumentException("the labels need both anomalous and normal rows");
        }
        Integer[] boxed = new Integer[scores.length];
        for (int i = 0; i < boxed.length; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> Double.compare(scores[a], scores[b]));
        int[] idx = new int[boxed.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = boxed[i];
        }
        return idx;
    }
}
