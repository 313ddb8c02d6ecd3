package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Models;

/** Training that fails safely: non-finite losses and gradients, checkpoints, resume. */
class TrainingSafetyTest {
    static final Dataset TRAIN = TrainerTest.TRAIN.head(300);
    static final Dataset TEST = TrainerTest.TEST.head(100);

    static ModelSpec gaussianAe() {
        return Model.encoder().dense(16).relu().latent(4).decoder().dense(16).relu().dense(8).gaussian();
    }

    /** 64 rows of 8 features; row 37 is huge (finite, but its squared error overflows float). */
    static Dataset withHugeRow() {
        float[] x = new float[64 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37);
        }
        for (int j = 0; j < 8; j++) {
            x[37 * 8 + j] = 3e37f;
        }
        return new Dataset(x, 64, 8, null, "synthetic with a huge row");
    }

    @Test
    void aNonFiniteLossStopsNamingTheStepTheOpAndTheTensorAndLeavesTheWeightsAsBefore() {
        Dataset d = withHugeRow();
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(2).withBatchSize(16).withOptimizer(OptimizerSpec.sgd(0.01f));
        var e = assertThrows(TrainingFailedException.class, () -> Trainer.fit(gaussianAe(), d, null, cfg, TrainingListener.NONE));
        String m = e.getMessage();
        // Row 37 is in the third batch of 16 (unshuffled order would be step 2; shuffled it is some step).
        assertTrue(m.contains("step " + e.step()) && m.contains("epoch 1"), m);
        assertTrue(m.matches("(?s).*forward pass of layer \\S+ \\(op [A-Z_]+\\): output \\(row \\d+, column \\d+\\) holds (Infinity|NaN).*"), m);
        assertTrue(m.contains("This batch was not applied"), m);
    }

    @Test
    void aPoisonedParameterIsNamedAsSuch() {
        Dataset d = withHugeRow().head(32);
        float[] x = d.x().clone();
        Dataset clean = new Dataset(java.util.Arrays.copyOf(x, 32 * 8), 32, 8, null, "clean");
        ModelSpec s = gaussianAe().withInputDim(8);
        org.latent4j.graph.Graph g = org.latent4j.graph.Graph.build(s).fuse();
        float[] params = Trainer.initialParams(g, 1);
        var ps = g.param("decoder.2.weight");
        params[ps.offset() + 5] = Float.NaN;
        var ex = new org.latent4j.runtime.Executor(org.latent4j.graph.Planner.training(g), org.latent4j.kernel.Parallelism.serial(), 8);
        ex.load(g.input, clean.x(), 0, 8);
        var where = ex.findNonFinite(params, new float[params.length], 8, 1, 0, 1f);
        assertEquals("parameter decoder.2.weight", where.tensor());
        assertEquals(5, where.index());
        params[ps.offset() + 5] = 0.1f;
        assertEquals(null, ex.findNonFinite(params, new float[params.length], 8, 1, 0, 1f), "a clean batch has none");
    }

    @Test
    void aNonFiniteInputIsNamedByItsRowInTheDataSet() {
        float[] x = new float[64 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37);
        }
        x[41 * 8 + 3] = Float.NaN;
        Dataset d = new Dataset(x, 64, 8, null, "synthetic with a NaN");
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(16);
        var e = assertThrows(TrainingFailedException.class, () -> Trainer.fit(gaussianAe(), d, null, cfg, TrainingListener.NONE));
        assertTrue(e.getMessage().contains("in row 41, column 3 of synthetic with a NaN (NaN)"), e.getMessage());
        var all = assertThrows(TrainingFailedException.class, () -> Trainer.fit(gaussianAe(), new Dataset(new float[] {Float.NaN, 1, 2, 3,
                4, 5, 6, 7}, 1, 8, null, "all bad"), null, cfg.withOnNonFinite(TrainingConfig.OnNonFinite.SKIP), TrainingListener.NONE));
        assertTrue(all.getMessage().contains("every batch of the epoch was skipped"), all.getMessage());
    }

    @Test
    void skippingCountsTheBadBatchesAndTrainsOnTheRest() {
        Dataset d = withHugeRow();
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(2).withBatchSize(16).withOptimizer(OptimizerSpec.sgd(0.01f))
                .withOnNonFinite(TrainingConfig.OnNonFinite.SKIP);
        Trainer.Result r = Trainer.fit(gaussianAe(), d, null, cfg, TrainingListener.NONE);
        for (EpochStats s : r.history()) {
            assertEquals(1, s.skippedBatches(), "one batch per epoch holds the huge row");
            assertTrue(Double.isFinite(s.trainNegElbo()), "the mean leaves the skipped batch out");
        }
        for (float w : r.model().parameters()) {
            assertTrue(Float.isFinite(w));
        }
    }

    @Test
    void aDivergingRunIsStoppedWithTheFirstNonFiniteNamed() {
        // A huge learning rate: SGD sends the weights far out until some product overflows.
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(200).withBatchSize(16).withOptimizer(OptimizerSpec.sgd(9f))
                .withShuffle(false);
        float[] x = new float[64 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i * 0.11) * 10;
        }
        Dataset d = new Dataset(x, 64, 8, null, "synthetic");
        var e = assertThrows(TrainingFailedException.class, () -> Trainer.fit(gaussianAe(), d, null, cfg, TrainingListener.NONE));
        assertTrue(e.getMessage().contains("first NaN or infinity appears"), e.getMessage());
    }

    @Test
    void resumingFromAnEpochOrAStepCheckpointGivesBitwiseTheUninterruptedWeights(@TempDir Path dir) throws IOException {
        ModelSpec vae = TrainerTest.smallVae();
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(3).withBatchSize(64);
        Trainer.Result whole = Trainer.fit(vae, TRAIN, TEST, cfg, TrainingListener.NONE);

        // Stopped after epoch 2 (checkpoint every epoch), resumed to 3 on 2 threads.
        Path ck = dir.resolve("run.ckpt.safetensors");
        Trainer.fit(vae, TRAIN, TEST, cfg.withEpochs(2), TrainingListener.NONE, CheckpointPolicy.everyEpoch(ck));
        Trainer.Result resumed = Trainer.resume(ck, TRAIN, TEST, cfg.withThreads(2), TrainingListener.NONE, null);
        assertArrayEquals(whole.model().parameters(), resumed.model().parameters());
        assertSameHistory(whole.history(), resumed.history());

        // Crashed in the middle of epoch 2 (a listener throws after its 3rd batch, step 8; checkpoints every 2 steps).
        Path mid = dir.resolve("mid.safetensors");
        TrainingListener crash = new TrainingListener() {
            @Override
            public void onBatch(int epoch, long done, long total, double loss) {
                if (epoch == 2 && done == 3 * 64) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        };
        assertThrows(IllegalStateException.class,
                () -> Trainer.fit(vae, TRAIN, TEST, cfg, crash, new CheckpointPolicy(mid, 1, 2)));
        Checkpoint c = Checkpoint.read(mid);
        assertEquals(2, c.progress().epoch());
        assertEquals(3 * 64, c.progress().position(), "the step checkpoint saved just before the crash");
        Trainer.Result fromMid = Trainer.resume(mid, TRAIN, TEST, cfg.withThreads(3), TrainingListener.NONE, null);
        assertArrayEquals(whole.model().parameters(), fromMid.model().parameters());
        assertSameHistory(whole.history(), fromMid.history());

        // A checkpoint is also a model file.
        assertTrue(Models.load(ck) instanceof Autoencoder a && a.latentDim() == 8);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(), "no temporary files left");
        }
    }

    @Test
    void checkpointsEveryTwoEpochsAndResumeFromThere(@TempDir Path dir) throws IOException {
        // 5 epochs, a checkpoint every 2 (and at the end): after each epoch, the epoch the file would resume at
        Path ck = dir.resolve("c.safetensors"), afterTwo = dir.resolve("after-two.safetensors");
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(5).withBatchSize(64).withThreads(2);
        Dataset train = TrainerTest.TRAIN.head(640);
        List<Integer> seen = new java.util.ArrayList<>();
        TrainingListener watch = new TrainingListener() {
            @Override
            public void onEpoch(EpochStats stats) {
                try {
                    seen.add(Files.exists(ck) ? Checkpoint.read(ck).progress().epoch() : -1);
                    if (stats.epoch() == 3) {
                        Files.copy(ck, afterTwo);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        float[] whole = Trainer.fit(TrainerTest.smallVae(), train, null, cfg, watch, new CheckpointPolicy(ck, 2, 0)).model().parameters();
        assertEquals(List.of(-1, 3, 3, 5, 6), seen, "written after epochs 2, 4 and the last (5)");
        float[] resumed = Trainer.resume(afterTwo, train, null, cfg, TrainingListener.NONE, null).model().parameters();
        assertArrayEquals(whole, resumed, "epochs 3 to 5 from the epoch-2 checkpoint = the run without a stop");
    }

    @Test
    void resumeRefusesAnotherRecipeOrOtherData(@TempDir Path dir) throws IOException {
        Path ck = dir.resolve("c.safetensors");
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(64);
        Trainer.fit(TrainerTest.smallVae(), TRAIN, null, cfg, TrainingListener.NONE, CheckpointPolicy.everyEpoch(ck));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(ck, TRAIN, null, cfg.withEpochs(2).withSeed(7), TrainingListener.NONE, null));
        assertTrue(e.getMessage().contains("another training recipe (seed: 42 there, 7 here)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(ck, TRAIN, null, cfg.withEpochs(2).withOptimizer(OptimizerSpec.adam(0.01f)),
                        TrainingListener.NONE, null));
        assertTrue(e.getMessage().contains("learningRate: 0.001 there, 0.01 here"), e.getMessage());
        // The non-finite policy may change on resume (a run stopped by a NaN may go on skipping).
        Trainer.resume(ck, TRAIN, null, cfg.withEpochs(2).withOnNonFinite(TrainingConfig.OnNonFinite.SKIP), TrainingListener.NONE, null);
        Trainer.fit(TrainerTest.smallVae(), TRAIN, null, cfg.withEpochs(2), TrainingListener.NONE, CheckpointPolicy.everyEpoch(ck));
        var past = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(ck, TRAIN, null, cfg, TrainingListener.NONE, null));
        assertTrue(past.getMessage().contains("already 2 epochs into the run; resume with at least 2 epochs, not 1"), past.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(ck, TrainerTest.TRAIN.head(299), null, cfg.withEpochs(2), TrainingListener.NONE, null));
        assertTrue(e.getMessage().contains("other training data"), e.getMessage());
        Path model = dir.resolve("m.safetensors");
        Trainer.fit(TrainerTest.smallVae(), TRAIN, null, cfg, TrainingListener.NONE).model().save(model);
        var io = assertThrows(IOException.class, () -> Trainer.resume(model, TRAIN, null, cfg, TrainingListener.NONE, null));
        assertTrue(io.getMessage().contains("not a training checkpoint"), io.getMessage());
    }

    static void assertSameHistory(List<EpochStats> a, List<EpochStats> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).trainNegElbo(), b.get(i).trainNegElbo(), 0.0, "epoch " + (i + 1) + "\n" + a + "\n" + b);
            assertEquals(a.get(i).trainKl(), b.get(i).trainKl(), 0.0);
            assertEquals(a.get(i).validationNegElbo(), b.get(i).validationNegElbo(), 0.0);
        }
    }
}
