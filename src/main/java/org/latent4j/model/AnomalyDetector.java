package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Philox;

/**
 * Anomaly detection with a trained model as one object: a score per row (higher = more
 * anomalous), each feature's share of it, a threshold calibrated on held-out normal data, and
 * the verdict. Scores: reconstruction error (MSE, MAE, any model); for a VAE also the negative
 * ELBO and -log p(x|z) averaged over L samples of z, and -log p(x) estimated by importance
 * weighting with K samples (IWAE; never below... the ELBO's bound: it is at most the negative
 * ELBO of the same samples). Random draws come from the seed only, the same draws for every row,
 * so a row's score does not depend on the other rows. An optional input {@link Scaling} (the
 * one the model was trained with) is applied to every row before the model, in every score and
 * contribution (which are then in scaled units). The scaling, the model, the score, its settings
 * and the threshold save together in one model file.
 */
public final class AnomalyDetector {
    /** How a row is scored. */
    public enum Score { MSE, MAE, NEG_LOG_LIKELIHOOD, NEG_ELBO, IMPORTANCE_WEIGHTED }

    /** How a threshold is set from the scores of normal rows. */
    public enum Rule {
        /** The p-th percentile (parameter p in [0, 100]). */
        PERCENTILE,
        /** The largest normal score. */
        MAX,
        /** The percentile that flags the given expected fraction of rows (parameter in (0, 1)). */
        CONTAMINATION,
        /** Q3 + k * (Q3 - Q1) (parameter k, 1.5 as usual). */
        IQR,
        /** median + k * 1.4826 * MAD (parameter k, e.g. 3). */
        MAD
    }

    static final String SCORE_KEY = "latent4j.anomaly.score", SAMPLES_KEY = "latent4j.anomaly.samples",
            SEED_KEY = "latent4j.anomaly.seed", THRESHOLD_KEY = "latent4j.anomaly.threshold";
    private static final int CHUNK = 64;

    private final LatentModel model;
    private final LatentModel inner;      // what the scores run on: the model without its own input scaling (applied as this.scaling)
    private final boolean modelScales;    // the scaling is the model's own, saved with the model
    private final Score score;
    private final int samples;
    private final long seed;
    private final double threshold;
    private final Scaling scaling;

    private AnomalyDetector(LatentModel model, Score score, int samples, long seed, double threshold, Scaling scaling) {
        if (model == null || score == null || scaling == null) {
            throw new IllegalArgumentException("a detector needs a model, a score and a scaling (Scaling.none() for none)");
        }
        // A model trained on scaled rows scales its inputs itself: the detector applies that scaling
        // (scores in the units the model was trained in) and runs the model without it.
        boolean own = model instanceof Autoencoder a && !a.inputScaling().isNone();
        if (own) {
            Scaling mine = ((Autoencoder) model).inputScaling();
            if (!scaling.isNone() && !scaling.sameAs(mine)) {
                throw new IllegalArgumentException("the model already scales its inputs (" + mine + ", saved with it); give the"
                        + " detector no scaling of its own");
            }
            scaling = mine;
        }
        this.modelScales = own;
        this.inner = own ? ((Autoencoder) model).withInputScaling(Scaling.none()) : model;
        if (!scaling.isNone() && scaling.features() != model.inputDim()) {
            throw new IllegalArgumentException("the scaling has " + scaling.features() + " features but the model takes " + model.inputDim());
        }
        if (samples < 1) {
            throw new IllegalArgumentException("samples must be at least 1, got " + samples);
        }
        boolean variational = model instanceof Autoencoder a && a.spec().isVariational();
        if ((score == Score.NEG_ELBO || score == Score.IMPORTANCE_WEIGHTED) && !variational) {
            throw new IllegalArgumentException(score + " needs a VAE; this model is a " + model.kind());
        }
        if (score == Score.NEG_LOG_LIKELIHOOD && !(model instanceof Autoencoder)) {
            throw new IllegalArgumentException(score + " needs an autoencoder or VAE; this model is a " + model.kind());
        }
        this.model = model;
        this.score = score;
        this.samples = samples;
        this.seed = seed;
        this.threshold = threshold;
        this.scaling = scaling;
    }

