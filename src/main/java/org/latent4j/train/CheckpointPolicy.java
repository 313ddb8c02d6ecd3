package org.latent4j.train;

import java.nio.file.Path;

/**
 * When and where training saves checkpoints: one file, replaced atomically each time (a reader or
 * a crash never sees half a file), after every {@code everyEpochs} epochs and, when
 * {@code everySteps} is positive, also every that many optimizer steps inside an epoch. The
 * last epoch is always saved. A checkpoint is a model file (it loads as a model) plus the
 * optimizer state and the run's progress, so {@link Trainer#resume} continues bitwise as if
 * the run had never stopped.
 */
public record CheckpointPolicy(Path file, int everyEpochs, int everySteps) {
    public CheckpointPolicy {
        if (file == null) {
            throw new IllegalArgumentException("checkpoint file must not be null");
        }
        if (everyEpochs <= 0 || everySteps < 0) {
            throw new IllegalArgumentException("checkpoints: every N epochs needs N >= 1 (got " + everyEpochs
                    + ") and every M steps M >= 0 (got " + everySteps + ")");
        }
    }

    public static CheckpointPolicy everyEpoch(Path file) {
        return new CheckpointPolicy(file, 1, 0);
    }
}
