package org.latent4j.train;

/** Progress of a training run (e.g. for a progress bar). Called on the training thread. */
public interface TrainingListener {
    /** After each batch: samples done in this epoch of {@code samplesPerEpoch}, and the running mean loss. */
    default void onBatch(int epoch, long samplesDone, long samplesPerEpoch, double runningLoss) {}

    default void onEpoch(EpochStats stats) {}

    /** After each epoch's {@link #onEpoch} of a model with a discrete latent (VQ, FSQ): its codebook's health. */
    default void onQuantizerHealth(QuantizerHealth health) {}

    TrainingListener NONE = new TrainingListener() {};
}
