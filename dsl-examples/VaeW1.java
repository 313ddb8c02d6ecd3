// The W1 VAE of the design card on the bundled Fashion-MNIST slice.
// Run: ./latent4j run dsl-examples/VaeW1.java [epochs]
import java.nio.file.Path;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

void main(String[] args) throws Exception {
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("runs"));
    var vae = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
            .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
    IO.println(vae.summary());
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    var config = TrainingConfig.defaults().withEpochs(epochs).withThreads(Runtime.getRuntime().availableProcessors());
    var run = Trainer.fit(vae, FashionMnist.bundledTrain(), FashionMnist.bundledTest(), config, new TrainingListener() {
        @Override
        public void onEpoch(org.latent4j.train.EpochStats s) {
            IO.println("epoch %d: train -ELBO %.2f, test -ELBO %.2f (KL %.2f), %.0f img/s"
                    .formatted(s.epoch(), s.trainNegElbo(), s.validationNegElbo(), s.validationKl(), s.samplesPerSecond()));
        }
    });
    run.model().save(Path.of("runs/vae-w1.safetensors"));
    IO.println("saved runs/vae-w1.safetensors");
}
