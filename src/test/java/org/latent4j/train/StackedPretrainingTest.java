package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.kernel.Parallelism;

/** Stacked autoencoders: the stages a deep model splits into, their weights in the model, and what pretraining buys. */
class StackedPretrainingTest {
    static final ModelSpec DEEP = Model.encoder(784).dense(128).sigmoid().dense(32).sigmoid().latent(8)
            .decoder().dense(32).sigmoid().dense(128).sigmoid().dense(784).bernoulli();

    static TrainingConfig config(int epochs) {
        return TrainingConfig.defaults().withEpochs(epochs).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    }

    @Test
    void aMirroredModelSplitsIntoOneStagePerLayerAndTheCode() {
        List<StackedPretraining.Stage> s = StackedPretraining.stages(DEEP, 784);
        assertEquals(3, s.size());
        assertEquals(Model.encoder(784).latent(128).decoder().sigmoid().dense(784).bernoulli(), s.get(0).spec());
        assertEquals(Model.encoder(128).latent(32).decoder().sigmoid().dense(128).sigmoid().gaussian(1f), s.get(1).spec());
        assertEquals(Model.encoder(32).latent(8).decoder().dense(32).sigmoid().gaussian(1f), s.get(2).spec());
        assertEquals("encoder.2-3 with decoder.2-3 (128 -> 32 -> 128)", s.get(1).description());
        // Input noise stays with the first stage; batch normalization and dropout go with their block.
        ModelSpec noisy = Model.encoder(784).maskingNoise(0.3f).dense(64).batchNorm().relu().dropout(0.1f).gaussianLatent(4)
                .decoder().dense(64).relu().dense(784).bernoulli();
        s = StackedPretraining.stages(noisy, 784);
        assertEquals(Model.encoder(784).maskingNoise(0.3f).latent(64).decoder().batchNorm().relu().dropout(0.1f).dense(784).bernoulli(),
                s.get(0).spec());
        assertEquals(Model.encoder(64).gaussianLatent(4).decoder().dense(64).relu().gaussian(1f), s.get(1).spec());
    }

    @Test
    void modelsThatDoNotStackAreRefusedInOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StackedPretraining.stages(
                Model.encoder(784).dense(128).relu().latent(8).decoder().dense(64).relu().dense(784).bernoulli(), 784));
        assertEquals("layer-wise pretraining pairs each encoder layer with its mirror: an encoder of dense widths [128] needs a decoder"
                + " of dense widths [128, 784], not [64, 784]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StackedPretraining.stages(
                Model.encoder(784).latent(8).decoder().dense(784).bernoulli(), 784));
        assertTrue(e.getMessage().contains("needs hidden layers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StackedPretraining.stages(
                Model.encoder(784).conditionedOn(10).dense(32).relu().latent(8).decoder().dense(32).relu().dense(784).bernoulli(), 784));
        assertTrue(e.getMessage().contains("conditional"), e.getMessage());
    }

    /** Mean -ELBO (here the reconstruction loss) of the model's arena on the data. */
    static double loss(ModelSpec spec, float[] params, Dataset data) {
        Graph g = Graph.build(spec.withInputDim(data.features())).fuse();
        try (Parallelism par = Parallelism.of(2)) {
            return Trainer.evaluate(g, params, data, 250, 1, par)[0];
        }
    }

    @Test
    void pretrainedWeightsLandUnderTheModelsNamesAndFineTuningStartsFromThem() {
        Dataset train = FashionMnist.bundledTrain(), test = FashionMnist.bundledTest();
        TrainingConfig pre = config(2);
        StackedPretraining.Pretrained p = StackedPretraining.pretrain(DEEP, train, pre, TrainingListener.NONE);
        Graph g = Graph.build(DEEP).fuse();

        // Stage 1 trained on its own (same spec, data and seed) gives bitwise the tensors the model holds.
        ModelSpec first = StackedPretraining.stages(DEEP, 784).get(0).spec();
        float[] own = Trainer.fit(first, train, null, pre.withSeed(pre.seed() + 1), TrainingListener.NONE).model().parameters();
        Graph fg = Graph.build(first).fuse();
        assertArrayEquals(slice(own, fg.param("latent.weight")), slice(p.params(), g.param("encoder.0.weight")));
        assertArrayEquals(slice(own, fg.param("decoder.1.bias")), slice(p.params(), g.param("decoder.4.bias")));

        // The top stage trains on the outputs of the first two pretrained blocks: computed here in double from the
        // model's arena, its own training lands (to float rounding) on the tensors the model holds.
        int d = train.features();
        float[] h2 = new float[train.rows() * 32];
        for (int r = 0; r < train.rows(); r++) {
            double[] x = new double[d];
            for (int j = 0; j < d; j++) {
                x[j] = train.x()[r * d + j];
            }
            double[] a = sigmoid(dense(p.params(), g, "encoder.0", x)), b = sigmoid(dense(p.params(), g, "encoder.2", a));
            for (int j = 0; j < 32; j++) {
                h2[r * 32 + j] = (float) b[j];
            }
        }
        ModelSpec top = StackedPretraining.stages(DEEP, 784).get(2).spec();
        float[] topOwn = Trainer.fit(top, new Dataset(h2, train.rows(), 32, null, "h2"), null, pre.withSeed(pre.seed() + 3),
                TrainingListener.NONE).model().parameters();
        Graph tg = Graph.build(top).fuse();
        float[] want = slice(topOwn, tg.param("latent.weight")), got = slice(p.params(), g.param("latent.weight"));
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        System.out.println("stacked: top stage weights from double features differ by at most " + worst);
        assertTrue(worst < 1e-5, "top stage weights differ by " + worst);

        // Every stage learned: its loss fell from its first epoch to its last.
        for (StackedPretraining.Stage s : p.stages()) {
            assertEquals(2, s.history().size());
            assertTrue(s.history().get(1).trainNegElbo() < s.history().get(0).trainNegElbo(), s.description());
        }
        double random = loss(DEEP, Trainer.initialParams(g, pre.seed()), test);
        double pretrained = loss(DEEP, p.params(), test);
        Trainer.Result tuned = Trainer.fit(DEEP, train, test, config(2), TrainingListener.NONE, null, null, p.params());
        double fineTuned = loss(DEEP, tuned.model().parameters(), test);
        double scratch = loss(DEEP, Trainer.fit(DEEP, train, test, config(2), TrainingListener.NONE).model().parameters(), test);
        System.out.printf("stacked: test reconstruction loss random %.2f, pretrained %.2f, fine-tuned %.2f, from scratch %.2f%n",
                random, pretrained, fineTuned, scratch);
        assertTrue(pretrained < random - 100, "pretraining alone makes a working autoencoder");
        assertTrue(fineTuned < pretrained, "fine-tuning improves on the stacked weights");
        assertTrue(fineTuned < scratch, "after the same end-to-end epochs, the pretrained model is ahead");
    }

    static double[] dense(float[] p, Graph g, String layer, double[] x) {
        return BatchNormTest.dense(p, g, layer, x);
    }

    static double[] sigmoid(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = 1 / (1 + Math.exp(-x[i]));
        }
        return y;
    }

    static float[] slice(float[] a, ParamSpec p) {
        return Arrays.copyOfRange(a, p.offset(), p.offset() + p.size());
    }
}
