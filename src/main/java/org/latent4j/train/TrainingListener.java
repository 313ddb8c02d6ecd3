package org.latent4j.train;

/** Progress of a training run (e.g. for a progress bar). Called on the training thread. */
public interface TrainingListener {
    /** After each batch: samples done in this epoch of {@code samplesPerEpoch}, and the running mean loss. */
    default void onBatch(int epoch, long samplesDone, long samplesPerEpoch, double runningLoss) {}

    default void onEpoch(EpochStats stats) {}

    TrainingListener NONE = new TrainingListener() {};
}
