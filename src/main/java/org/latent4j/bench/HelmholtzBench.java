package org.latent4j.bench;

import java.nio.file.Path;
import java.util.Locale;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.HelmholtzMachine;
import org.latent4j.train.HelmholtzTrainer;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;
import org.latent4j.train.TrainingProcedure;

/**
 * Benchmarks of the Helmholtz machine (an SBN 784-200-200) on dynamically binarized
 * Fashion-MNIST:
 * <pre>
 *   java -cp target/classes org.latent4j.bench.HelmholtzBench quality DIR EPOCHS TEST_ROWS THREADS
 *   java -cp target/classes org.latent4j.bench.HelmholtzBench throughput DIR EPOCHS THREADS
 * </pre>
 * quality: wake-sleep and RWS (K = 5) for EPOCHS epochs each (Adam 1e-3, batch 100), then the
 * test log p(x) estimate with K = 500 on the first TEST_ROWS test images (binarized once), and the
 * project's VAE 784-200-(200)-200-784 on the same epochs with its -ELBO and IWAE (K = 500) on the
 * same binarized rows. throughput: wake-sleep training rows per second per epoch (batch 100).
 * DIR holds the Fashion-MNIST IDX files (or any binarized digit data in that format).
 */
public final class HelmholtzBench {
    private HelmholtzBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        Dataset train = FashionMnist.fromDirectory(dir, false), test = FashionMnist.fromDirectory(dir, true);
        HelmholtzSpec spec = Model.helmholtz(784).layers(200, 200);
        if (args[0].equals("hs")) {
            hintonSalakhutdinov(train, test, Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]));
            return;
        }
        if (args[0].equals("throughput")) {
            int epochs = Integer.parseInt(args[2]), threads = Integer.parseInt(args[3]);
            TrainingConfig cfg = new TrainingConfig(OptimizerSpec.adam(1e-3f), 100, epochs, 1, threads, 1f, 0f, true);
            HelmholtzTrainer.fit(spec, train, null, cfg, new TrainingProcedure.WakeSleep(1e-3f, 1e-3f), 1, TrainingListener.NONE,
                    e -> System.out.printf(Locale.ROOT, "java wake-sleep epoch %d: %.2f s, %.0f rows/s, train bound %.2f%n", e.epoch(),
                            e.seconds(), e.rowsPerSecond(), e.trainBound()));
            return;
        }
        int epochs = Integer.parseInt(args[2]), rows = Integer.parseInt(args[3]), threads = Integer.parseInt(args[4]);
        Dataset held = test.head(rows);
        float[] bin = HelmholtzTrainer.binarized(held, 2026);
        TrainingConfig cfg = new TrainingConfig(OptimizerSpec.adam(1e-3f), 100, epochs, 1, threads, 1f, 0f, true);
        try (Parallelism par = Parallelism.of(threads)) {
            for (TrainingProcedure p : new TrainingProcedure[] {new TrainingProcedure.WakeSleep(1e-3f, 1e-3f),
                    new TrainingProcedure.ReweightedWakeSleep(5, false, 1e-3f, 1e-3f)}) {
                long t0 = System.nanoTime();
                HelmholtzTrainer.Result r = HelmholtzTrainer.fit(spec, train, null, cfg, p, 1, TrainingListener.NONE,
                        e -> System.out.printf(Locale.ROOT, "  %s epoch %d: train bound %.2f, %.1f s%n", p, e.epoch(), e.trainBound(), e.seconds()));
                double train_s = (System.nanoTime() - t0) / 1e9;
                HelmholtzMachine.Estimate e = r.model().logLikelihood(bin, rows, 500, 7, par);
                System.out.printf(Locale.ROOT, "%s: %d epochs (%.0f s): test -log p(x) K=500 %.2f nats, -ELBO %.2f (first %d test images)%n", p,
                        epochs, train_s, -e.meanLogLikelihood(), -e.meanBound(), rows);
            }
        }
        ModelSpec vae = Model.encoder(784).dense(200).tanh().gaussianLatent(200).decoder().dense(200).tanh().dense(784).bernoulli();
        long t0 = System.nanoTime();
        Trainer.Result r = Trainer.fit(vae, train, null, cfg, TrainingListener.NONE);
        double train_s = (System.nanoTime() - t0) / 1e9;
        float[][] x = new float[rows][784];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(bin, i * 784, x[i], 0, 784);
        }
        double elbo = mean(AnomalyDetector.of(r.model(), AnomalyDetector.Score.NEG_ELBO, 1, 7).score(x));
        double iwae = mean(AnomalyDetector.of(r.model(), AnomalyDetector.Score.IMPORTANCE_WEIGHTED, 500, 7).score(x));
        System.out.printf(Locale.ROOT, "VAE 784-200-(200 Gaussian)-200-784, tanh, %d epochs on grey levels (%.0f s): test -ELBO %.2f, IWAE K=500 -log p(x) %.2f nats%n",
                epochs, train_s, elbo, iwae);
    }

    /**
     * A shortened Hinton-Salakhutdinov run: the 784-1000-500-250-30 logistic autoencoder (linear
     * code) on the first TRAIN_ROWS training images, RBM-pretrained (RBM_EPOCHS per RBM, Hinton's
     * recipe) then fine-tuned, or from random weights, FINE_TUNE_EPOCHS of Adam 1e-3 (batch 100)
     * either way (the paper fine-tunes by conjugate gradients); beside PCA-30 fitted on the same rows.
     * Prints the test squared reconstruction error per image (sum over the 784 pixels in [0, 1])
     * on the first TEST_ROWS test images.
     */
    static void hintonSalakhutdinov(Dataset train, Dataset test, int trainRows, int rbmEpochs, int fineTuneEpochs, int testRows, int threads) {
        Dataset tr = train.head(trainRows), te = test.head(testRows);
        ModelSpec deep = Model.encoder(784).dense(1000).sigmoid().dense(500).sigmoid().dense(250).sigmoid().latent(30)
                .decoder().dense(250).sigmoid().dense(500).sigmoid().dense(1000).sigmoid().dense(784).bernoulli();
        TrainingConfig cfg = new TrainingConfig(OptimizerSpec.adam(1e-3f), 100, fineTuneEpochs, 1, threads, 1f, 0f, true);
        float[][] x = new float[testRows][];
        for (int i = 0; i < testRows; i++) {
            x[i] = te.row(i);
        }
        long t0 = System.nanoTime();
        org.latent4j.train.StackedPretraining.Pretrained p = org.latent4j.train.StackedPretraining.pretrainRbm(deep, tr,
                org.latent4j.train.RbmTrainer.Config.hinton(org.latent4j.model.Rbm.Kind.BERNOULLI_BERNOULLI, rbmEpochs).withThreads(threads),
                (layer, e) -> System.out.printf(Locale.ROOT, "  RBM %d epoch %d: reconstruction error %.4f, free energy %.2f (%.0f s)%n",
                        layer, e.epoch(), e.reconstructionError(), e.freeEnergy(), e.seconds()));
        double pre = (System.nanoTime() - t0) / 1e9;
        double unrolled = squaredError(org.latent4j.model.Autoencoder.of(deep.withInputDim(784), p.params()).reconstruct(x), x);
        t0 = System.nanoTime();
        Trainer.Result tuned = Trainer.fit(deep, tr, null, cfg, progress("pretrained"), null, null, p.params());
        double tune = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        Trainer.Result scratch = Trainer.fit(deep, tr, null, cfg, progress("random"));
        double rand = (System.nanoTime() - t0) / 1e9;
        double pca;
        try (Parallelism par = Parallelism.of(threads)) {
            pca = squaredError(org.latent4j.model.LinearModel.of(org.latent4j.linear.Pca.fit(tr, 30, par)).reconstruct(x), x);
        }
        System.out.printf(Locale.ROOT, "784-1000-500-250-30 on %d training images, test squared error per image (%d test images):%n", trainRows, testRows);
        System.out.printf(Locale.ROOT, "  RBM-pretrained (%d epochs per RBM, %.0f s), unrolled: %.2f%n", rbmEpochs, pre, unrolled);
        System.out.printf(Locale.ROOT, "  RBM-pretrained + %d fine-tuning epochs (%.0f s): %.2f%n", fineTuneEpochs, tune,
                squaredError(tuned.model().reconstruct(x), x));
        System.out.printf(Locale.ROOT, "  random weights, %d epochs (%.0f s): %.2f%n", fineTuneEpochs, rand, squaredError(scratch.model().reconstruct(x), x));
        System.out.printf(Locale.ROOT, "  PCA-30: %.2f%n", pca);
    }

    /** Prints each fine-tuning epoch's training reconstruction loss (Bernoulli nats per image) and time. */
    private static TrainingListener progress(String name) {
        return new TrainingListener() {
            @Override
            public void onEpoch(org.latent4j.train.EpochStats s) {
                System.out.printf(Locale.ROOT, "  %s epoch %d: train reconstruction %.3f nats (%.0f s)%n", name, s.epoch(),
                        s.trainReconstruction(), s.seconds());
            }
        };
    }

    private static double squaredError(float[][] r, float[][] x) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                double d = (double) r[i][j] - x[i][j];
                s += d * d;
            }
        }
        return s / x.length;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }
}
