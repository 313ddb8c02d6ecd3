// The time of each training step of a fresh JVM's first epochs (W1 VAE, full Fashion-MNIST, batch 128):
// steps 1-12 one by one, then means over 47 steps. Args: threads [w: run Gemm.warmUp() first].
// Run: ./latent4j run benchmarks/tools/FirstEpochSteps.java 2 [w]; add LATENT4J_JAVA_OPTS=-XX:+PrintCompilation to see the compiles.
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.train.*;
void main(String[] a) throws Exception {
    var spec = Model.encoder().dense(512).relu().dense(256).relu().gaussianLatent(32).decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
    Dataset train = FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, false), test = FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, true);
    if (a.length > 1) { long w = System.nanoTime(); org.latent4j.kernel.Gemm.warmUp(); System.out.printf("Gemm.warmUp %.0f ms%n", (System.nanoTime() - w) / 1e6); }
    long t0 = System.nanoTime();
    long[] last = {t0};
    Trainer.fit(spec, train, test, TrainingConfig.defaults().withEpochs(2).withThreads(Integer.parseInt(a[0])).withSeed(42)
            .withWeightInit(TrainingConfig.WeightInit.BY_ACTIVATION), new TrainingListener() {
        int b;
        @Override public void onBatch(int epoch, long done, long total, double loss) {
            if (++b <= 12 || b % 47 == 0) { long t = System.nanoTime(); System.out.printf("T %.3f s: epoch %d row %d, %.1f ms per step%n", (t - t0) / 1e9, epoch, done, (t - last[0]) / (b <= 12 ? 1e6 : b == 47 ? 35e6 : 47e6)); last[0] = t; }
        }
        @Override public void onEpoch(EpochStats s) { System.out.printf("epoch %d %.0f samples/s%n", s.epoch(), s.samplesPerSecond()); }
    });
}
