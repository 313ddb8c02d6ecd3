// A stacked autoencoder: a deep sigmoid autoencoder pretrained layer by layer (each layer an
// autoencoder of its own, trained on the codes of the layers below), then fine-tuned end to end;
// against the same model trained end to end from random weights for the same number of epochs.
// Run: ./latent4j run dsl-examples/StackedAutoencoder.java
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.io.Pictures;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Metrics;
import org.latent4j.train.*;

void main() throws Exception {
    var train = FashionMnist.bundledTrain();
    var test = FashionMnist.bundledTest();
    float[][] x = new float[test.rows()][];
    for (int i = 0; i < x.length; i++) x[i] = test.row(i);
    var deep = Model.encoder().dense(256).sigmoid().dense(64).sigmoid().latent(16)
            .decoder().dense(64).sigmoid().dense(256).sigmoid().dense(784).bernoulli();
    var cfg = TrainingConfig.defaults().withEpochs(3).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);

    for (var s : StackedPretraining.stages(deep, 784)) IO.println("stage: " + s.description());
    var pre = StackedPretraining.pretrain(deep, train, cfg.withEpochs(3), TrainingListener.NONE);
    var stacked = Autoencoder.of(deep.withInputDim(784), pre.params());
    var tuned = Trainer.fit(deep, train, test, cfg, TrainingListener.NONE, null, null, pre.params()).model();
    var scratch = Trainer.fit(deep, train, test, cfg, TrainingListener.NONE).model();
    report("pretrained only (3 epochs per stage)", stacked, x);
    report("pretrained + fine-tuned 3 epochs", tuned, x);
    report("end to end from scratch, 3 epochs", scratch, x);
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("runs"));
    float[][] rows = new float[24][];
    for (int i = 0; i < 8; i++) {
        rows[i] = x[i];
        rows[8 + i] = tuned.reconstruct(new float[][] {x[i]})[0];
        rows[16 + i] = scratch.reconstruct(new float[][] {x[i]})[0];
    }
    Pictures.imageGrid(java.nio.file.Path.of("runs/stacked-reconstructions.png"), rows, 8, 28, 28, 3);
    IO.println("wrote runs/stacked-reconstructions.png (rows: test images, pretrained + fine-tuned, from scratch)");
}

void report(String what, Autoencoder m, float[][] x) {
    float[][] r = m.reconstruct(x);
    IO.println("%-38s test MSE %.5f  PSNR %.2f dB  SSIM %.3f".formatted(what, Metrics.mse(x, r), Metrics.psnr(x, r, 1.0),
            Metrics.meanSsim(x, r, 28, 28, 1.0)));
}
