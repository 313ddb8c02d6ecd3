// A conditional VAE: the class (one-hot label) joins the encoder input and the code; sampling
// takes a class. Writes runs/cvae-samples.png, one row of samples per Fashion-MNIST class.
// Run: ./latent4j run dsl-examples/ConditionalVae.java
import java.nio.file.Path;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.io.Pictures;
import org.latent4j.train.*;

void main() throws Exception {
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("runs"));
    var cvae = Model.encoder().conditionedOn(10).dense(256).relu().gaussianLatent(2)
            .decoder().dense(256).relu().dense(784).bernoulli();
    var config = TrainingConfig.defaults().withEpochs(10).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    var run = Trainer.fit(cvae, FashionMnist.bundledTrain(), FashionMnist.bundledTest(), config, TrainingListener.NONE);
    var last = run.history().get(run.history().size() - 1);
    IO.println("test -ELBO %.2f nats (KL %.2f)".formatted(last.validationNegElbo(), last.validationKl()));
    float[][] grid = new float[100][];
    for (int c = 0; c < 10; c++) {
        float[] onehot = new float[10];
        onehot[c] = 1f;
        System.arraycopy(run.model().sample(10, 100 + c, onehot), 0, grid, 10 * c, 10);
        IO.println("row " + c + ": " + FashionMnist.CLASSES[c]);
    }
    Pictures.imageGrid(Path.of("runs/cvae-samples.png"), grid, 10, 28, 28, 3);
    IO.println("wrote runs/cvae-samples.png");
}
