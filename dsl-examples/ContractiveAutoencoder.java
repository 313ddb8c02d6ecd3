// A contractive autoencoder (Rifai et al. 2011): one sigmoid layer whose Jacobian's Frobenius
// norm is penalized; its codes move less under small input changes than a plain autoencoder's.
// Run: ./latent4j run dsl-examples/ContractiveAutoencoder.java
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.*;

void main() {
    var plain = Model.encoder().latent(32).sigmoid().decoder().dense(784).bernoulli();
    var contractive = Model.encoder().latent(32).sigmoid().contractive(50f).decoder().dense(784).bernoulli();
    var config = TrainingConfig.defaults().withEpochs(4).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    var test = FashionMnist.bundledTest();
    float[][] x = new float[200][], nudged = new float[200][];
    var r = new java.util.SplittableRandom(3);
    for (int i = 0; i < 200; i++) {
        x[i] = test.row(i);
        nudged[i] = x[i].clone();
        for (int j = 0; j < 784; j++) nudged[i][j] += (float) (0.02 * r.nextGaussian());
    }
    for (var spec : java.util.List.of(plain, contractive)) {
        var run = Trainer.fit(spec, FashionMnist.bundledTrain(), test, config, TrainingListener.NONE);
        var m = run.model();
        float[][] a = m.encode(x), b = m.encode(nudged);
        double moved = 0;
        for (int i = 0; i < 200; i++) for (int j = 0; j < 32; j++) moved += Math.pow(a[i][j] - b[i][j], 2);
        IO.println("%s: test reconstruction %.2f nats; code change under 0.02 pixel noise %.5f".formatted(
                spec.latent() instanceof org.latent4j.dsl.LatentSpec.Deterministic d && d.contractive() > 0 ? "contractive" : "plain      ",
                run.history().get(run.history().size() - 1).validationReconstruction(), moved / 200));
    }
}
