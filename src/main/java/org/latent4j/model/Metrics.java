package org.latent4j.model;

import java.util.Arrays;

/**
 * Measures of a model's answers: reconstruction errors (MSE, RMSE, MAE, PSNR), the structural
 * similarity of images (SSIM), the compression ratio of a code and, for anomaly scores against
 * labels (true = anomalous), the area under the ROC curve (ties counted half) and the area under
 * the precision-recall curve as average precision. All in double.
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

    /**
     * Input floats per latent float: how many times smaller the code is than the row it stands
     * for ({@code inputDim / latentDim}; 784 pixels in a 32-d code: 24.5). It counts values, not
     * bytes (both are float32 here), and for a VAE the latent means only: the variances are not
     * needed to decode.
     */
    public static double compressionRatio(int inputDim, int latentDim) {
        if (inputDim <= 0 || latentDim <= 0) {
            throw new IllegalArgumentException("compression ratio: the input and latent sizes must be positive, got "
                    + inputDim + " and " + latentDim);
        }
        return (double) inputDim / latentDim;
    }

    /** Side of the SSIM window: an 11 x 11 Gaussian window, sigma 1.5, as in Wang et al. 2004. */
    public static final int SSIM_WINDOW = 11;
    private static final double[] SSIM_WEIGHTS = ssimWeights();

    private static double[] ssimWeights() {
        double[] g = new double[SSIM_WINDOW];
        double sum = 0;
        for (int k = 0; k < SSIM_WINDOW; k++) {
            int x = k - SSIM_WINDOW / 2;
            g[k] = Math.exp(-0.5 * x * x / (1.5 * 1.5));
            sum += g[k];
        }
        for (int k = 0; k < SSIM_WINDOW; k++) {
            g[k] /= sum;
        }
        return g;
    }

    /**
     * The structural similarity of two grayscale images (Wang, Bovik, Sheikh and Simoncelli 2004),
     * 1 for identical images: row-major {@code height x width} pixels, values spanning
     * {@code dataRange} (1 for [0, 1] pixels, 255 for bytes). At every position where the whole
     * window fits in the image, the local means, variances and covariance are weighted by an
     * 11 x 11 Gaussian window (sigma 1.5, normalized; population variances), and
     * ((2 mu_a mu_b + C1)(2 cov + C2)) / ((mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2)) with
     * C1 = (0.01 dataRange)^2, C2 = (0.03 dataRange)^2 is averaged over those positions. The same
     * number as scikit-image's {@code structural_similarity(a, b, gaussian_weights=True,
     * sigma=1.5, use_sample_covariance=False, data_range=dataRange)}. Images need at least 11
     * pixels on each side.
     */
    public static double ssim(float[] a, float[] b, int width, int height, double dataRange) {
        if (width < SSIM_WINDOW || height < SSIM_WINDOW) {
            throw new IllegalArgumentException("SSIM: a " + width + " x " + height + " image is smaller than the "
                    + SSIM_WINDOW + " x " + SSIM_WINDOW + " window");
        }
        if (!(dataRange > 0) || Double.isInfinite(dataRange)) {
            throw new IllegalArgumentException("SSIM: the data range must be a positive number, got " + dataRange);
        }
        for (int k = 0; k < 2; k++) {
            float[] img = k == 0 ? a : b;
            String which = k == 0 ? "first" : "second";
            if (img == null || img.length != width * height) {
                throw new IllegalArgumentException("SSIM: the " + which + " image has " + (img == null ? "no" : img.length)
                        + " pixels, not " + width + " x " + height);
            }
            for (int i = 0; i < img.length; i++) {
                if (!Float.isFinite(img[i])) {
                    throw new IllegalArgumentException("SSIM: pixel (x " + i % width + ", y " + i / width + ") of the " + which
                            + " image is " + img[i]);
                }
            }
        }
        int win = SSIM_WINDOW, vw = width - win + 1, vh = height - win + 1;
        // The window is separable: weighted sums along the rows, then along the columns.
        double[][] rowSums = new double[5][height * vw];   // a, b, a*a, b*b, a*b
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < vw; x++) {
                double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
                for (int k = 0; k < win; k++) {
                    double w = SSIM_WEIGHTS[k], pa = a[y * width + x + k], pb = b[y * width + x + k];
                    sa += w * pa;
                    sb += w * pb;
                    saa += w * pa * pa;
                    sbb += w * pb * pb;
                    sab += w * pa * pb;
                }
                int o = y * vw + x;
                rowSums[0][o] = sa;
                rowSums[1][o] = sb;
                rowSums[2][o] = saa;
                rowSums[3][o] = sbb;
                rowSums[4][o] = sab;
            }
        }
        double c1 = (0.01 * dataRange) * (0.01 * dataRange), c2 = (0.03 * dataRange) * (0.03 * dataRange);
        double total = 0;
        double[] m = new double[5];
        for (int y = 0; y < vh; y++) {
            for (int x = 0; x < vw; x++) {
                java.util.Arrays.fill(m, 0);
                for (int k = 0; k < win; k++) {
                    double w = SSIM_WEIGHTS[k];
                    int o = (y + k) * vw + x;
                    for (int q = 0; q < 5; q++) {
                        m[q] += w * rowSums[q][o];
                    }
                }
                double va = m[2] - m[0] * m[0], vb = m[3] - m[1] * m[1], cov = m[4] - m[0] * m[1];
                total += ((2 * m[0] * m[1] + c1) * (2 * cov + c2)) / ((m[0] * m[0] + m[1] * m[1] + c1) * (va + vb + c2));
            }
        }
        return total / ((double) vw * vh);
    }

    /** The mean SSIM of row i of x against row i of y, each row a {@code height x width} image. */
    public static double meanSsim(float[][] x, float[][] y, int width, int height, double dataRange) {
        if (x == null || y == null || x.length != y.length || x.length == 0) {
            throw new IllegalArgumentException("SSIM: need the same positive number of images, got "
                    + (x == null ? 0 : x.length) + " and " + (y == null ? 0 : y.length));
        }
        double s = 0;
        for (int r = 0; r < x.length; r++) {
            try {
                s += ssim(x[r], y[r], width, height, dataRange);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("row " + r + ": " + e.getMessage(), e);
            }
        }
        return s / x.length;
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
