package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Op;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.Autoencoder;
import org.latent4j.runtime.Executor;

/**
 * Each model kind shows its defining behaviour on the bundled Fashion-MNIST slice: denoising,
 * sparse, contractive and conditional autoencoders, and the VAE variants (beta, capacity, free
 * bits, annealing, L samples, collapse report), plus the weight penalties.
 */
class ModelKindsTest {
    static Dataset train;
    static Dataset test;
    static float[][] testRows;

    @BeforeAll
    static void data() {
        train = FashionMnist.bundledTrain();
        test = FashionMnist.bundledTest();
        testRows = rows(test);
    }

    static float[][] rows(Dataset d) {
        float[][] x = new float[d.rows()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    static TrainingConfig config(int epochs) {
        return TrainingConfig.defaults().withEpochs(epochs).withBatchSize(100).withOptimizer(OptimizerSpec.adam(2e-3f)).withThreads(2);
    }

    static Trainer.Result fit(ModelSpec spec, TrainingConfig cfg) {
        return Trainer.fit(spec, train, test, cfg, TrainingListener.NONE);
    }

    static double mse(float[][] a, float[][] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                double e = (double) a[i][j] - b[i][j];
                s += e * e;
            }
        }
        return s / a.length;
    }

    @Test
    void denoisingAutoencoderCleansCorruptedInputsBetterThanAPlainOne() {
        // Half the pixels of each test image set to 0 (a corruption drawn here, not by the engine).
        SplittableRandom r = new SplittableRandom(5);
        float[][] corrupted = new float[testRows.length][];
        for (int i = 0; i < corrupted.length; i++) {
            corrupted[i] = testRows[i].clone();
            for (int j = 0; j < corrupted[i].length; j++) {
                if (r.nextDouble() < 0.5) {
                    corrupted[i][j] = 0f;
                }
            }
        }
        ModelSpec plain = Model.encoder().dense(128).relu().latent(32).decoder().dense(128).relu().dense(784).bernoulli();
        ModelSpec denoising = Model.encoder().maskingNoise(0.5f).dense(128).relu().latent(32)
                .decoder().dense(128).relu().dense(784).bernoulli();
        Autoencoder a = fit(plain, config(6)).model(), b = fit(denoising, config(6)).model();
        double plainError = mse(a.reconstruct(corrupted), testRows), denoisingError = mse(b.reconstruct(corrupted), testRows);
        System.out.printf("denoising: squared error per image on half-masked test images, plain AE %.2f, denoising AE %.2f%n",
                plainError, denoisingError);
        assertTrue(denoisingError < 0.8 * plainError, plainError + " vs " + denoisingError);
        // At inference the noise layer is off: reconstruct gives the same bits twice.
        assertArrayEquals(b.reconstruct(corrupted)[3], b.reconstruct(corrupted)[3]);
    }

    /** The activations of the layer a penalty watches, on the test images. */
    static float[] watchedActivations(Autoencoder m, Class<? extends Op> penalty) {
        Graph g = m.graph();
        int watched = g.nodes().stream().filter(n -> penalty.isInstance(n.op())).findFirst().orElseThrow().inputs().get(0);
        Executor ex = new Executor(Planner.forward(g, 0, watched), Parallelism.serial(), test.rows());
        ex.load(g.input, test.x(), 0, test.rows());
        ex.run(m.parameters(), null, test.rows(), 0, 0, 1f);
        return java.util.Arrays.copyOf(ex.value(watched), test.rows() * g.node(watched).width());
    }

    static double mean(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s / a.length;
    }

    @Test
    void sparseAutoencodersMeanActivationEndsNearRho() {
        ModelSpec sparse = Model.encoder().dense(64).sigmoid().sparsity(0.05f, 10f).latent(16)
                .decoder().dense(128).relu().dense(784).bernoulli();
        ModelSpec dense = Model.encoder().dense(64).sigmoid().activityL1(1e-9f).latent(16)
                .decoder().dense(128).relu().dense(784).bernoulli();
        double s = mean(watchedActivations(fit(sparse, config(5)).model(), Ops.SparsityKl.class));
        double d = mean(watchedActivations(fit(dense, config(5)).model(), Ops.ActivityL1.class));
        System.out.printf("sparse AE: mean activation of the sparse layer %.4f (rho 0.05); without the penalty %.4f%n", s, d);
        assertEquals(0.05, s, 0.015);
        assertTrue(d > 0.15, "without the penalty the mean activation is " + d);
    }

