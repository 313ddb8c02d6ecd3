package org.latent4j.train;


import java.util.List;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.dsl.Model;

/** Helmholtz training on the trainers' epoch loop: pinned bits, checkpoints and resume. */
class HelmholtzCheckpointTest {
    static final HelmholtzSpec SPEC = Model.helmholtz(16).layers(8, 4);

    static Dataset data(int rows, long seed) {
        return HelmholtzTrainerTest.randomData(rows, 16, seed);
    }

    static List<TrainingProcedure> procedures() {
        return List.of(new TrainingProcedure.WakeSleep(0.01f, 0.02f), new TrainingProcedure.ReweightedWakeSleep(3, true, 0.01f, 0.02f),
                new TrainingProcedure.ReweightedWakeSleep(2, false, 0.01f, 0.02f));
    }

    static TrainingConfig cfg(int threads, int epochs) {
        return new TrainingConfig(OptimizerSpec.adam(1e-2f), 16, epochs, 5, threads, 1f, 0f, true);
    }

    /** FNV over the bits of both arenas and of every epoch's figures but its times. */
    static long checksum(HelmholtzTrainer.Result r) {
        long h = 0xcbf29ce484222325L;
        for (float[] a : new float[][] {r.model().generative(), r.model().recognition()}) {
            for (float x : a) {
                h = (h ^ Float.floatToRawIntBits(x)) * 0x100000001b3L;
            }
        }
        for (HelmholtzTrainer.Epoch e : r.history()) {
            for (double d : new double[] {e.epoch(), e.trainBound(), e.validationBound(), e.validationLogLikelihood(), e.evaluationSamples()}) {
                h = (h ^ Double.doubleToRawLongBits(d)) * 0x100000001b3L;
            }
        }
        return h;
    }

    /**
     * The bits of 3-epoch runs (50 rows in batches of 16, so a last batch of 2) for each procedure
     * and 1 or 2 threads, pinned from the trainer's own loop before it ran on {@link EpochLoop}.
     */
    @Test
    void theSameSeedGivesTheBitsPinnedBeforeTheTrainerRanOnTheEpochLoop() {
        long[] pinned = {0x60b1ccbed3b3be6bL, 0x60b1ccbed3b3be6bL, 0xa2ec1580559abfbfL, 0xa2ec1580559abfbfL, 0x5bb01bd4d197c39eL,
            0x5bb01bd4d197c39eL};
        long[] sums = new long[pinned.length];
        Dataset train = data(50, 3), validation = data(20, 4);
        StringBuilder got = new StringBuilder();
        for (int p = 0; p < procedures().size(); p++) {
            for (int threads : new int[] {1, 2}) {
                long c = checksum(HelmholtzTrainer.fit(SPEC, train, validation, cfg(threads, 3), procedures().get(p), 5, null, null));
                got.append(String.format("%s threads %d: 0x%xL%n", procedures().get(p), threads, c));
                sums[2 * p + (threads - 1)] = c;
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(pinned, sums, got.toString());
    }
}
