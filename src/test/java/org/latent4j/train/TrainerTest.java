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

class TrainerTest {
    static final Dataset TRAIN = FashionMnist.bundledTrain().head(600);
    static final Dataset TEST = FashionMnist.bundledTest().head(200);

    static ModelSpec smallVae() {
        return Model.encoder().dense(64).relu().gaussianLatent(8).decoder().dense(64).relu().dense(784).bernoulli();
    }

    @Test
    void aSmallVaeLearnsOnTheBundledSlice() {
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(3).withBatchSize(50);
        Trainer.Result r = Trainer.fit(smallVae(), TRAIN, TEST, cfg, TrainingListener.NONE);
        List<EpochStats> h = r.history();
        assertEquals(3, h.size());
        assertTrue(h.get(2).trainNegElbo() < h.get(0).trainNegElbo() - 20,
                "training loss should fall: " + h.get(0).trainNegElbo() + " -> " + h.get(2).trainNegElbo());
        assertTrue(h.get(2).validationNegElbo() < h.get(0).validationNegElbo(), "validation loss should fall too");
        for (EpochStats s : h) {
            assertEquals(s.trainReconstruction() + s.trainKl(), s.trainNegElbo(), 1e-9);
            assertTrue(s.trainKl() > 0, "a VAE's KL is positive");
        }
        // Untrained, a Bernoulli decoder over 784 pixels costs about 784 ln 2 = 543 nats.
        assertTrue(h.get(2).validationNegElbo() < 400, "validation -ELBO " + h.get(2).validationNegElbo());
    }

    @Test
    void sameSeedSameWeightsBitwiseForOneTwoAndThreeThreads() {
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(64);
        Dataset small = TRAIN.head(300);
        float[] w1 = Trainer.fit(smallVae(), small, null, cfg.withThreads(1), TrainingListener.NONE).model().parameters();
        float[] w2 = Trainer.fit(smallVae(), small, null, cfg.withThreads(2), TrainingListener.NONE).model().parameters();
        float[] w3 = Trainer.fit(smallVae(), small, null, cfg.withThreads(3), TrainingListener.NONE).model().parameters();
        assertArrayEquals(w1, w2);
        assertArrayEquals(w1, w3);
        float[] other = Trainer.fit(smallVae(), small, null, cfg.withSeed(7), TrainingListener.NONE).model().parameters();
        assertTrue(!java.util.Arrays.equals(w1, other), "another seed gives other weights");
    }

