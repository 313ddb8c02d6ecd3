package org.latent4j.train;

/**
 * Training stopped because a batch's loss or gradient was not finite. The message names the
 * epoch, the step, the op and the tensor where the first NaN or infinity appeared, and the last
 * checkpoint still on disk (if checkpoints were on); the parameters were not updated by that batch.
 */
public final class TrainingFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long step;

    TrainingFailedException(String message, long step) {
        super(message);
        this.step = step;
    }

    /** The optimizer step (0-based, counted over the whole run) whose batch failed. */
    public long step() {
        return step;
    }
}
