package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;

class ScheduleAndEarlyStoppingTest {
    static final Dataset TRAIN = TrainerTest.TRAIN.head(200);
    static final Dataset VALID = TrainerTest.TEST.head(100);

    /** The cosine's reduced cos(pi t) against Math.cos in double, and no schedule allocates per step once compiled. */
    @Test
    void theCosineIsCosPiAndNoScheduleAllocates() {
        for (int i = 0; i <= 100_000; i++) {
            double t = i / 100_000.0;
            assertEquals(Math.cos(Math.PI * t), LearningRateSchedule.Cosine.cosPi(t), 1e-15, "cos(pi " + t + ")");
        }
        assertEquals(1.0, LearningRateSchedule.Cosine.cosPi(0));
        assertEquals(0.0, LearningRateSchedule.Cosine.cosPi(0.5));
        assertEquals(-1.0, LearningRateSchedule.Cosine.cosPi(1));
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        for (LearningRateSchedule s : List.of(LearningRateSchedule.constant(), LearningRateSchedule.stepDecay(3, 0.5f),
                LearningRateSchedule.exponential(0.999f), LearningRateSchedule.cosine(0.01f),
                LearningRateSchedule.warmUp(100, LearningRateSchedule.cosine(0f)))) {
            float sum = 0f;
            java.util.List<Long> windows = new java.util.ArrayList<>();
            int zeros = 0;
            for (long step = 0; zeros < 3 && windows.size() < 200; ) {
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 10_000; i++, step++) {
                    sum += s.rate(1e-3f, step % 50_000, 500, 100);
                }
                long bytes = mx.getThreadAllocatedBytes(tid) - before;
                windows.add(bytes);
                zeros = bytes == 0 ? zeros + 1 : 0;
            }
            assertTrue(zeros == 3, s + ": bytes allocated per 10,000 rates: " + windows + " (sum " + sum + ")");
        }
    }

    @Test
    void schedulesFollowTheirClosedForms() {
        float base = 0.1f;
        int spe = 10, epochs = 20;
        var step = LearningRateSchedule.stepDecay(3, 0.5f);
        assertEquals(0.1f, step.rate(base, 29, spe, epochs));
        assertEquals(0.05f, step.rate(base, 30, spe, epochs));
        assertEquals((float) (0.1 * 0.25), step.rate(base, 65, spe, epochs));
        var exp = LearningRateSchedule.exponential(0.9f);
        assertEquals((float) (0.1 * Math.pow(0.9f, 7)), exp.rate(base, 75, spe, epochs), 1e-9);
        var cos = LearningRateSchedule.cosine(0.1f);
        assertEquals(0.1f, cos.rate(base, 0, spe, epochs));
        assertEquals((float) (0.01 + 0.09 * 0.5), cos.rate(base, 100, spe, epochs), 1e-8);
        assertEquals(0.01f, cos.rate(base, 200, spe, epochs), 1e-9);
        assertEquals(0.01f, cos.rate(base, 500, spe, epochs), 1e-9, "stays at the floor past the end");
        var warm = LearningRateSchedule.warmUp(4, LearningRateSchedule.constant());
        assertEquals(0.025f, warm.rate(base, 0, spe, epochs));
        assertEquals(0.075f, warm.rate(base, 2, spe, epochs), 1e-9);
        assertEquals(0.1f, warm.rate(base, 4, spe, epochs));
        assertEquals(LearningRateSchedule.warmUp(500, LearningRateSchedule.cosine(0.01f)), LearningRateSchedule.parse("warmup:500,cosine:0.01"));
        assertEquals(LearningRateSchedule.stepDecay(5, 0.5f), LearningRateSchedule.parse("step:5:0.5"));
        var e = assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.parse("step:5"));
        assertTrue(e.getMessage().contains("'step:5'") && e.getMessage().contains("step:EVERY:FACTOR"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.parse("exp:1.5"));
        assertTrue(e.getMessage().contains("gamma in (0, 1]"), e.getMessage());
    }

    @Test
    void theTrainerStepsWithTheScheduledRate() {
        // One batch per epoch, plain SGD: a warm-up's first step at lr/4 is a constant run at lr/4.
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(200).withOptimizer(OptimizerSpec.sgd(0.2f));
        float[] warm = Trainer.fit(TrainerTest.smallVae(), TRAIN, null,
                cfg.withSchedule(LearningRateSchedule.warmUp(4, LearningRateSchedule.constant())), TrainingListener.NONE).model().parameters();
        float[] quarter = Trainer.fit(TrainerTest.smallVae(), TRAIN, null, cfg.withOptimizer(OptimizerSpec.sgd(0.05f)),
                TrainingListener.NONE).model().parameters();
        float[] full = Trainer.fit(TrainerTest.smallVae(), TRAIN, null, cfg, TrainingListener.NONE).model().parameters();
        assertArrayEquals(quarter, warm);
        assertFalse(java.util.Arrays.equals(full, warm));
    }

    @Test
    void earlyStoppingStopsAfterPatienceAndRestoresTheBestEpochsWeights() {
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(6).withBatchSize(50);
        // Nothing counts as an improvement: epoch 1 stays best, the run stops after epoch 1 + patience.
        Trainer.Result r = Trainer.fit(TrainerTest.smallVae(), TRAIN, VALID, cfg.withEarlyStopping(new EarlyStopping(2, 1e9, true)),
                TrainingListener.NONE);
        assertTrue(r.stoppedEarly());
        assertEquals(1, r.bestEpoch());
        assertEquals(3, r.history().size());
        float[] oneEpoch = Trainer.fit(TrainerTest.smallVae(), TRAIN, VALID, cfg.withEpochs(1), TrainingListener.NONE).model().parameters();
        assertArrayEquals(oneEpoch, r.model().parameters(), "the weights of epoch 1, not of epoch 3");

        // Any improvement counts: the best epoch is the one with the lowest validation -ELBO.
        Trainer.Result s = Trainer.fit(TrainerTest.smallVae(), TRAIN, VALID, cfg.withEarlyStopping(EarlyStopping.patience(1)),
                TrainingListener.NONE);
        List<EpochStats> h = s.history();
        int argmin = 0;
        for (int i = 1; i < h.size(); i++) {
            argmin = h.get(i).validationNegElbo() < h.get(argmin).validationNegElbo() ? i : argmin;
        }
        assertEquals(argmin + 1, s.bestEpoch());
        float[] atBest = Trainer.fit(TrainerTest.smallVae(), TRAIN, VALID, cfg.withEpochs(s.bestEpoch()), TrainingListener.NONE)
                .model().parameters();
        assertArrayEquals(atBest, s.model().parameters());

        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.fit(TrainerTest.smallVae(), TRAIN, null,
                cfg.withEarlyStopping(EarlyStopping.patience(1)), TrainingListener.NONE));
        assertTrue(e.getMessage().contains("give validation data"), e.getMessage());
    }

    @Test
    void aRunWithEarlyStoppingAndAScheduleResumesBitwise(@TempDir Path dir) throws IOException {
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(5).withBatchSize(50)
                .withSchedule(LearningRateSchedule.warmUp(6, LearningRateSchedule.cosine(0.1f)))
                .withEarlyStopping(new EarlyStopping(2, 0.5, true));
        Trainer.Result whole = Trainer.fit(TrainerTest.smallVae(), TRAIN, VALID, cfg, TrainingListener.NONE);
        // (Cosine depends on the number of epochs: a 2-epoch run resumed to 5 would follow another curve.)
        Path mid = dir.resolve("mid.safetensors");
        TrainingListener crash = new TrainingListener() {
            @Override
            public void onBatch(int epoch, long done, long total, double loss) {
                if (epoch == 3 && done == 100) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        };
        assertThrows(IllegalStateException.class, () -> Trainer.fit(TrainerTest.smallVae(), TRAIN, VALID, cfg, crash,
                new CheckpointPolicy(mid, 1, 3)));
        Trainer.Result resumed = Trainer.resume(mid, TRAIN, VALID, cfg.withThreads(2), TrainingListener.NONE, null);
        assertArrayEquals(whole.model().parameters(), resumed.model().parameters());
        assertEquals(whole.bestEpoch(), resumed.bestEpoch());
        assertEquals(whole.stoppedEarly(), resumed.stoppedEarly());
        var e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(mid, TRAIN, VALID, cfg.withEarlyStopping(null), TrainingListener.NONE, null));
        assertTrue(e.getMessage().contains("another training recipe"), e.getMessage());
    }
}