    /** A detector without a threshold yet; {@code samples} is L (or K) for the sampled scores. */
    public static AnomalyDetector of(LatentModel model, Score score, int samples, long seed) {
        return new AnomalyDetector(model, score, samples, seed, Double.NaN, Scaling.none());
    }

    /** The input scaling applied before the model ({@link Scaling#none()} by default). */
    public Scaling scaling() {
        return scaling;
    }

    /**
     * The same detector with an input scaling applied to every row before the model: the one
     * the model was trained with, fitted on its (normal) training rows. Scores change with it, so
     * the threshold is dropped: calibrate again.
     */
    public AnomalyDetector withScaling(Scaling s) {
        return new AnomalyDetector(model, score, samples, seed, Double.NaN, s);
    }

    public LatentModel model() {
        return model;
    }

    public Score scoreKind() {
        return score;
    }

    /** The threshold (NaN before calibration): a score above it is anomalous. */
    public double threshold() {
        return threshold;
    }

    public AnomalyDetector withThreshold(double t) {
        if (Double.isNaN(t)) {
            throw new IllegalArgumentException("the threshold must be a number");
        }
        return new AnomalyDetector(model, score, samples, seed, t, scaling);
    }

    /** One score per row; higher is more anomalous. */
    public double[] score(float[][] x) {
        x = scaling.apply(x);
        double[] s = new double[x.length];
        for (int from = 0; from < x.length; from += CHUNK) {
            float[][] part = Arrays.copyOfRange(x, from, Math.min(x.length, from + CHUNK));
            double[] p = scoreChunk(part, null);
            System.arraycopy(p, 0, s, from, p.length);
        }
        return s;
    }

    /**
     * Each feature's part of the score, rows x features: squared or absolute errors (divided by
     * the feature count, so a row's parts sum to its MSE or MAE), or -log p(x_j|z) averaged over
     * the samples for the likelihood scores (the KL term and the importance weights belong to no
     * single feature and are left out).
     */
    public double[][] contributions(float[][] x) {
        x = scaling.apply(x);
        double[][] c = new double[x.length][];
        for (int from = 0; from < x.length; from += CHUNK) {
            float[][] part = Arrays.copyOfRange(x, from, Math.min(x.length, from + CHUNK));
            double[][] parts = new double[part.length][];
            scoreChunk(part, parts);
            System.arraycopy(parts, 0, c, from, parts.length);
        }
        return c;
    }

    /** The verdict per row: score above the threshold. */
    public boolean[] isAnomalous(float[][] x) {
        if (Double.isNaN(threshold)) {
            throw new IllegalStateException("calibrate the detector (or set a threshold) first");
        }
        double[] s = score(x);
        boolean[] v = new boolean[s.length];
        for (int i = 0; i < s.length; i++) {
            v[i] = s[i] > threshold;
        }
        return v;
    }

    /** A detector whose threshold follows {@code rule} on the scores of held-out normal rows. */
    public AnomalyDetector calibrate(float[][] normal, Rule rule, double parameter) {
        return withThreshold(threshold(score(normal), rule, parameter));
    }

    /** The threshold with the best F1 on labelled rows (true = anomalous). */
    public AnomalyDetector calibrateBestF1(float[][] x, boolean[] anomalous) {
        return withThreshold(bestF1Threshold(score(x), anomalous));
    }

    // ------------------------------------------------------------------ thresholds (pure functions)

