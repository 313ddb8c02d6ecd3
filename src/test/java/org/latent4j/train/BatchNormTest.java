package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.io.SafeTensors;
import org.latent4j.model.Autoencoder;

/**
 * Batch normalization's two modes: training normalizes by the batch (gradients in
 * LayerGradientTest), keeps running averages of the batch statistics, and inference
 * normalizes by those, so a row's output does not depend on the rows beside it.
 */
class BatchNormTest {
    static final ModelSpec SPEC = Model.encoder(784).batchNorm(0.25f, 1e-5f).dense(64).batchNorm().relu().latent(8)
            .decoder().dense(64).batchNorm().relu().dense(784).bernoulli();

    static Dataset slice(int rows) {
        return FashionMnist.bundledTrain().head(rows);
    }

    static TrainingConfig config(int epochs, int batch) {
        return TrainingConfig.defaults().withEpochs(epochs).withBatchSize(batch).withShuffle(false)
                .withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    }

    @Test
    void runningStatisticsAreTheExponentialAverageOfTheBatchStatistics() {
        // The input layer's batch statistics are the data's own, whatever the weights do, so its
        // running mean and variance after training follow in double from the batches alone.
        int rows = 300, batch = 100, epochs = 2;
        Dataset data = slice(rows);
        Autoencoder m = Trainer.fit(SPEC, data, null, config(epochs, batch), TrainingListener.NONE).model();
        assertInputStatistics(m, data, batch, epochs, -1);
        Graph g = m.graph();
        float[] p = m.parameters();
        // The hidden layers' statistics moved too; the scale and shift were trained, and sit before the state.
        assertNotEquals(0f, p[g.param("encoder.2.running_mean").offset()]);
        assertTrue(g.param("encoder.2.weight").offset() < g.trainableCount()
                && g.param("encoder.0.running_mean").offset() >= g.trainableCount());
        assertEquals(g.paramCount() - g.trainableCount(), 2 * (784 + 64 + 64));
    }

    @Test
    void aSkippedBatchLeavesTheRunningStatisticsAsTheyWere() {
        Dataset clean = slice(300);
        float[] x = clean.x().clone();
        x[150 * 784 + 300] = Float.NaN;
        Dataset data = new Dataset(x, 300, 784, null, "slice with a NaN in row 150");
        TrainingConfig cfg = config(1, 100).withOnNonFinite(TrainingConfig.OnNonFinite.SKIP);
        Trainer.Result r = Trainer.fit(SPEC, data, null, cfg, TrainingListener.NONE);
        assertEquals(1, r.history().get(0).skippedBatches());
        assertInputStatistics(r.model(), data, 100, 1, 100);
    }

    /** The input layer's running statistics against their exponential average in double, leaving out the batch at {@code skipped}. */
    static void assertInputStatistics(Autoencoder m, Dataset data, int batch, int epochs, int skipped) {
        int d = data.features(), rows = data.rows();
        double[] mean = new double[d], var = new double[d];
        java.util.Arrays.fill(var, 1.0);
        double momentum = 0.25;
        for (int e = 0; e < epochs; e++) {
            for (int start = 0; start < rows; start += batch) {
                if (start == skipped) {
                    continue;
                }
                for (int j = 0; j < d; j++) {
                    double s = 0, ss = 0;
                    for (int r = start; r < start + batch; r++) {
                        s += data.x()[r * d + j];
                    }
                    double mu = s / batch;
                    for (int r = start; r < start + batch; r++) {
                        double x = data.x()[r * d + j] - mu;
                        ss += x * x;
                    }
                    mean[j] = (1 - momentum) * mean[j] + momentum * mu;
                    var[j] = (1 - momentum) * var[j] + momentum * ss / (batch - 1);
                }
            }
        }
        Graph g = m.graph();
        float[] p = m.parameters();
        ParamSpec rm = g.param("encoder.0.running_mean"), rv = g.param("encoder.0.running_var");
        for (int j = 0; j < d; j++) {
            assertEquals(mean[j], p[rm.offset() + j], 1e-5, "running mean of pixel " + j);
            assertEquals(var[j], p[rv.offset() + j], 1e-5, "running variance of pixel " + j);
        }
    }

    @Test
    void resumeFromACheckpointGivesBitwiseTheUninterruptedWeightsAndStatistics(@TempDir Path dir) throws Exception {
        Dataset data = slice(300);
        TrainingConfig cfg = config(2, 50).withShuffle(true);
        float[] whole = Trainer.fit(SPEC, data, null, cfg, TrainingListener.NONE).model().parameters();
        Path ck = dir.resolve("bn.ckpt.safetensors");
        Trainer.fit(SPEC, data, null, cfg.withEpochs(1), TrainingListener.NONE, CheckpointPolicy.everyEpoch(ck));
        assertArrayEquals(whole, Trainer.resume(ck, data, null, cfg.withThreads(1), TrainingListener.NONE, null).model().parameters());
    }

