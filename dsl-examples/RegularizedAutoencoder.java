// Regularizers on a deep autoencoder: dropout, batch normalization, L1/L2 weight penalties, a Huber
// loss (robust to outliers), a Gaussian decoder with one learned variance; test error of each.
// Run: ./latent4j run dsl-examples/RegularizedAutoencoder.java
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.model.Metrics;
import org.latent4j.train.*;

void main() {
    var test = FashionMnist.bundledTest();
    float[][] x = new float[test.rows()][];
    for (int i = 0; i < x.length; i++) x[i] = test.row(i);
    var base = TrainingConfig.defaults().withEpochs(5).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    var runs = new java.util.LinkedHashMap<String, Object[]>();
    runs.put("plain, bernoulli", new Object[] {Model.encoder().dense(256).relu().latent(16).decoder().dense(256).relu().dense(784).bernoulli(), base});
    runs.put("dropout 0.2", new Object[] {Model.encoder().dense(256).relu().dropout(0.2f).latent(16).decoder().dense(256).relu().dropout(0.2f).dense(784).bernoulli(), base});
    runs.put("batch norm", new Object[] {Model.encoder().dense(256).batchNorm().relu().latent(16).decoder().dense(256).batchNorm().relu().dense(784).bernoulli(), base});
    runs.put("L2 1e-4 + L1 1e-6", new Object[] {Model.encoder().dense(256).relu().latent(16).decoder().dense(256).relu().dense(784).bernoulli(), base.withWeightPenalties(1e-6f, 1e-4f)});
    runs.put("huber(0.1)", new Object[] {Model.encoder().dense(256).relu().latent(16).decoder().dense(256).relu().dense(784).huber(0.1f), base});
    runs.put("gaussian, one learned variance", new Object[] {Model.encoder().dense(256).relu().latent(16).decoder().dense(256).relu().dense(784).gaussianLearnedGlobalVariance(), base});
    for (var e : runs.entrySet()) {
        var spec = (org.latent4j.dsl.ModelSpec) e.getValue()[0];
        var run = Trainer.fit(spec, FashionMnist.bundledTrain(), test, (TrainingConfig) e.getValue()[1], TrainingListener.NONE);
        float[][] r = run.model().reconstruct(x);
        IO.println("%-32s test MSE %.5f  PSNR %.2f dB  SSIM %.3f".formatted(e.getKey(), Metrics.mse(x, r), Metrics.psnr(x, r, 1.0),
                Metrics.meanSsim(x, r, 28, 28, 1.0)));
    }
}
