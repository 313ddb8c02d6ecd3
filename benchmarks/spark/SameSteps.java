// One JVM's test -ELBO after as many W1 steps as the partitions of benchmarks/spark/SparkBench.java took
// (234, 230, 200 steps of 128 rows; 234 of 256), from the same initial state (seed 42), on the full Fashion-MNIST.
// Run: java --add-modules=jdk.incubator.vector -cp target/classes benchmarks/spark/SameSteps.java
import java.util.List;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.graph.Graph;
import org.latent4j.kernel.Parallelism;
import org.latent4j.train.*;
void main(String[] a) throws Exception {
    var W1 = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
        .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
    var train = FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, false);
    var test = FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, true);
    var base = TrainingConfig.defaults().withBatchSize(128).withSeed(42).withEpochs(1000);
    Graph g = Graph.build(W1).fuse();
    int[] sz = Optimizer.stateSizes(base.optimizer(), g.trainableCount());
    var init = new Checkpoint(W1, Trainer.initialParams(g, 42), 0, new float[sz[0]], new float[sz[1]], new Checkpoint.Progress(1,0,0,0,0,0,0,0,0), List.of(), "", "", null);
    for (int steps : new int[] {200, 230, 234}) {
        var r = Trainer.steps(init, train, base, steps, null);
        double[] e = Trainer.evaluate(g, r.state().params(), test, 500, 42, Parallelism.serial());
        IO.println("single JVM " + steps + " steps (" + r.rows() + " samples): test -ELBO " + String.format("%.2f", e[0] + e[1]));
    }
    // the same 234 steps with batches of 256 (what averaging 2 partitions of 1 step each resembles)
    var b256 = base.withBatchSize(256);
    var r = Trainer.steps(init, train, b256, 234, null);
    double[] e = Trainer.evaluate(g, r.state().params(), test, 500, 42, Parallelism.serial());
    IO.println("single JVM 234 steps of batch 256 (" + r.rows() + " samples): test -ELBO " + String.format("%.2f", e[0] + e[1]));
}
