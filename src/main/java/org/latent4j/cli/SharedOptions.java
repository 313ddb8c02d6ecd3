package org.latent4j.cli;

import picocli.CommandLine.Option;

/**
 * The options several commands share, each declared once (a picocli mixin) with one meaning and
 * one default everywhere: {@code --seed} (42), {@code --threads} (all cores), {@code --samples} (1).
 */
final class SharedOptions {
    private SharedOptions() {}

    /** The seed of everything random a command draws: weights, batches, z samples, splits. */
    static final class Seed {
        @Option(names = "--seed", defaultValue = "42",
                description = "Seed of everything random (weights, batch order, z samples, the validation split). Default: ${DEFAULT-VALUE}.")
        long seed;
    }

    /** How many threads compute; results are the same for any count. */
    static final class Threads {
        @Option(names = "--threads", paramLabel = "N",
                description = "Threads that compute (results are the same for any count). Default: all cores.")
        Integer threads;

        int resolve() {
            int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            if (t <= 0) {
                throw new IllegalArgumentException("--threads must be positive, got " + t);
            }
            return t;
        }
    }

    /** z samples per row: in training the reconstruction term's mean, in scoring L (nll, elbo) or K (iwae). */
    static final class Samples {
        @Option(names = "--samples", paramLabel = "L", defaultValue = "1",
                description = {"z samples drawn per row: in training the reconstruction term is their mean; the nll and elbo",
                    "scores average over them, iwae takes them as its K (more give a tighter bound, e.g. 100). Default: ${DEFAULT-VALUE}."})
        int samples;
    }
}