    @Test
    void inferenceUsesTheRunningStatisticsSoEachRowStandsAlone() {
        Dataset data = slice(200);
        Autoencoder m = Trainer.fit(SPEC, data, null, config(1, 50), TrainingListener.NONE).model();
        float[][] x = new float[10][];
        for (int i = 0; i < x.length; i++) {
            x[i] = data.row(i);
        }
        float[][] all = m.encode(x);
        for (int i = 0; i < x.length; i++) {
            assertArrayEquals(all[i], m.encode(new float[][] {x[i]})[0], "row " + i + " alone and in a batch");
        }
        // The code in inference mode, from the formula in double with the running statistics.
        Graph g = m.graph();
        float[] p = m.parameters();
        double[] h = x[3].length == 784 ? new double[784] : null;
        for (int j = 0; j < 784; j++) {
            h[j] = bn(p, g, "encoder.0", j, x[3][j], 1e-5);
        }
        double[] h2 = dense(p, g, "encoder.1", h);
        for (int j = 0; j < h2.length; j++) {
            h2[j] = Math.max(0, bn(p, g, "encoder.2", j, h2[j], 1e-5));
        }
        double[] code = dense(p, g, "latent", h2);
        for (int j = 0; j < code.length; j++) {
            assertEquals(code[j], all[3][j], 1e-4 * (1 + Math.abs(code[j])), "code " + j);
        }
    }

    static double bn(float[] p, Graph g, String layer, int j, double x, double eps) {
        double mean = p[g.param(layer + ".running_mean").offset() + j], var = p[g.param(layer + ".running_var").offset() + j];
        return p[g.param(layer + ".weight").offset() + j] * (x - mean) / Math.sqrt(var + eps) + p[g.param(layer + ".bias").offset() + j];
    }

    static double[] dense(float[] p, Graph g, String layer, double[] x) {
        ParamSpec w = g.param(layer + ".weight"), b = g.param(layer + ".bias");
        double[] y = new double[w.rows()];
        for (int o = 0; o < y.length; o++) {
            double s = p[b.offset() + o];
            for (int i = 0; i < x.length; i++) {
                s += (double) p[w.offset() + o * w.cols() + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    @Test
    void savedWithPyTorchNamesAndLoadedBack(@TempDir Path dir) throws Exception {
        Dataset data = slice(200);
        Autoencoder m = Trainer.fit(SPEC, data, null, config(1, 50), TrainingListener.NONE).model();
        Path f = dir.resolve("bn.safetensors");
        m.save(f, Map.of());
        SafeTensors.Contents c = SafeTensors.read(f);
        assertArrayEquals(new int[] {784}, c.tensors().get("encoder.0.running_var").shape());
        assertArrayEquals(new int[] {64}, c.tensors().get("encoder.2.weight").shape());
        assertArrayEquals(new int[] {64, 784}, c.tensors().get("encoder.1.weight").shape());
        Autoencoder back = Autoencoder.load(f);
        assertArrayEquals(m.parameters(), back.parameters());
        float[][] x = {data.row(0), data.row(1)};
        assertArrayEquals(m.reconstruct(x)[1], back.reconstruct(x)[1]);
        assertTrue(Files.size(f) > 4L * m.parameters().length);
        assertEquals(SPEC, ModelSpec.fromJson(SPEC.toJson()));
        assertTrue(SPEC.summary().contains("encoder.2 batch_norm(0.1, 1.0E-5)"), SPEC.summary());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(
                SPEC.toJson().replace("\"batch_norm\":0.25", "\"batch_norm\":1.5")));
        assertTrue(e.getMessage().contains("encoder[0]") && e.getMessage().contains("momentum must be in (0, 1]"), e.getMessage());
    }

    @Test
    void sameWeightsWithOneThreadOrTwoAndTheL2PenaltySkipsTheNormalization() {
        Dataset data = slice(200);
        TrainingConfig cfg = config(1, 50).withShuffle(true).withWeightPenalties(0f, 0.01f);
        float[] one = Trainer.fit(SPEC, data, null, cfg.withThreads(1), TrainingListener.NONE).model().parameters();
        float[] two = Trainer.fit(SPEC, data, null, cfg.withThreads(2), TrainingListener.NONE).model().parameters();
        assertArrayEquals(one, two);
        Graph g = Graph.build(SPEC);
        for (int[] r : Trainer.weightRanges(g)) {
            for (ParamSpec p : g.params().values()) {
                if (p.offset() == r[0]) {
                    assertEquals(ParamSpec.Role.WEIGHT, p.role(), p.name());
                    assertTrue(!p.name().contains("encoder.0") && !p.name().contains("encoder.2"), p.name());
                }
            }
        }
    }

    @Test
    void aTrainingBatchOfOneRowIsRefusedBeforeTraining() {
        Dataset data = slice(201);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.fit(SPEC, data, null, config(1, 50), TrainingListener.NONE));
        assertTrue(e.getMessage().contains("encoder.0 batch_norm(0.25, 1.0E-5)") && e.getMessage().contains("leave a last batch of 1 row"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.fit(SPEC, data, null, config(1, 1), TrainingListener.NONE));
        assertTrue(e.getMessage().contains("batches of 2 rows or more"), e.getMessage());
        // Without batch normalization the same data and batch size train.
        ModelSpec plain = Model.encoder(784).dense(16).relu().latent(4).decoder().dense(784).bernoulli();
        assertEquals(1, Trainer.fit(plain, data, null, config(1, 50), TrainingListener.NONE).history().size());
    }
}