    @Test
    void contractiveAutoencoderHasTheSmallerJacobian() {
        ModelSpec plain = Model.encoder().latent(32).sigmoid().decoder().dense(784).bernoulli();
        ModelSpec contractive = Model.encoder().latent(32).sigmoid().contractive(50f).decoder().dense(784).bernoulli();
        double jp = jacobianNorm(fit(plain, config(4)).model()), jc = jacobianNorm(fit(contractive, config(4)).model());
        System.out.printf("contractive AE: mean ||dcode/dx||_F^2 on the test images, plain %.3f, contractive %.3f%n", jp, jc);
        assertTrue(jc < 0.5 * jp, jp + " vs " + jc);
    }

    /** Mean over the test images of ||J||_F^2, J = diag(h (1 - h)) W of a one-layer sigmoid encoder, in double. */
    static double jacobianNorm(Autoencoder m) {
        float[][] h = m.encode(testRows);
        ParamSpec w = m.graph().param("latent.weight");
        float[] p = m.parameters();
        double total = 0;
        for (float[] row : h) {
            for (int j = 0; j < row.length; j++) {
                double d = row[j] * (1.0 - row[j]), norm = 0;
                for (int i = 0; i < w.cols(); i++) {
                    double v = p[w.offset() + j * w.cols() + i];
                    norm += v * v;
                }
                total += d * d * norm;
            }
        }
        return total / h.length;
    }

    static final ModelSpec VAE = Model.encoder().dense(128).relu().gaussianLatent(8).decoder().dense(128).relu().dense(784).bernoulli();

    @Test
    void raisingBetaLowersKlAndRaisesReconstruction() {
        float[] betas = {0.5f, 2f, 8f};
        double[] kl = new double[3], recon = new double[3];
        for (int k = 0; k < 3; k++) {
            EpochStats last = last(fit(VAE, config(4).withKlWeight(betas[k])));
            kl[k] = last.validationKl();
            recon[k] = last.validationReconstruction();
        }
        System.out.printf("beta 0.5 / 2 / 8: test KL %.2f / %.2f / %.2f, reconstruction %.2f / %.2f / %.2f%n",
                kl[0], kl[1], kl[2], recon[0], recon[1], recon[2]);
        assertTrue(kl[0] > kl[1] && kl[1] > kl[2], java.util.Arrays.toString(kl));
        assertTrue(recon[0] < recon[1] && recon[1] < recon[2], java.util.Arrays.toString(recon));
    }

    static EpochStats last(Trainer.Result r) {
        return r.history().get(r.history().size() - 1);
    }

    @Test
    void freeBitsKeepEveryDimensionAtItsFloor() {
        TrainingConfig strong = config(4).withKlWeight(8f);
        EpochStats without = last(fit(VAE, strong)), with = last(fit(VAE, strong.withFreeBits(0.5f)));
        System.out.println("beta 8, per-dimension test KL without free bits " + java.util.Arrays.toString(round(without.klPerDimension()))
                + ", with 0.5 nats of free bits " + java.util.Arrays.toString(round(with.klPerDimension())));
        double minWithout = java.util.Arrays.stream(without.klPerDimension()).min().orElseThrow();
        double minWith = java.util.Arrays.stream(with.klPerDimension()).min().orElseThrow();
        assertTrue(minWithout < 0.5, "without free bits some dimension falls below 0.5 nats: " + minWithout);
        assertTrue(minWith >= 0.45, "with free bits every dimension keeps about 0.5 nats: " + minWith);
    }

