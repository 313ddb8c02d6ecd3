// A denoising autoencoder: half the pixels masked in training only; it then cleans masked test
// images far better than a plain autoencoder of the same size. Writes runs/denoising.png.
// Run: ./latent4j run dsl-examples/DenoisingAutoencoder.java
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.io.Pictures;
import org.latent4j.model.Metrics;
import org.latent4j.train.*;

void main() throws Exception {
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("runs"));
    var plain = Model.encoder().dense(128).relu().latent(32).decoder().dense(128).relu().dense(784).bernoulli();
    var denoising = Model.encoder().maskingNoise(0.5f).dense(128).relu().latent(32)
            .decoder().dense(128).relu().dense(784).bernoulli();
    var train = FashionMnist.bundledTrain();
    var test = FashionMnist.bundledTest();
    var config = TrainingConfig.defaults().withEpochs(6).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    var a = Trainer.fit(plain, train, test, config, TrainingListener.NONE).model();
    var b = Trainer.fit(denoising, train, test, config, TrainingListener.NONE).model();
    float[][] clean = new float[16][], noisy = new float[16][];
    var r = new SplittableRandom(1);
    for (int i = 0; i < 16; i++) {
        clean[i] = test.row(i);
        noisy[i] = clean[i].clone();
        for (int j = 0; j < 784; j++) {
            if (r.nextDouble() < 0.5) noisy[i][j] = 0f;
        }
    }
    float[][] fromPlain = a.reconstruct(noisy), fromDenoising = b.denoise(noisy);
    IO.println("MSE to the clean images: plain AE %.4f, denoising AE %.4f; mean SSIM %.3f vs %.3f".formatted(
            Metrics.mse(clean, fromPlain), Metrics.mse(clean, fromDenoising),
            Metrics.meanSsim(clean, fromPlain, 28, 28, 1.0), Metrics.meanSsim(clean, fromDenoising, 28, 28, 1.0)));
    float[][] grid = new float[64][];
    for (int i = 0; i < 16; i++) {
        grid[i] = clean[i]; grid[16 + i] = noisy[i]; grid[32 + i] = fromPlain[i]; grid[48 + i] = fromDenoising[i];
    }
    Pictures.imageGrid(Path.of("runs/denoising.png"), grid, 16, 28, 28, 3);
    IO.println("wrote runs/denoising.png (rows: clean, masked, plain AE, denoising AE)");
}
