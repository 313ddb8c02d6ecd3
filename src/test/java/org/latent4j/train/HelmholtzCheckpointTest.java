package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;


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

    static final HelmholtzSpec WIDE = Model.helmholtz(64).layers(48, 40);

    static TrainingConfig wide(int threads, int epochs) {
        return new TrainingConfig(OptimizerSpec.adam(1e-3f), 32, epochs, 4, threads, 1f, 0f, true);
    }

    /** Stops a run from its listener after the batch that ends at row {@code done} of epoch {@code epoch}. */
    static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super("stopped by the test");
        }
    }

    static TrainingListener stopAt(int epoch, int done) {
        return new TrainingListener() {
            @Override
            public void onBatch(int e, long samplesDone, long samplesPerEpoch, double runningLoss) {
                if (e == epoch && samplesDone == done) {
                    throw new Stop();
                }
            }
        };
    }

    /**
     * 100 rows in batches of 32 (4 steps an epoch, the last of 4 rows), checkpoints every 2 steps:
     * a run killed after the third batch of epoch 2 left the checkpoint of step 6 (epoch 2, row 64),
     * and resumed from it, with 1 or 2 threads whichever the first run had, it ends with bitwise
     * the parameters and the history (but the times) of a run that never stopped; so does a run
     * saved at the end of epoch 2 and resumed to 3 epochs.
     */
    @Test
    void aRunStoppedMidEpochAndResumedGivesTheBitsOfAnUnbrokenOne(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Dataset train = HelmholtzTrainerTest.randomData(100, 64, 8), validation = HelmholtzTrainerTest.randomData(30, 64, 9);
        for (TrainingProcedure p : List.<TrainingProcedure>of(new TrainingProcedure.WakeSleep(0.01f, 0.01f),
                new TrainingProcedure.ReweightedWakeSleep(3, true, 0.01f, 0.01f))) {
            long unbroken = checksum(HelmholtzTrainer.fit(WIDE, train, validation, wide(1, 3), p, 5, null, null));
            for (int[] threads : new int[][] {{1, 1}, {2, 2}, {1, 2}, {2, 1}}) {
                java.nio.file.Path file = dir.resolve("ck-" + threads[0] + threads[1] + ".safetensors");
                CheckpointPolicy policy = new CheckpointPolicy(file, 1, 2);
                org.junit.jupiter.api.Assertions.assertThrows(Stop.class, () -> HelmholtzTrainer.fit(WIDE, train, validation,
                        wide(threads[0], 3), p, 5, stopAt(2, 96), null, policy));
                HelmholtzCheckpoint c = HelmholtzCheckpoint.read(file);
                assertEquals(new Checkpoint.Progress(2, 64, 6, c.progress().reconSum(), 0, 64, 0, c.progress().seconds(), 0), c.progress());
                assertEquals(1, c.history().size());
                assertEquals(6, c.generative().steps());
                assertEquals(6, c.recognition().steps());
                List<HelmholtzTrainer.Epoch> seen = new java.util.ArrayList<>();
                HelmholtzTrainer.Result r = HelmholtzTrainer.resume(file, train, validation, wide(threads[1], 3), p, 5, null, seen::add, policy);
                assertEquals(unbroken, checksum(r), p + ", threads " + threads[0] + " then " + threads[1]);
                assertEquals(3, r.history().size());
                assertEquals(List.of(2, 3), seen.stream().map(HelmholtzTrainer.Epoch::epoch).toList(), "the resumed run reports its epochs");
                HelmholtzCheckpoint last = HelmholtzCheckpoint.read(file);
                assertEquals(4, last.progress().epoch());
                assertEquals(0, last.progress().position());
                org.junit.jupiter.api.Assertions.assertArrayEquals(r.model().generative(), last.model().generative());
            }
            // Saved at the end of epoch 2, resumed with --epochs raised to 3.
            java.nio.file.Path file = dir.resolve("two.safetensors");
            HelmholtzTrainer.Result two = HelmholtzTrainer.fit(WIDE, train, validation, wide(2, 2), p, 5, null, null,
                    CheckpointPolicy.everyEpoch(file));
            org.junit.jupiter.api.Assertions.assertArrayEquals(two.model().recognition(), HelmholtzCheckpoint.read(file).model().recognition());
            assertEquals(unbroken, checksum(HelmholtzTrainer.resume(file, train, validation, wide(1, 3), p, 5, null, null, null)));
            // The checkpoint loads as the model.
            org.latent4j.model.HelmholtzMachine m = (org.latent4j.model.HelmholtzMachine) org.latent4j.model.Models.load(file);
            org.junit.jupiter.api.Assertions.assertArrayEquals(two.model().generative(), m.generative());
        }
    }

    static String message(Class<? extends Exception> type, org.junit.jupiter.api.function.Executable run) {
        return org.junit.jupiter.api.Assertions.assertThrows(type, run).getMessage();
    }

    static void contains(String message, String... parts) {
        for (String p : parts) {
            org.junit.jupiter.api.Assertions.assertTrue(message.contains(p), "\"" + p + "\" in: " + message);
        }
    }

    /**
     * Resuming with another recipe, procedure, evaluation, data or too few epochs is refused, as
     * are damaged files: a moment of the wrong length, a NaN moment, a missing weight, optimizer
     * steps that disagree with the run's, a history that does not fit the epoch; each message
     * names the file and the tensor or field.
     */
    @Test
    void resumesWithOtherSettingsAndDamagedCheckpointsAreRefusedByName(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Dataset train = data(50, 3), validation = data(20, 4);
        TrainingProcedure ws = new TrainingProcedure.WakeSleep(0.01f, 0.02f);
        java.nio.file.Path file = dir.resolve("ck.safetensors");
        HelmholtzTrainer.fit(SPEC, train, validation, cfg(1, 2), ws, 5, stopAt(99, 0), null, new CheckpointPolicy(file, 1, 3));
        HelmholtzCheckpoint c = HelmholtzCheckpoint.read(file);
        assertEquals(3, c.progress().epoch());
        contains(message(IllegalArgumentException.class, () -> HelmholtzTrainer.resume(file, train, validation, cfg(1, 3).withSeed(6), ws, 5,
                null, null, null)), file.toString(), "seed: 5 there, 6 here");
        contains(message(IllegalArgumentException.class, () -> HelmholtzTrainer.resume(file, train, validation, cfg(1, 3),
                new TrainingProcedure.WakeSleep(0.01f, 0.03f), 5, null, null, null)), file.toString(), "sleepRate=0.02", "same procedure");
        contains(message(IllegalArgumentException.class, () -> HelmholtzTrainer.resume(file, train, validation, cfg(1, 3), ws, 7, null, null,
                null)), file.toString(), "5 samples, not 7");
        contains(message(IllegalArgumentException.class, () -> HelmholtzTrainer.resume(file, data(50, 11), validation, cfg(1, 3), ws, 5, null,
                null, null)), file.toString(), "other training data");
        contains(message(IllegalArgumentException.class, () -> HelmholtzTrainer.resume(file, train, validation, cfg(1, 1), ws, 5, null, null,
                null)), file.toString(), "already 2 epochs", "at least 2");
        contains(message(IllegalArgumentException.class, () -> HelmholtzTrainer.resume(file, train, validation,
                cfg(1, 3).withOptimizer(OptimizerSpec.sgd(1e-2f)), ws, 5, null, null, null)), file.toString(), "recipe");
        contains(message(java.io.IOException.class, () -> Checkpoint.read(file)), file.toString(), "Helmholtz machine's checkpoint");

        java.nio.file.Path bad = dir.resolve("bad.safetensors");
        float[] shortMoment = java.util.Arrays.copyOf(c.recognition().firstMoment(), 3);
        new HelmholtzCheckpoint(c.model(), c.generative(), new HelmholtzCheckpoint.Group(c.recognition().steps(), shortMoment,
                c.recognition().secondMoment()), c.progress(), c.history(), c.recipe(), c.procedure(), 5, c.dataFingerprint()).write(bad);
        contains(message(java.io.IOException.class, () -> HelmholtzCheckpoint.read(bad)), bad.toString(),
                "recognition_optimizer.first_moment", "[3]", "recognition group has " + c.model().recognition().length);
        float[] nan = c.generative().secondMoment().clone();
        nan[2] = Float.NaN;
        new HelmholtzCheckpoint(c.model(), new HelmholtzCheckpoint.Group(c.generative().steps(), c.generative().firstMoment(), nan),
                c.recognition(), c.progress(), c.history(), c.recipe(), c.procedure(), 5, c.dataFingerprint()).write(bad);
        contains(message(java.io.IOException.class, () -> HelmholtzCheckpoint.read(bad)), bad.toString(),
                "generative_optimizer.second_moment", "NaN at element 2");
        new HelmholtzCheckpoint(c.model(), new HelmholtzCheckpoint.Group(c.generative().steps() + 1, c.generative().firstMoment(),
                c.generative().secondMoment()), c.recognition(), c.progress(), c.history(), c.recipe(), c.procedure(), 5,
                c.dataFingerprint()).write(bad);
        contains(message(java.io.IOException.class, () -> HelmholtzCheckpoint.read(bad)), bad.toString(), "optimizers took 9 and 8 steps");
        new HelmholtzCheckpoint(c.model(), c.generative(), c.recognition(), c.progress(), c.history().subList(0, 1), c.recipe(),
                c.procedure(), 5, c.dataFingerprint()).write(bad);
        contains(message(java.io.IOException.class, () -> HelmholtzCheckpoint.read(bad)), bad.toString(), "history has 1 epochs",
                "epoch 3");
        // A checkpoint without one of the machine's tensors.
        org.latent4j.io.SafeTensors.Contents contents = org.latent4j.io.SafeTensors.read(file);
        java.util.List<org.latent4j.io.SafeTensors.Entry> rest = new java.util.ArrayList<>(contents.tensors().values());
        rest.removeIf(e -> e.name().equals("generative.0.weight"));
        org.latent4j.io.SafeTensors.write(bad, contents.metadata(), rest);
        contains(message(java.io.IOException.class, () -> HelmholtzCheckpoint.read(bad)), bad.toString(), "generative.0.weight", "missing");
        // A graph model's checkpoint is not a Helmholtz machine's.
        java.nio.file.Path vae = dir.resolve("vae.safetensors");
        Trainer.fit(Model.encoder().dense(4).relu().gaussianLatent(2).decoder().dense(16).bernoulli(), train, null, cfg(1, 1),
                TrainingListener.NONE, CheckpointPolicy.everyEpoch(vae));
        contains(message(java.io.IOException.class, () -> HelmholtzCheckpoint.read(vae)), vae.toString(), "not a Helmholtz machine's");
    }

    /** The loop's batch and its listener call (what EpochLoop runs per step) allocate nothing, as the step alone. */
    @Test
    void theLoopsBatchAllocatesNothingAfterWarmUp() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Dataset data = HelmholtzTrainerTest.randomData(64, 48, 2);
        TrainingConfig cfg = new TrainingConfig(OptimizerSpec.adam(1e-3f), 32, 1, 1, 1, 1f, 0f, false);
        for (TrainingProcedure p : procedures()) {
            HelmholtzTrainer.Loop loop = new HelmholtzTrainer.Loop(org.latent4j.model.HelmholtzMachine.initial(Model.helmholtz(48).layers(24, 8),
                    1, 1f), data, cfg, p, org.latent4j.kernel.Parallelism.serial());
            HelmholtzTrainerTest.assertNoAllocation(mx, s -> {
                loop.batch(1, (int) (s % 2) * 32, 32, s);
                loop.afterBatch(1, (int) (s % 2) * 32 + 32);
            }, p.toString());
        }
    }
}
