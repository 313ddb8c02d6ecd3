// What batch normalization costs in training: the design card's W1 VAE (784-512-256-32, ReLU)
// with and without batch normalization after each hidden dense layer, trained alternately on the
// bundled slice; median images/s of the warm epochs of each, and their ratio.
// Run: ./latent4j run benchmarks/layers/BatchNormCost.java [rounds]
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.*;

void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    var train = FashionMnist.bundledTrain();
    var plain = Model.encoder().dense(512).relu().dense(256).relu().gaussianLatent(32)
            .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
    var bn = Model.encoder().dense(512).batchNorm().relu().dense(256).batchNorm().relu().gaussianLatent(32)
            .decoder().dense(256).batchNorm().relu().dense(512).batchNorm().relu().dense(784).bernoulli();
    var cfg = TrainingConfig.defaults().withEpochs(3).withBatchSize(128).withThreads(Runtime.getRuntime().availableProcessors());
    var a = new java.util.ArrayList<Double>();
    var b = new java.util.ArrayList<Double>();
    for (int r = 0; r < rounds; r++) {
        for (var s : Trainer.fit(plain, train, null, cfg, TrainingListener.NONE).history().subList(1, 3)) a.add(s.samplesPerSecond());
        for (var s : Trainer.fit(bn, train, null, cfg, TrainingListener.NONE).history().subList(1, 3)) b.add(s.samplesPerSecond());
    }
    java.util.Collections.sort(a);
    java.util.Collections.sort(b);
    double ma = a.get(a.size() / 2), mb = b.get(b.size() / 2);
    IO.println("W1 VAE, batch 128, %d thread(s), %d warm epochs each".formatted(cfg.threads(), a.size()));
    IO.println("without batch norm: median %.0f img/s (%.0f-%.0f)".formatted(ma, a.get(0), a.get(a.size() - 1)));
    IO.println("with batch norm:    median %.0f img/s (%.0f-%.0f)".formatted(mb, b.get(0), b.get(b.size() - 1)));
    IO.println("ratio with/without: %.3f".formatted(mb / ma));
}