    /** The threshold {@code rule} sets on scores of held-out normal rows (what {@link #calibrate} uses). */
    public static double threshold(double[] normalScores, Rule rule, double parameter) {
        if (normalScores.length == 0) {
            throw new IllegalArgumentException("calibration needs at least one normal row");
        }
        double[] s = normalScores.clone();
        Arrays.sort(s);
        return switch (rule) {
            case PERCENTILE -> {
                if (!(parameter >= 0 && parameter <= 100)) {
                    throw new IllegalArgumentException("percentile must be in [0, 100], got " + parameter);
                }
                yield quantile(s, parameter / 100);
            }
            case MAX -> s[s.length - 1];
            case CONTAMINATION -> {
                if (!(parameter > 0 && parameter < 1)) {
                    throw new IllegalArgumentException("contamination must be in (0, 1), got " + parameter);
                }
                yield quantile(s, 1 - parameter);
            }
            case IQR -> {
                double q1 = quantile(s, 0.25), q3 = quantile(s, 0.75);
                yield q3 + parameter * (q3 - q1);
            }
            case MAD -> {
                double med = quantile(s, 0.5);
                double[] dev = new double[s.length];
                for (int i = 0; i < s.length; i++) {
                    dev[i] = Math.abs(s[i] - med);
                }
                Arrays.sort(dev);
                yield med + parameter * 1.4826 * quantile(dev, 0.5);
            }
        };
    }

