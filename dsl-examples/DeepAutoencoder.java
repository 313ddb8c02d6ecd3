// A plain deep autoencoder (deterministic 16-d code, tanh bottleneck layers) on the bundled slice,
// reporting the test reconstruction error and the code of the first test image.
// Run: ./latent4j run dsl-examples/DeepAutoencoder.java
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

void main() {
    var ae = Model.encoder().dense(256).relu().dense(64).tanh().latent(16)
            .decoder().dense(64).tanh().dense(256).relu().dense(784).bernoulli();
    var test = FashionMnist.bundledTest();
    var config = TrainingConfig.defaults().withEpochs(5).withOptimizer(OptimizerSpec.adam(2e-3f));
    var run = Trainer.fit(ae, FashionMnist.bundledTrain(), test, config, TrainingListener.NONE);
    for (var s : run.history()) {
        IO.println("epoch %d: test reconstruction %.2f nats per image".formatted(s.epoch(), s.validationReconstruction()));
    }
    float[][] first = {test.row(0)};
    IO.println("code of test image 0: " + java.util.Arrays.toString(run.model().encode(first)[0]));
}
