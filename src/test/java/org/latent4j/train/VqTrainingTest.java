package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.io.SafeTensors;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Models;

/**
 * A convolutional VQ-VAE trains deterministically: bitwise the same codebook and moving averages
 * for 1 and 2 threads, a checkpoint resumes bitwise, the model file holds the quantizer's tensors
 * under their PyTorch-style names, and each epoch reports the codebook's health.
 */
class VqTrainingTest {
    static final ModelSpec SPEC = Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(16, 4, 2, 1).relu()
            .vectorQuantized(32, 4).decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();

    static TrainingConfig config(int epochs) {
        return TrainingConfig.defaults().withEpochs(epochs).withBatchSize(50).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    }

    @Test
    void sameBitsForAnyThreadCountAndAResumedCheckpoint(@TempDir Path dir) throws Exception {
        Dataset data = FashionMnist.bundledTrain().head(300);
        List<QuantizerHealth> health = new ArrayList<>();
        TrainingListener listen = new TrainingListener() {
            @Override
            public void onQuantizerHealth(QuantizerHealth h) {
                health.add(h);
            }
        };
        float[] two = Trainer.fit(SPEC, data, null, config(2), listen).model().parameters();
        float[] one = Trainer.fit(SPEC, data, null, config(2).withThreads(1), TrainingListener.NONE).model().parameters();
        assertArrayEquals(two, one, "1 and 2 threads give the same bits (codebook and moving averages included)");
        Path ck = dir.resolve("vq.ckpt.safetensors");
        Trainer.fit(SPEC, data, null, config(1), TrainingListener.NONE, CheckpointPolicy.everyEpoch(ck));
        Autoencoder resumed = Trainer.resume(ck, data, null, config(2).withThreads(1), TrainingListener.NONE, null).model();
        assertArrayEquals(two, resumed.parameters(), "a resumed run gives the uninterrupted run's bits");
        Graph g = resumed.graph();
        float[] p = resumed.parameters();
        double size = 0;
        for (int k = 0; k < 32; k++) {
            size += p[g.param("quantizer.cluster_size").offset() + k];
        }
        assertTrue(size > 0, "the moving averages moved");
        // health: two epochs, counts over the positions of the measured rows
        assertEquals(2, health.size());
        QuantizerHealth h = health.get(1);
        assertEquals(300L * 49, java.util.Arrays.stream(h.counts()).sum());
        assertTrue(h.perplexity() >= 1 && h.perplexity() <= h.used() + 1e-9, h.line());
        assertTrue(h.codebookLoss() > 0 && Math.abs(h.commitmentLoss() - 0.25 * h.codebookLoss()) < 1e-3 * h.codebookLoss(), h.line());
        // the file: PyTorch-style names and shapes, and the model loads back with the same bits
        Path f = dir.resolve("vq.safetensors");
        resumed.save(f);
        var tensors = SafeTensors.read(f).tensors();
        assertNotNull(tensors.get("quantizer.embedding.weight"));
        assertArrayEquals(new int[] {32, 4}, tensors.get("quantizer.embedding.weight").shape());
        assertArrayEquals(new int[] {32, 4}, tensors.get("quantizer.embed_avg").shape());
        assertArrayEquals(new int[] {32}, tensors.get("quantizer.cluster_size").shape());
        Autoencoder back = (Autoencoder) Models.load(f);
        assertArrayEquals(p, back.parameters());
        assertEquals(4 * 7 * 7, back.latentDim(), "the code grid: 4 channels x 7 x 7");
    }
}
