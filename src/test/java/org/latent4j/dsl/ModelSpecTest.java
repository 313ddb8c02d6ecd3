package org.latent4j.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.latent4j.graph.Graph;

class ModelSpecTest {
    static final ModelSpec W1 = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
            .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();

    @Test
    void summaryCountsTheParametersTheGraphAllocates() {
        String s = W1.summary();
        assertTrue(s.contains("total: 1,091,920 parameters, 4,367,680 bytes"), s);
        assertEquals(1_091_920, Graph.build(W1).paramCount());
        ModelSpec learned = Model.encoder(10).dense(6).tanh().latent(3).decoder().dense(10).gaussianLearnedVariance();
        String t = learned.summary();
        int params = Graph.build(learned).paramCount();
        assertTrue(t.contains("total: " + String.format(java.util.Locale.ROOT, "%,d", params) + " parameters"), t + " vs " + params);
    }

    @Test
    void jsonRoundTripsEveryKindOfSpec() {
        ModelSpec[] specs = {W1,
            Model.encoder().dense(8).leakyRelu(0.2f).dense(4).elu(0.5f).latent(2).decoder().dense(8).softplus().dense(5).gaussian(0.25f),
            Model.encoder(3).dense(2).sigmoid().gaussianLatent(1).decoder().dense(3).gaussianLearnedVariance(),
            Model.encoder(9).conditionedOn(4).gaussianNoise(0.5f).maskingNoise(0.1f).saltAndPepper(0.2f).dense(6).sigmoid()
                    .sparsity(0.05f, 3f).activityL1(1e-3f).dropout(0.3f).gaussianLatent(2).clampLogVariance(-8f, 6f)
                    .decoder().dense(9).gaussianLearnedGlobalVariance(),
            Model.encoder(5).latent(3).tanh().contractive(0.1f).decoder().dense(5).huber(0.5f),
            Model.encoder(5).latent(3).sigmoid().decoder().dense(5).bernoulli()};
        for (ModelSpec s : specs) {
            assertEquals(s, ModelSpec.fromJson(s.toJson()), s.toJson());
        }
    }

    /** One instance of every layer record: the test fails when a new kind is added without an example here. */
    static final java.util.List<LayerSpec> EVERY_LAYER = java.util.List.of(new LayerSpec.Dense(7),
            new LayerSpec.ActivationLayer(org.latent4j.kernel.Activation.LEAKY_RELU, 0.2f), new LayerSpec.GaussianNoise(0.3f),
            new LayerSpec.MaskingNoise(0.4f), new LayerSpec.SaltAndPepper(0.1f), new LayerSpec.Dropout(0.25f),
            new LayerSpec.Sparsity(0.05f, 3f), new LayerSpec.ActivityL1(1e-3f), new LayerSpec.BatchNorm(0.2f, 1e-4f),
            new LayerSpec.Conv2d(3, 3, 2, 1), new LayerSpec.ConvTranspose2d(3, 4, 2, 1), new LayerSpec.Upsample(2), new LayerSpec.MaxPool(2, 2),
            new LayerSpec.AvgPool(3, 1), new LayerSpec.Flatten(), new LayerSpec.Reshape(2, 6, 6), new LayerSpec.ResidualBlock());

    /** The layers that take an image. */
    static boolean spatial(LayerSpec l) {
        return l instanceof LayerSpec.Conv2d || l instanceof LayerSpec.ConvTranspose2d || l instanceof LayerSpec.Upsample
                || l instanceof LayerSpec.MaxPool || l instanceof LayerSpec.AvgPool || l instanceof LayerSpec.ResidualBlock;
    }