    static double[] round(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.round(a[i] * 100) / 100.0;
        }
        return r;
    }

    @Test
    void capacityObjectiveHoldsKlNearItsTarget() {
        // beta |KL - C| with C rising to 6 nats over the first half of the run, then held.
        int epochs = 6;
        long steps = (long) epochs * (train.rows() / 100);
        EpochStats st = last(fit(VAE, config(epochs).withKlWeight(20f).withKlSchedule(KlSchedule.capacity(6, steps / 2))));
        System.out.printf("capacity 6 nats, beta 20: training KL %.2f, test KL %.2f%n", st.trainKl(), st.validationKl());
        assertEquals(6, st.trainKl(), 1.0);
    }

    @Test
    void annealingSchedulesFollowTheirClosedForms() {
        KlSchedule lin = KlSchedule.linear(100);
        assertEquals(0f, lin.weight(2f, 0, 1000, 0));
        assertEquals(1f, lin.weight(2f, 50, 1000, 0));
        assertEquals(2f, lin.weight(2f, 100, 1000, 0));
        assertEquals(2f, lin.weight(2f, 900, 1000, 0));
        KlSchedule cyc = KlSchedule.cyclical(4, 0.5);   // cycles of 250 steps, rising over 125
        assertEquals(0f, cyc.weight(1f, 0, 1000, 0));
        assertEquals(0.5f, cyc.weight(1f, 250 + 62, 1000, 0), 0.01f);
        assertEquals(1f, cyc.weight(1f, 125, 1000, 0));
        assertEquals(1f, cyc.weight(1f, 249, 1000, 0));
        assertEquals(0f, cyc.weight(1f, 500, 1000, 0));
        KlSchedule cap = KlSchedule.capacity(10, 100);
        assertEquals(5.0, cap.capacityAt(50), 1e-12);
        assertEquals(3f, cap.weight(3f, 50, 1000, 7.0));
        assertEquals(-3f, cap.weight(3f, 50, 1000, 2.0));
        assertEquals(3 * 2.0, cap.objective(3f, 50, 7.0), 1e-12);
        assertEquals(KlSchedule.cyclical(3, 0.25), KlSchedule.parse("cyclical:3,0.25"));
        assertEquals(KlSchedule.capacity(25, 1000), KlSchedule.parse("capacity:25,1000"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> KlSchedule.parse("linear:ten"));
        assertTrue(e.getMessage().contains("\"linear:ten\""), e.getMessage());
        // In a run: with linear warm-up the first step applies no KL, bitwise a beta-0 step.
        TrainingConfig one = config(1).withOptimizer(OptimizerSpec.sgd(0.05f)).withShuffle(false);
        Dataset first = train.head(100);
        float[] warm = Trainer.fit(VAE, first, null, one.withKlSchedule(KlSchedule.linear(1000)), TrainingListener.NONE).model().parameters();
        float[] zero = Trainer.fit(VAE, first, null, one.withKlWeight(0f), TrainingListener.NONE).model().parameters();
        float[] full = Trainer.fit(VAE, first, null, one, TrainingListener.NONE).model().parameters();
        assertArrayEquals(zero, warm);
        assertTrue(!java.util.Arrays.equals(full, warm));
    }

    @Test
    void lSamplesPerInputAreTheMeanOverRepeatedRows() {
        // L = 3 z samples of each input equals training on the data with each row repeated 3
        // times in place, batch 3x as large (the same rows get the same noise), bitwise.
        Dataset small = train.head(60);
        float[] rep = new float[small.x().length * 3];
        int d = small.features();
        for (int r = 0; r < small.rows(); r++) {
            for (int l = 0; l < 3; l++) {
                System.arraycopy(small.x(), r * d, rep, (r * 3 + l) * d, d);
            }
        }
        Dataset repeated = new Dataset(rep, small.rows() * 3, d, null, "repeated");
        TrainingConfig cfg = config(2).withShuffle(false).withBatchSize(20);
        float[] withL = Trainer.fit(VAE, small, null, cfg.withSamples(3), TrainingListener.NONE).model().parameters();
        float[] byHand = Trainer.fit(VAE, repeated, null, cfg.withBatchSize(60), TrainingListener.NONE).model().parameters();
        assertArrayEquals(byHand, withL);
        float[] withOne = Trainer.fit(VAE, small, null, cfg, TrainingListener.NONE).model().parameters();
        assertTrue(!java.util.Arrays.equals(withOne, withL));
    }

    @Test
    void weightPenaltiesPullWeightsButNotBiases() {
        // One SGD step with an L2 penalty: each weight moves by an extra -lr * l2 * w, biases do not.
        ModelSpec ae = Model.encoder().dense(16).tanh().latent(4).decoder().dense(784).bernoulli();
        Dataset one = train.head(50);
        float lr = 0.1f, l2 = 0.5f;
        TrainingConfig cfg = config(1).withOptimizer(OptimizerSpec.sgd(lr)).withShuffle(false).withBatchSize(50);
        Autoencoder plain = Trainer.fit(ae, one, null, cfg, TrainingListener.NONE).model();
        Autoencoder pen = Trainer.fit(ae, one, null, cfg.withWeightPenalties(0f, l2), TrainingListener.NONE).model();
        float[] w0 = Trainer.initialParams(plain.graph(), cfg.seed());
        for (ParamSpec p : plain.graph().params().values()) {
            for (int i = p.offset(); i < p.offset() + p.size(); i++) {
                float expected = p.name().endsWith(".weight") ? plain.parameters()[i] - lr * l2 * w0[i] : plain.parameters()[i];
                assertEquals(expected, pen.parameters()[i], 1e-6f, p.name());
            }
        }
        // L1: each weight moves by an extra -lr * l1 * sign(w), biases do not.
        float l1 = 0.01f;
        Autoencoder lasso = Trainer.fit(ae, one, null, cfg.withWeightPenalties(l1, 0f), TrainingListener.NONE).model();
        int moved = 0;
        for (ParamSpec p : plain.graph().params().values()) {
            for (int i = p.offset(); i < p.offset() + p.size(); i++) {
                boolean weight = p.name().endsWith(".weight");
                float expected = weight ? plain.parameters()[i] - lr * l1 * Math.signum(w0[i]) : plain.parameters()[i];
                assertEquals(expected, lasso.parameters()[i], 1e-6f, p.name());
                moved += weight && w0[i] != 0 ? 1 : 0;
            }
        }
        assertTrue(moved > 1000, moved + " weights");
    }

    @Test
    void conditionalVaeSamplesLookLikeTheirClass() {
        // A CVAE with a 2-d code (the class comes from the condition, the code keeps the style).
        // Each of 50 samples per class is matched to the nearest test-class mean image; the
        // class asked for must win the vote for at least 9 of the 10 classes, and take at least
        // twice the chance share (20 %) of the samples for every class.
        ModelSpec cvae = Model.encoder().conditionedOn(10).dense(256).relu().gaussianLatent(2)
                .decoder().dense(256).relu().dense(784).bernoulli();
        Autoencoder m = fit(cvae, config(8)).model();
        double[][] classMean = new double[10][784];
        int[] count = new int[10];
        for (int r = 0; r < test.rows(); r++) {
            count[test.labels()[r]]++;
        }
        for (int r = 0; r < test.rows(); r++) {
            int c = test.labels()[r];
            for (int j = 0; j < 784; j++) {
                classMean[c][j] += testRows[r][j] / count[c];
            }
        }
        int wins = 0;
        StringBuilder report = new StringBuilder();
        for (int k = 0; k < 10; k++) {
            float[] onehot = new float[10];
            onehot[k] = 1f;
            int[] votes = new int[10];
            for (float[] sample : m.sample(50, 7 + k, onehot)) {
                double[] img = new double[784];
                for (int j = 0; j < 784; j++) {
                    img[j] = sample[j];
                }
                int best = 0;
                for (int c = 1; c < 10; c++) {
                    if (correlation(img, classMean[c]) > correlation(img, classMean[best])) {
                        best = c;
                    }
                }
                votes[best]++;
            }
            int top = 0;
            for (int c = 1; c < 10; c++) {
                top = votes[c] > votes[top] ? c : top;
            }
            wins += top == k ? 1 : 0;
            report.append(FashionMnist.CLASSES[k]).append(": ").append(votes[k] * 2).append("% own");
            report.append(top == k ? "" : ", most like " + FashionMnist.CLASSES[top]).append("; ");
            assertTrue(votes[k] >= 10, "class " + k + " gets its own class for only " + votes[k] + " of 50 samples: " + report);
        }
        System.out.println("CVAE samples nearest to their own class mean (correlation): " + report);
        assertTrue(wins >= 9, report.toString());
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> m.sample(3, 1));
        assertTrue(e.getMessage().contains("conditional"), e.getMessage());
    }

    /**
     * Pearson correlation of two images: "closer" in shape, leaving out overall brightness (the
     * decoded means of prior samples are fainter than the data for any VAE, a known bias that
     * would make the faintest class mean nearest to every sample mean in Euclidean distance).
     */
    static double correlation(double[] a, double[] b) {
        double ma = 0, mb = 0;
        for (int j = 0; j < a.length; j++) {
            ma += a[j] / a.length;
            mb += b[j] / b.length;
        }
        double sab = 0, saa = 0, sbb = 0;
        for (int j = 0; j < a.length; j++) {
            sab += (a[j] - ma) * (b[j] - mb);
            saa += (a[j] - ma) * (a[j] - ma);
            sbb += (b[j] - mb) * (b[j] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    @Test
    void klPerDimensionActiveUnitsAndTheCollapseWarning() {
        EpochStats ok = last(fit(VAE, config(3)));
        double sum = java.util.Arrays.stream(ok.klPerDimension()).sum();
        assertEquals(ok.validationKl(), sum, 1e-6 * Math.abs(sum) + 1e-9, "the dimensions' KL add up to the KL");
        assertTrue(ok.activeUnits() >= 4, "active units " + ok.activeUnits());
        assertNull(ok.collapseWarning());
        EpochStats collapsed = last(fit(VAE, config(3).withKlWeight(200f)));
        System.out.println("beta 200: " + collapsed.collapseWarning() + "; active units " + collapsed.activeUnits());
        assertNotNull(collapsed.collapseWarning());
        assertTrue(collapsed.collapseWarning().contains("posterior collapse"));
        assertEquals(0, collapsed.activeUnits());
    }
}
