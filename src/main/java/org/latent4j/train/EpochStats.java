package org.latent4j.train;

import java.util.Locale;

/**
 * One epoch of training: mean per sample of the reconstruction term (-log p(x|z)), the KL term
 * and the negative ELBO (recon + KL; the training objective weights KL by beta and its schedule)
 * on the training data, the same on the validation data (NaN without validation data), time and
 * throughput, the batches skipped because their loss or gradient was not finite
 * ({@link TrainingConfig.OnNonFinite#SKIP}; the training means leave them out), the mean of the
 * penalty terms (sparsity, activity, contractive, weight penalties; 0 without), and for a VAE the
 * KL of each latent dimension and the count of active units (dimensions whose posterior mean
 * varies over the data with variance above 0.01, Burda et al. 2016), both measured on the
 * validation data after the epoch (on the training data without validation data); for other
 * models an empty array and -1.
 */
public record EpochStats(int epoch, double trainReconstruction, double trainKl, double trainNegElbo,
                         double validationReconstruction, double validationKl, double validationNegElbo,
                         double seconds, double samplesPerSecond, int skippedBatches,
                         double trainPenalty, double[] klPerDimension, int activeUnits) {
    /** KL below this many nats marks a latent dimension as unused (collapsed). */
    public static final double COLLAPSED_NATS = 0.01;

    public EpochStats(int epoch, double trainReconstruction, double trainKl, double trainNegElbo,
                      double validationReconstruction, double validationKl, double validationNegElbo,
                      double seconds, double samplesPerSecond, int skippedBatches) {
        this(epoch, trainReconstruction, trainKl, trainNegElbo, validationReconstruction, validationKl, validationNegElbo,
                seconds, samplesPerSecond, skippedBatches, 0, new double[0], -1);
    }

    public EpochStats {
        klPerDimension = klPerDimension.clone();
    }

    @Override
    public double[] klPerDimension() {
        return klPerDimension.clone();
    }

    /** Latent dimensions whose KL is below {@link #COLLAPSED_NATS}. */
    public int collapsedDimensions() {
        int n = 0;
        for (double k : klPerDimension) {
            if (k < COLLAPSED_NATS) {
                n++;
            }
        }
        return n;
    }

    /**
     * A warning in plain words when the posterior has collapsed (at least 90 % of the latent
     * dimensions carry almost no information), else null.
     */
    public String collapseWarning() {
        int d = klPerDimension.length, c = collapsedDimensions();
        if (d == 0 || c < Math.ceil(0.9 * d)) {
            return null;
        }
        return String.format(Locale.ROOT, "posterior collapse at epoch %d: %d of %d latent dimensions carry less than %.2f nats of KL,"
                + " so the decoder ignores the code; try KL annealing (--kl-schedule linear:STEPS), free bits (--free-bits 0.5),"
                + " a smaller beta or a weaker decoder", epoch, c, d, COLLAPSED_NATS);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EpochStats s && epoch == s.epoch && same(trainReconstruction, s.trainReconstruction)
                && same(trainKl, s.trainKl) && same(trainNegElbo, s.trainNegElbo)
                && same(validationReconstruction, s.validationReconstruction) && same(validationKl, s.validationKl)
                && same(validationNegElbo, s.validationNegElbo) && same(seconds, s.seconds)
                && same(samplesPerSecond, s.samplesPerSecond) && skippedBatches == s.skippedBatches
                && same(trainPenalty, s.trainPenalty) && java.util.Arrays.equals(klPerDimension, s.klPerDimension)
                && activeUnits == s.activeUnits;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(epoch, trainReconstruction, trainKl, java.util.Arrays.hashCode(klPerDimension), activeUnits);
    }

    private static boolean same(double a, double b) {
        return Double.compare(a, b) == 0;
    }
}
