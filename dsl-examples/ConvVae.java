// Convolutional autoencoder and convolutional VAE (workload W2's model) on the bundled Fashion-MNIST slice:
// images as 1x28x28, strided convolutions down to 64x7x7, a dense bottleneck, transposed
// convolutions back up. Prints the summary, trains both, writes reconstructions and samples.
// Run: ./latent4j run dsl-examples/ConvVae.java [epochs]
import java.nio.file.Path;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.io.Pictures;
import org.latent4j.train.EpochStats;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

void main(String[] args) throws Exception {
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("runs"));
    var convVae = Model.encoder(1, 28, 28).conv2d(32, 4, 2, 1).relu().conv2d(64, 4, 2, 1).relu().flatten()
            .gaussianLatent(16)
            .decoder().dense(64 * 7 * 7).relu().reshape(64, 7, 7)
            .convTranspose2d(32, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
    var convAe = Model.encoder(1, 28, 28).conv2d(32, 4, 2, 1).relu().conv2d(64, 4, 2, 1).relu().maxPool(2, 2).flatten()
            .latent(32)
            .decoder().dense(64 * 7 * 7).relu().reshape(64, 7, 7)
            .convTranspose2d(32, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
    IO.println(convVae.summary());
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    var config = TrainingConfig.defaults().withEpochs(epochs).withThreads(Runtime.getRuntime().availableProcessors());
    var test = FashionMnist.bundledTest();
    TrainingListener log = new TrainingListener() {
        @Override
        public void onEpoch(EpochStats s) {
            IO.println("  epoch %d: train %.2f, test %.2f nats (KL %.2f), %.0f img/s"
                    .formatted(s.epoch(), s.trainNegElbo(), s.validationNegElbo(), s.validationKl(), s.samplesPerSecond()));
        }
    };
    IO.println("convolutional VAE:");
    var vae = Trainer.fit(convVae, FashionMnist.bundledTrain(), test, config, log).model();
    IO.println("convolutional autoencoder (max pooling, 32-d code):");
    var ae = Trainer.fit(convAe, FashionMnist.bundledTrain(), test, config, log).model();
    float[][] images = new float[16][];
    for (int i = 0; i < images.length; i++) {
        images[i] = test.row(i);
    }
    vae.save(Path.of("runs/conv-vae.safetensors"));
    // Rows: the test images, the VAE's reconstructions, the autoencoder's.
    float[][] grid = new float[48][];
    float[][] fromVae = vae.reconstruct(images), fromAe = ae.reconstruct(images);
    for (int i = 0; i < 16; i++) {
        grid[i] = images[i];
        grid[16 + i] = fromVae[i];
        grid[32 + i] = fromAe[i];
    }
    Pictures.imageGrid(Path.of("runs/conv-reconstructions.png"), grid, 16, 28, 28, 3);
    Pictures.imageGrid(Path.of("runs/conv-vae-samples.png"), vae.sample(32, 7), 8, 28, 28, 3);
    IO.println("wrote runs/conv-vae.safetensors, runs/conv-reconstructions.png (rows: input, VAE, AE), runs/conv-vae-samples.png");
}