    @Test
    void everyLayerKindHasItsJsonFormDescriptionAndParameterCount() {
        java.util.Set<Class<?>> covered = new java.util.HashSet<>();
        for (LayerSpec l : EVERY_LAYER) {
            covered.add(l.getClass());
            String at = "encoder[0]";
            LayerSpec back = LayerSpec.fromJson(l.toJson(), at, new LayerSpec.Numbers() {
                @Override
                public int integer(Object v, String where) {
                    return ((Number) v).intValue();
                }

                @Override
                public float real(Object v, String where) {
                    return ((Number) v).floatValue();
                }
            });
            assertEquals(l, back, l.describe());
            assertTrue(l.describe().startsWith(LayerSpec.JSON_KINDS.stream().filter(k -> l.toJson().containsKey(k)).findFirst().orElseThrow()
                    .replace("activation", "leaky_relu").replace("_pool", "_pool(").replace("conv2d", "conv2d(")), l.describe());
            // Trained parameters as the graph allocates them: a model with just this layer (then flatten) in the encoder.
            org.latent4j.kernel.Shape in = spatial(l) ? org.latent4j.kernel.Shape.image(2, 6, 6) : org.latent4j.kernel.Shape.features(72);
            ModelSpec alone = new ModelSpec(72, java.util.List.of(l, new LayerSpec.Flatten()), LatentSpec.deterministic(2),
                    java.util.List.of(new LayerSpec.Dense(72)), new LikelihoodSpec.GaussianFixed(1f), 0, in);
            int w = l.outputShape(in).size();
            long expected = l.trainedParameters(in) + (long) w * 2 + 2 + 2 * 72 + 72;
            assertEquals(expected, Graph.build(alone).trainableCount(), l.describe());
            assertTrue(alone.summary().contains(String.format(java.util.Locale.ROOT, "total: %,d parameters", expected)), alone.summary());
        }
        assertEquals(java.util.Set.of(LayerSpec.class.getPermittedSubclasses()), covered, "every layer record needs an example in EVERY_LAYER");
    }

    @Test
    void newLayersAreCheckedWhereTheyAreWritten() {
        var e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).dense(4).relu().sparsity(0.05f, 1f));
        assertTrue(e.getMessage().contains("put it right after a sigmoid()"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).dropout(1f));
        assertTrue(e.getMessage().contains("dropout(1.0): the probability must be in (0, 1)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).gaussianLatent(2).tanh());
        assertTrue(e.getMessage().contains("a Gaussian latent takes no activation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).latent(2).clampLogVariance(-1, 1));
        assertTrue(e.getMessage().contains("no log-variance to clamp"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).gaussianLatent(2).clampLogVariance(3, 1));
        assertTrue(e.getMessage().contains("need min < max"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).dense(3).conditionedOn(2));
        assertTrue(e.getMessage().contains("before any layer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(5).latent(2).decoder().dense(5).dropout(0.1f).bernoulli());
        assertTrue(e.getMessage().contains("cannot end with dropout(0.1)"), e.getMessage());
        String json = Model.encoder(5).dropout(0.2f).latent(2).decoder().dense(5).bernoulli().toJson();
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(json.replace("\"dropout\":0.2", "\"dropout\":2")));
        assertTrue(e.getMessage().contains("encoder[0]") && e.getMessage().contains("probability"), e.getMessage());
    }

    @Test
    void badSpecsNameWhatIsWrong() {
        String json = W1.toJson();
        var e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(json.replace("{\"dense\":256}", "{\"conv\":3}")));
        assertTrue(e.getMessage().contains("encoder[2]") && e.getMessage().contains("unknown layer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(json.replace("\"relu\"", "\"swish\"")));
        assertTrue(e.getMessage().contains("unknown encoder[1].activation \"swish\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(json.substring(0, json.length() - 3)));
        assertTrue(e.getMessage().contains("malformed JSON at character"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(json.replace("\"dim\":32", "\"dim\":-4")));
        assertTrue(e.getMessage().contains("latent.dim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(json.replace("latent4j-model", "keras")));
        assertTrue(e.getMessage().contains("\"format\" must be \"latent4j-model\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson("[".repeat(100) + "]".repeat(100)));
        assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
    }

    @Test
    void theBuilderRefusesModelsThatCannotWork() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Model.encoder(4).dense(3).gaussianLatent(2).decoder().dense(4).sigmoid().bernoulli());
        assertTrue(e.getMessage().contains("bernoulli() takes logits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(4).latent(2).decoder().relu().gaussian());
        assertTrue(e.getMessage().contains("at least one dense layer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.encoder(4).dense(0));
        assertTrue(e.getMessage().contains("dense(0)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Model.encoder(0));
        assertThrows(IllegalArgumentException.class, () -> Model.encoder(4).leakyRelu(2f));
        // Stages are immutable: a shared prefix can be extended twice.
        EncoderStage base = Model.encoder(8).dense(4).relu();
        ModelSpec a = base.latent(2).decoder().dense(8).gaussian();
        ModelSpec b = base.dense(3).latent(2).decoder().dense(8).gaussian();
        assertEquals(2, a.encoder().size());
        assertEquals(3, b.encoder().size());
    }
}
