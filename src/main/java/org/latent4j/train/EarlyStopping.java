package org.latent4j.train;

/**
 * Stop when the validation -ELBO has not improved by more than {@code minDelta} for
 * {@code patience} epochs, and (with {@code restoreBest}) hand back the weights of the best
 * epoch instead of the last. Needs validation data.
 */
public record EarlyStopping(int patience, double minDelta, boolean restoreBest) {
    public EarlyStopping {
        if (patience < 1 || !(minDelta >= 0) || Double.isInfinite(minDelta)) {
            throw new IllegalArgumentException("early stopping needs patience >= 1 and a finite min delta >= 0, got "
                    + patience + ", " + minDelta);
        }
    }

    /** Patience in epochs, any improvement counts, best weights restored. */
    public static EarlyStopping patience(int epochs) {
        return new EarlyStopping(epochs, 0, true);
    }
}