    /** Linear interpolation between order statistics (NumPy's default percentile). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** The threshold with the best F1 on scores of labelled rows, true = anomalous (what {@link #calibrateBestF1} uses). */
    public static double bestF1Threshold(double[] scores, boolean[] anomalous) {
        if (scores.length != anomalous.length || scores.length == 0) {
            throw new IllegalArgumentException(scores.length + " scores but " + anomalous.length + " labels");
        }
        Integer[] idx = new Integer[scores.length];
        long pos = 0;
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
            pos += anomalous[i] ? 1 : 0;
        }
        if (pos == 0) {
            throw new IllegalArgumentException("best F1 needs at least one anomalous row");
        }
        Arrays.sort(idx, (a, b) -> Double.compare(scores[b], scores[a]));   // highest first
        double best = -1, at = Double.POSITIVE_INFINITY;
        long tp = 0, flagged = 0;
        for (int i = 0; i < idx.length; i++) {
            tp += anomalous[idx[i]] ? 1 : 0;
            flagged++;
            if (i + 1 < idx.length && scores[idx[i + 1]] == scores[idx[i]]) {
                continue;   // a threshold cannot split tied scores
            }
            double f1 = 2.0 * tp / (flagged + pos);
            if (f1 > best) {
                best = f1;
                // flag everything scoring >= this one: the threshold sits just below it
                at = i + 1 < idx.length ? (scores[idx[i]] + scores[idx[i + 1]]) / 2 : Math.nextDown(scores[idx[i]]);
            }
        }
        return at;
    }

    // ------------------------------------------------------------------ scores

    private double[] scoreChunk(float[][] x, double[][] parts) {
        int n = x.length;
        double[] s = new double[n];
        switch (score) {
            case MSE, MAE -> {
                float[][] rec = inner.reconstruct(x);
                for (int r = 0; r < n; r++) {
                    int d = x[r].length;
                    double sum = 0;
                    double[] p = parts == null ? null : new double[d];
                    for (int j = 0; j < d; j++) {
                        double e = (double) x[r][j] - rec[r][j];
                        double v = (score == Score.MSE ? e * e : Math.abs(e)) / d;
                        sum += v;
                        if (p != null) {
                            p[j] = v;
                        }
                    }
                    s[r] = sum;
                    if (parts != null) {
                        parts[r] = p;
                    }
                }
            }
            case NEG_LOG_LIKELIHOOD, NEG_ELBO, IMPORTANCE_WEIGHTED -> likelihoodScores((Autoencoder) inner, x, s, parts);
        }
        return s;
    }

    private void likelihoodScores(Autoencoder ae, float[][] x, double[] s, double[][] parts) {
        int n = x.length, d = ae.inputDim(), zd = ae.latentDim();
        boolean vae = ae.spec().isVariational();
        float[][] mu = ae.encode(x), lv = vae ? ae.encodeLogVariance(x) : null;
        int l = vae ? samples : 1;
        double[][] logw = new double[n][l];
        if (parts != null) {
            for (int r = 0; r < n; r++) {
                parts[r] = new double[d];
            }
        }
        float[] eps = new float[zd];
        for (int k = 0; k < l; k++) {
            Philox.fillNormal(eps, 0, zd, seed, k, 0);   // the same draw for every row
            float[][] z = new float[n][zd];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < zd; j++) {
                    z[r][j] = vae ? mu[r][j] + (float) Math.exp(0.5 * lv[r][j]) * eps[j] : mu[r][j];
                }
            }
            double[][] nll = ae.featureNegLogLikelihood(x, z);
            for (int r = 0; r < n; r++) {
                double sum = 0;
                for (int j = 0; j < d; j++) {
                    sum += nll[r][j];
                    if (parts != null) {
                        parts[r][j] += nll[r][j] / l;
                    }
                }
                double logPz = 0, logQ = 0;
                if (vae) {
                    for (int j = 0; j < zd; j++) {
                        double zz = z[r][j], e = eps[j];
                        logPz += -0.5 * (zz * zz + Math.log(2 * Math.PI));
                        logQ += -0.5 * (e * e + Math.log(2 * Math.PI) + lv[r][j]);
                    }
                }
                // score == IMPORTANCE_WEIGHTED: log w = log p(x|z) + log p(z) - log q(z|x); else -log p(x|z)
                logw[r][k] = score == Score.IMPORTANCE_WEIGHTED ? -sum + logPz - logQ : sum;
            }
        }
        for (int r = 0; r < n; r++) {
            switch (score) {
                case NEG_LOG_LIKELIHOOD -> s[r] = mean(logw[r]);
                case NEG_ELBO -> s[r] = mean(logw[r]) + kl(mu[r], lv[r]);
                case IMPORTANCE_WEIGHTED -> s[r] = -(logSumExp(logw[r]) - Math.log(l));
                case MSE, MAE -> throw new IllegalStateException("not a likelihood score: " + score);
            }
        }
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double logSumExp(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        double s = 0;
        for (double x : v) {
            s += Math.exp(x - m);
        }
        return m + Math.log(s);
    }

    /** KL(N(mu, exp(lv)) || N(0, I)) in closed form. */
    static double kl(float[] mu, float[] lv) {
        double s = 0;
        for (int j = 0; j < mu.length; j++) {
            s += 0.5 * ((double) mu[j] * mu[j] + Math.exp(lv[j]) - 1 - lv[j]);
        }
        return s;
    }

    // ------------------------------------------------------------------ files

    /** Saves the model with the detector's settings, scaling and threshold in its metadata (one file, atomically). */
    public void save(Path file) throws IOException {
        Map<String, String> md = new LinkedHashMap<>();
        md.put(SCORE_KEY, score.name());
        md.put(SAMPLES_KEY, Integer.toString(samples));
        md.put(SEED_KEY, Long.toString(seed));
        md.put(THRESHOLD_KEY, Double.toString(threshold));
        if (!modelScales) {
            scaling.toMetadata(md);   // else the model saves it as its own
        }
        model.save(file, md);
    }

    /** Loads a file written by {@link #save}; errors name the file and the field. */
    public static AnomalyDetector load(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        AnomalyDetector d = from(c, file);
        if (d == null) {
            throw new IOException(file + ": a model file without a detector (no " + SCORE_KEY + "); make one with AnomalyDetector.of");
        }
        return d;
    }

    /** The detector saved in a file's checked contents, or null when the file holds a plain model. */
    public static AnomalyDetector from(SafeTensors.Contents c, Path file) throws IOException {
        Map<String, String> md = c.metadata();
        String sc = md.get(SCORE_KEY);
        if (sc == null) {
            return null;
        }
        LatentModel m = Models.from(c, file);
        Scaling scaling = Scaling.fromMetadata(md, m.inputDim(), file);
        try {
            return new AnomalyDetector(m, Score.valueOf(sc.toUpperCase(Locale.ROOT)), Integer.parseInt(md.getOrDefault(SAMPLES_KEY, "1")),
                    Long.parseLong(md.getOrDefault(SEED_KEY, "0")), Double.parseDouble(md.getOrDefault(THRESHOLD_KEY, "NaN")), scaling);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": bad anomaly detector settings in the metadata: " + e.getMessage(), e);
        }
    }
}
