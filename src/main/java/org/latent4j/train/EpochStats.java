package org.latent4j.train;

/**
 * One epoch of training: mean per sample of the reconstruction term (-log p(x|z)), the KL term
 * and the negative ELBO (recon + KL; the training objective uses beta * KL) on the training
 * data, the same on the validation data (NaN without validation data), time and throughput,
 * and the batches skipped because their loss or gradient was not finite
 * ({@link TrainingConfig.OnNonFinite#SKIP}; the training means leave them out).
 */
public record EpochStats(int epoch, double trainReconstruction, double trainKl, double trainNegElbo,
                         double validationReconstruction, double validationKl, double validationNegElbo,
                         double seconds, double samplesPerSecond, int skippedBatches) {}
