// A sparse autoencoder: a KL penalty pulls the hidden layer's mean activation toward rho = 0.05
// (and an L1 activity penalty variant). Prints the mean activation with and without the penalty.
// Run: ./latent4j run dsl-examples/SparseAutoencoder.java
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.*;

void main() {
    var sparse = Model.encoder().dense(64).sigmoid().sparsity(0.05f, 10f).latent(16)
            .decoder().dense(128).relu().dense(784).bernoulli();
    var l1 = Model.encoder().dense(64).relu().activityL1(1e-3f).latent(16)
            .decoder().dense(128).relu().dense(784).bernoulli();
    var config = TrainingConfig.defaults().withEpochs(5).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    var test = FashionMnist.bundledTest();
    for (var spec : java.util.List.of(sparse, l1)) {
        var run = Trainer.fit(spec, FashionMnist.bundledTrain(), test, config, TrainingListener.NONE);
        var last = run.history().get(run.history().size() - 1);
        var g = run.model().graph();
        int hidden = g.penalties.get(0);
        int watched = g.node(hidden).inputs().get(0);
        var ex = new org.latent4j.runtime.Executor(org.latent4j.graph.Planner.forward(g, 0, watched),
                org.latent4j.kernel.Parallelism.serial(), test.rows());
        ex.load(g.input, test.x(), 0, test.rows());
        ex.run(run.model().parameters(), null, test.rows(), 0, 0, 1f);
        double sum = 0; int zeros = 0, n = test.rows() * g.node(watched).width();
        for (int i = 0; i < n; i++) { sum += ex.value(watched)[i]; zeros += ex.value(watched)[i] == 0f ? 1 : 0; }
        IO.println("%s: test reconstruction %.2f nats, penalty %.3f, mean activation %.4f, exact zeros %.0f%%".formatted(
                g.node(hidden).name(), last.validationReconstruction(), last.trainPenalty(), sum / n, 100.0 * zeros / n));
    }
}
