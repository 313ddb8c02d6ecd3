package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Autoencoder;

/** Conditional models conditioned on context vectors (real values per row), not only on classes. */
class ContextConditionTest {
    static TrainingConfig config(int epochs) {
        return TrainingConfig.defaults().withEpochs(epochs).withBatchSize(50).withOptimizer(OptimizerSpec.adam(3e-3f)).withThreads(2);
    }

    @Test
    void oneHotContextVectorsTrainExactlyAsLabels() {
        Dataset labelled = FashionMnist.bundledTrain().head(400);
        float[][] oneHot = new float[labelled.rows()][10];
        for (int r = 0; r < oneHot.length; r++) {
            oneHot[r][labelled.labels()[r]] = 1f;
        }
        Dataset context = new Dataset(labelled.x(), labelled.rows(), labelled.features(), null, "context").withContext(oneHot);
        ModelSpec cvae = Model.encoder(784).conditionedOn(10).dense(32).relu().gaussianLatent(4).decoder().dense(784).bernoulli();
        float[] byLabel = Trainer.fit(cvae, labelled, null, config(1), TrainingListener.NONE).model().parameters();
        float[] byContext = Trainer.fit(cvae, context, null, config(1), TrainingListener.NONE).model().parameters();
        assertArrayEquals(byLabel, byContext, "the same conditions, from labels or from context vectors, give the same weights");
    }

    @Test
    void aRealValuedContextIsUsed() {
        // x (8 values) = tanh(A c + b u) + small noise: c a 2-d context known per row, u one hidden factor.
        SplittableRandom r = new SplittableRandom(11);
        double[][] a = new double[8][2];
        double[] b = new double[8];
        for (int j = 0; j < 8; j++) {
            a[j][0] = r.nextGaussian();
            a[j][1] = r.nextGaussian();
            b[j] = r.nextGaussian();
        }
        int n = 2000;
        float[] x = new float[n * 8];
        float[][] c = new float[n][2];
        for (int i = 0; i < n; i++) {
            c[i][0] = (float) r.nextGaussian();
            c[i][1] = (float) r.nextGaussian();
            double u = r.nextGaussian();
            for (int j = 0; j < 8; j++) {
                x[i * 8 + j] = (float) (Math.tanh(a[j][0] * c[i][0] + a[j][1] * c[i][1] + b[j] * u) + 0.01 * r.nextGaussian());
            }
        }
        Dataset data = new Dataset(x, n, 8, null, "synthetic").withContext(c);
        ModelSpec cae = Model.encoder(8).conditionedOn(2).dense(32).tanh().latent(1).decoder().dense(32).tanh().dense(8).gaussian();
        Autoencoder m = Trainer.fit(cae, data, null, config(30), TrainingListener.NONE).model();
        float[][] rows = new float[n][];
        float[][] shuffled = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = data.row(i);
            shuffled[i] = c[(i + n / 2) % n];
        }
        double own = ModelKindsTest.mse(rows, m.reconstruct(rows, c)), other = ModelKindsTest.mse(rows, m.reconstruct(rows, shuffled));
        System.out.printf(java.util.Locale.ROOT, "context: squared error per row %.4f with each row's own context, %.4f with another's%n", own, other);
        // one latent value cannot carry the three factors: the model must read the context
        assertTrue(own < 0.25 * other, "squared error " + own + " with each row's own context vs " + other + " with another row's");
    }

    @Test
    void resumeWithContextIsBitwiseAndRefusesOtherContext(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[200 * 4];
        float[][] c = new float[200][3], other = new float[200][3];
        for (int i = 0; i < 200; i++) {
            for (int j = 0; j < 3; j++) {
                c[i][j] = (float) r.nextGaussian();
                other[i][j] = c[i][j] + 1;
            }
            for (int j = 0; j < 4; j++) {
                x[i * 4 + j] = c[i][j % 3] + (float) r.nextGaussian();
            }
        }
        Dataset data = new Dataset(x, 200, 4, null, "rows").withContext(c);
        ModelSpec cvae = Model.encoder(4).conditionedOn(3).dense(8).tanh().gaussianLatent(2).decoder().dense(4).gaussian();
        java.nio.file.Path ck = dir.resolve("c.safetensors");
        float[] whole = Trainer.fit(cvae, data, null, config(2), TrainingListener.NONE).model().parameters();
        Trainer.fit(cvae, data, null, config(1), TrainingListener.NONE, CheckpointPolicy.everyEpoch(ck));
        float[] resumed = Trainer.resume(ck, data, null, config(2), TrainingListener.NONE, null).model().parameters();
        assertArrayEquals(whole, resumed, "1 epoch, then 1 more from the checkpoint = 2 epochs");
        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(ck, new Dataset(x, 200, 4, null, "rows")
                .withContext(other), null, config(2), TrainingListener.NONE, null));
        assertTrue(e.getMessage().contains("other training data"), e.getMessage());
    }

    @Test
    void contextErrorsNameTheProblem() {
        Dataset d = new Dataset(new float[6], 3, 2, null, "d.csv");
        var e = assertThrows(IllegalArgumentException.class, () -> d.withContext(new float[][] {{1}, {2}}));
        assertTrue(e.getMessage().contains("d.csv: 2 context vectors for 3 rows"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> d.withContext(new float[][] {{1}, {2, 3}, {4}}));
        assertTrue(e.getMessage().contains("context vector 1 has 2 values but vector 0 has 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> d.withContext(new float[][] {{1}, {Float.NaN}, {4}}));
        assertTrue(e.getMessage().contains("context vector 1, value 0 is NaN"), e.getMessage());
        ModelSpec cae = Model.encoder(2).conditionedOn(3).dense(4).relu().latent(1).decoder().dense(2).gaussian();
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.fit(cae, d.withContext(new float[][] {{1}, {2}, {3}}), null,
                config(1), TrainingListener.NONE));
        assertTrue(e.getMessage().contains("conditioned on 3 values per row but d.csv has context vectors of 1"), e.getMessage());
    }
}
