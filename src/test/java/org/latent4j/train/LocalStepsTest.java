package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;

/**
 * {@link Trainer#steps}: a run cut into pieces of local steps (some ending mid-epoch, one on an
 * epoch's end) gives bitwise the weights and optimizer moments of one unbroken {@link Trainer#fit}.
 */
class LocalStepsTest {
    static final Dataset DATA = FashionMnist.bundledTrain().head(100);
    static final ModelSpec VAE = Model.encoder(784).dense(24).relu().gaussianLatent(4).decoder().dense(24).relu().dense(784).bernoulli();

    @Test
    void piecesOfStepsGiveTheWeightsOfOneUnbrokenRun() {
        // 100 rows in batches of 32: 4 steps per epoch (the last of 4 rows); 3 epochs = 12 steps.
        TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(32).withEpochs(3).withSeed(5);
        float[] fitted = Trainer.fit(VAE, DATA, null, cfg, TrainingListener.NONE).model().parameters();

        ModelSpec s = VAE.withInputDim(784);
        Graph g = Graph.build(s).fuse();
        int[] sizes = Optimizer.stateSizes(cfg.optimizer(), g.trainableCount());
        Checkpoint state = new Checkpoint(s, Trainer.initialParams(g, cfg.seed(), cfg.weightInit()), 0, new float[sizes[0]],
                new float[sizes[1]], new Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0), List.of(), cfg.recipe(), "", null);
        long rows = 0;
        for (int k : new int[] {3, 1, 5, 3}) {   // ends at steps 3 (mid-epoch), 4 (an epoch's end), 9, 12
            Trainer.Steps r = Trainer.steps(state, DATA, cfg, k, null);
            assertEquals(k, r.steps());
            assertEquals(state.progress().step() + k, r.state().progress().step());
            assertEquals(state.optimizerSteps() + k, r.state().optimizerSteps());
            assertTrue(r.rows() > 0 && Double.isFinite(r.reconstructionSum()) && r.klSum() > 0);
            rows += r.rows();
            state = r.state();
        }
        assertEquals(300, rows, "each row once per epoch");
        assertEquals(4, state.progress().epoch(), "after 3 whole epochs the next step starts epoch 4");
        assertEquals(0, state.progress().position());
        assertArrayEquals(fitted, state.params());
        // Asked for more steps than the epochs hold: it stops at the end of the run.
        Trainer.Steps past = Trainer.steps(state, DATA, cfg, 5, null);
        assertEquals(0, past.steps());
        assertArrayEquals(fitted, past.state().params());
    }

    @Test
    void aMidEpochStateContinuesWhereItStood() {
        TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(32).withEpochs(1).withSeed(9);
        float[] fitted = Trainer.fit(VAE, DATA, null, cfg, TrainingListener.NONE).model().parameters();
        ModelSpec s = VAE.withInputDim(784);
        Graph g = Graph.build(s).fuse();
        int[] sizes = Optimizer.stateSizes(cfg.optimizer(), g.trainableCount());
        float[] init = Trainer.initialParams(g, cfg.seed(), cfg.weightInit());
        Checkpoint start = new Checkpoint(s, init, 0, new float[sizes[0]], new float[sizes[1]],
                new Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0), List.of(), cfg.recipe(), "", null);
        Trainer.Steps two = Trainer.steps(start, DATA, cfg, 2, null);
        assertEquals(64, two.state().progress().position());
        assertEquals(64, two.rows());
        assertArrayEquals(init, start.params(), "the given state is not changed");
        assertArrayEquals(fitted, Trainer.steps(two.state(), DATA, cfg, 2, null).state().params());
    }

    @Test
    void aStateOfAnotherShapeIsRefused() {
        TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(32);
        ModelSpec s = VAE.withInputDim(784);
        Checkpoint bad = new Checkpoint(s, new float[3], 0, new float[0], new float[0], new Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0),
                List.of(), cfg.recipe(), "", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.steps(bad, DATA, cfg, 1, null));
        assertTrue(e.getMessage().contains("the state holds 3 parameters"), e.getMessage());
    }
}