    @Test
    void everyOptimizerLowersTheLossOfAPlainAutoencoder() {
        ModelSpec ae = Model.encoder().dense(32).tanh().latent(8).decoder().dense(32).tanh().dense(784).bernoulli();
        for (OptimizerSpec o : new OptimizerSpec[] {OptimizerSpec.sgd(0.01f), OptimizerSpec.sgd(0.002f, 0.9f, true),
                OptimizerSpec.adam(2e-3f), OptimizerSpec.adamW(2e-3f, 0.01f), OptimizerSpec.rmsprop(1e-3f)}) {
            TrainingConfig cfg = TrainingConfig.defaults().withEpochs(3).withBatchSize(50).withOptimizer(o).withClipNorm(50f);
            List<EpochStats> h = Trainer.fit(ae, TRAIN.head(300), null, cfg, TrainingListener.NONE).history();
            assertTrue(h.get(2).trainReconstruction() < h.get(0).trainReconstruction(),
                    o.kind() + ": " + h.get(0).trainReconstruction() + " -> " + h.get(2).trainReconstruction());
            assertEquals(0.0, h.get(0).trainKl());
        }
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.defaults().withBatchSize(0));
        assertThrows(IllegalArgumentException.class, () -> OptimizerSpec.adam(-1f));
        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.fit(
                Model.encoder(100).dense(8).relu().latent(2).decoder().dense(100).bernoulli(),
                TRAIN, null, TrainingConfig.defaults().withEpochs(1), TrainingListener.NONE));
        assertTrue(e.getMessage().contains("takes 100 input features but the data has 784"), e.getMessage());
    }

    @Test
    void weightInitFollowsTheActivationUnlessOverridden() {
        var g = org.latent4j.graph.Graph.build(Model.encoder(400).dense(300).relu().dense(200).tanh().latent(8)
                .decoder().dense(400).gaussian()).fuse();
        var w0 = g.param("encoder.0.weight");   // before relu: He, sd sqrt(2/400) = 0.0707
        var w2 = g.param("encoder.2.weight");   // before tanh: Xavier, sd sqrt(2/500) = 0.0632
        float[] p = Trainer.initialParams(g, 3);
        assertEquals(Math.sqrt(2.0 / 400), sd(p, w0.offset(), w0.size()), 0.002);
        assertEquals(Math.sqrt(2.0 / 500), sd(p, w2.offset(), w2.size()), 0.002);
        float[] he = Trainer.initialParams(g, 3, TrainingConfig.WeightInit.HE);
        assertEquals(Math.sqrt(2.0 / 300), sd(he, w2.offset(), w2.size()), 0.002);
        var b = g.param("encoder.0.bias");
        for (int i = b.offset(); i < b.offset() + b.size(); i++) {
            assertEquals(0f, he[i]);
        }
    }

    static double sd(float[] p, int off, int n) {
        double s = 0;
        for (int i = off; i < off + n; i++) {
            s += p[i] * (double) p[i];
        }
        return Math.sqrt(s / n);
    }

    @Test
    void clippingCapsTheGlobalNorm() {
        float[] g = {3, 4, 0, 0, 12};
        double before = Optimizer.clipByNorm(g, 6.5f);
        assertEquals(13.0, before, 1e-9);
        double after = Math.sqrt(g[0] * g[0] + g[1] * g[1] + g[4] * g[4]);
        assertEquals(6.5, after, 1e-5);
    }

    @Test
    void resetMomentsZeroesExactlyItsRangeAndRefusesOneOutsideTheTrainedParameters() {
        float[] p = new float[8];
        float[] g = {1f, -2f, 3f, -4f, 5f, -6f, 7f, -8f};
        Optimizer o = new Optimizer(OptimizerSpec.adam(0.01f), 6);   // the last two elements are state, not trained
        o.step(p, g, 0.01f);
        o.resetMoments(2, 3);
        for (int i = 0; i < 6; i++) {
            boolean reset = i >= 2 && i < 5;
            assertEquals(reset, o.firstMoment()[i] == 0f, "first moment " + i);
            assertEquals(reset, o.secondMoment()[i] == 0f, "second moment " + i);
        }
        assertEquals(1, o.steps(), "the step count is left alone");
        o.resetMoments(6, 0);
        assertThrows(IllegalArgumentException.class, () -> o.resetMoments(4, 3));
        assertThrows(IllegalArgumentException.class, () -> o.resetMoments(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> o.resetMoments(Integer.MAX_VALUE, 2));
    }

    @Test
    void adamMatchesItsScalarDefinition() {
        float[] p = {0.5f, -1f, 2f, 0f, 0.25f, 3f, -2f, 1f, 0.1f};
        float[] q = p.clone();
        Optimizer o = new Optimizer(OptimizerSpec.adam(0.01f), p.length);
        double[] m = new double[p.length], v = new double[p.length];
        for (int t = 1; t <= 5; t++) {
            float[] g = new float[p.length];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) Math.sin(i + t);
            }
            o.step(p, g, 0.01f);
            for (int i = 0; i < q.length; i++) {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                double mh = m[i] / (1 - Math.pow(0.9, t)), vh = v[i] / (1 - Math.pow(0.999, t));
                q[i] -= (float) (0.01 * mh / (Math.sqrt(vh) + 1e-8));
            }
        }
        for (int i = 0; i < p.length; i++) {
            assertEquals(q[i], p[i], 1e-5, "parameter " + i);
        }
    }

    @Test
    void adamsBiasCorrectionTableIsPowAtEveryStepAndOneOnceSaturated() {
        for (float beta : new float[] {0.9f, 0.99f, 0.999f, 0.95f, 0f}) {
            float[] c = Optimizer.biasCorrections(beta);
            assertTrue(c.length < Optimizer.MAX_CORRECTIONS, "beta " + beta + " saturates inside the table");
            for (int t = 1; t <= c.length + 5000; t++) {
                float pow = (float) (1 - StrictMath.pow(beta, t));
                float table = t <= c.length ? c[t - 1] : 1f;
                assertEquals(Float.floatToRawIntBits(pow), Float.floatToRawIntBits(table), "beta " + beta + ", step " + t);
            }
        }
        assertEquals(0, Optimizer.biasCorrections(0f).length, "beta 0 corrects nothing");
        assertTrue(Optimizer.biasCorrections(0.999f).length > 10_000, "0.999^t stays above 2^-25 for about 17,000 steps");
    }

    @Test
    void pytorchInitIsUniformInOneOverSqrtFanInForWeightsAndTheirBiases() {
        var spec = org.latent4j.dsl.Model.encoder(1, 12, 12).conv2d(6, 4, 2, 1).batchNorm().relu().flatten().latent(5)
                .decoder().dense(6 * 6 * 6).relu().reshape(6, 6, 6).convTranspose2d(1, 4, 2, 1).bernoulli();
        org.latent4j.graph.Graph g = org.latent4j.graph.Graph.build(spec).fuse();
        float[] p = Trainer.initialParams(g, 9, TrainingConfig.WeightInit.PYTORCH);
        // fan_in as PyTorch counts it: Conv2d(1, 6, 4) 1*16; Linear(216, 5) 216; Linear(5, 216) 5; ConvTranspose2d(6, 1, 4) 1*16
        java.util.Map<String, Integer> fanIn = java.util.Map.of("encoder.0", 16, "latent", 216, "decoder.0", 5, "decoder.3", 16);
        for (var e : fanIn.entrySet()) {
            for (String t : new String[] {".weight", ".bias"}) {
                org.latent4j.graph.ParamSpec ps = g.param(e.getKey() + t);
                double bound = 1 / Math.sqrt(e.getValue()), sq = 0;
                for (int i = ps.offset(); i < ps.offset() + ps.size(); i++) {
                    assertTrue(Math.abs(p[i]) <= bound && p[i] != 0f, ps.name() + "[" + (i - ps.offset()) + "] = " + p[i] + " outside +-" + bound);
                    sq += p[i] * (double) p[i];
                }
                if (ps.size() >= 200) {   // the variance of U(-b, b) is b^2 / 3
                    assertEquals(bound * bound / 3, sq / ps.size(), 0.15 * bound * bound / 3, ps.name());
                }
            }
        }
        org.latent4j.graph.ParamSpec gamma = g.param("encoder.1.weight"), beta = g.param("encoder.1.bias");
        for (int i = 0; i < gamma.size(); i++) {
            assertEquals(1f, p[gamma.offset() + i], "batch norm's scale starts at 1");
            assertEquals(0f, p[beta.offset() + i], "batch norm's shift starts at 0");
        }
    }
}
