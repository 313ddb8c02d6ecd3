// A plain deep autoencoder (deterministic 16-d code) on the bundled slice, with the bottleneck
// activation of your choice: a linear code (latent(16)) against a tanh code (latent(16).tanh(),
// every code value in (-1, 1)). Reports the test reconstruction error per epoch and the code of
// the first test image. Run: ./latent4j run dsl-examples/DeepAutoencoder.java
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

void main() {
    var linear = Model.encoder().dense(256).relu().dense(64).tanh().latent(16)
            .decoder().dense(64).tanh().dense(256).relu().dense(784).bernoulli();
    var tanh = Model.encoder().dense(256).relu().dense(64).tanh().latent(16).tanh()
            .decoder().dense(64).tanh().dense(256).relu().dense(784).bernoulli();
    var test = FashionMnist.bundledTest();
    var config = TrainingConfig.defaults().withEpochs(5).withOptimizer(OptimizerSpec.adam(2e-3f));
    for (ModelSpec spec : new ModelSpec[] {linear, tanh}) {
        String name = spec == linear ? "linear code" : "tanh code";
        var run = Trainer.fit(spec, FashionMnist.bundledTrain(), test, config, TrainingListener.NONE);
        for (var s : run.history()) {
            IO.println("%s, epoch %d: test reconstruction %.2f nats per image".formatted(name, s.epoch(), s.validationReconstruction()));
        }
        float[][] first = {test.row(0)};
        IO.println(name + " of test image 0: " + java.util.Arrays.toString(run.model().encode(first)[0]));
    }
}
