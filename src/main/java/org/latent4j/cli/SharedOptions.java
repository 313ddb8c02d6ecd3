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
                description = "Seed of everything random (weights, batch order, z samples, the validation split). "
                        + "Default: ${DEFAULT-VALUE}.")
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
                description = "z samples drawn per row: in training the reconstruction term is their mean; the nll and "
                        + "elbo scores average over them, iwae takes them as its K (more give a tighter bound, e.g. "
                        + "100). Default: ${DEFAULT-VALUE}.")
        int samples;
    }

    /** Which CSV columns are not features: the label column and the ID column (train and every use command). */
    static final class Columns {
        @Option(names = "--label-column", paramLabel = "NAME|NUMBER",
                description = "CSV: the column holding each row's class (whole numbers), left out of the features and "
                        + "used as the data's labels; a name from the header line or a column number counted from 1. "
                        + "Default: none.")
        String label;

        @Option(names = "--id-column", paramLabel = "NAME|NUMBER",
                description = "CSV: the column holding each row's ID (any text), left out of the features; score writes "
                        + "it beside the scores. A name from the header line or a column number counted from 1. "
                        + "Default: none.")
        String id;

        org.latent4j.data.Csv.Table read(java.nio.file.Path data, boolean test) throws java.io.IOException {
            return org.latent4j.data.DataFiles.readTable(data, test, false, label, id);
        }
    }
}
