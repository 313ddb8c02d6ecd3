package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.model.Rbm;

/**
 * RBMs: a CD-1 step against a double twin drawing the same numbers, free energies against
 * enumeration over the hidden states, CD-1 and PCD on data drawn exactly from a known RBM
 * (log-likelihood by enumeration), thread-count determinism, and RBM pretraining of a deep
 * autoencoder (Hinton and Salakhutdinov) against a random start.
 */
class RbmTest {
    static double sigmoid(double a) {
        return 1 / (1 + Math.exp(-a));
    }

    static Rbm randomRbm(Rbm.Kind kind, int v, int h, long seed, float scale) {
        float[] p = new float[v * h + v + h];
        Philox.fillNormal(p, 0, p.length, seed, 5, 0);
        for (int i = 0; i < p.length; i++) {
            p[i] *= scale;
        }
        return new Rbm(kind, v, h, p);
    }

    /** One CD-1 step of Hinton's recipe in double, drawing the same uniforms / normals as the trainer. */
    static float[] cd1Twin(Rbm rbm, float[] x, int[] rows, long seed, long step, RbmTrainer.Config c) {
        int v = rbm.visible(), h = rbm.hidden(), n = rows.length;
        float[] p = rbm.parameters();
        double[] grad = new double[p.length];
        long stream = RbmTrainer.STREAM + step * 2048;
        for (int r = 0; r < n; r++) {
            double[] v0 = new double[v];
            for (int i = 0; i < v; i++) {
                v0[i] = x[rows[r] * v + i];
            }
            double[] p0 = new double[h], h0 = new double[h];
            for (int j = 0; j < h; j++) {
                double a = p[rbm.hiddenBias() + j];
                for (int i = 0; i < v; i++) {
                    a += p[j * v + i] * v0[i];
                }
                float[] u = new float[1];
                if (rbm.kind() == Rbm.Kind.BERNOULLI_BERNOULLI) {
                    p0[j] = sigmoid(a);
                    Philox.fillUniform(u, 0, 1, seed, stream, (long) r * h + j);
                    h0[j] = u[0] < (float) p0[j] ? 1 : 0;
                } else {
                    p0[j] = a;
                    Philox.fillNormal(u, 0, 1, seed, stream, (long) r * h + j);
                    h0[j] = a + u[0];
                }
            }
            double[] v1 = new double[v];
            for (int i = 0; i < v; i++) {
                double a = p[rbm.visibleBias() + i];
                for (int j = 0; j < h; j++) {
                    a += p[j * v + i] * h0[j];
                }
                v1[i] = sigmoid(a);
            }
            double[] p1 = new double[h];
            for (int j = 0; j < h; j++) {
                double a = p[rbm.hiddenBias() + j];
                for (int i = 0; i < v; i++) {
                    a += p[j * v + i] * v1[i];
                }
                p1[j] = rbm.kind() == Rbm.Kind.BERNOULLI_BERNOULLI ? sigmoid(a) : a;
            }
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < v; i++) {
                    grad[j * v + i] += (p0[j] * v0[i] - p1[j] * v1[i]) / n;
                }
                grad[rbm.hiddenBias() + j] += (p0[j] - p1[j]) / n;
            }
            for (int i = 0; i < v; i++) {
                grad[rbm.visibleBias() + i] += (v0[i] - v1[i]) / n;
            }
        }
        float[] out = p.clone();
        for (int i = 0; i < p.length; i++) {
            double g = i < v * h ? grad[i] - c.weightCost() * p[i] : grad[i];
            out[i] = (float) (p[i] + c.learningRate() * g);   // the increment starts at 0, so momentum does not enter the first step
        }
        return out;
    }

    @Test
    void aCd1StepIsHintonsRecipeComputedInDouble() {
        for (Rbm.Kind kind : Rbm.Kind.values()) {
            Rbm rbm = randomRbm(kind, 5, 3, 2, 0.7f);
            float[] x = new float[4 * 5];
            Philox.fillUniform(x, 0, x.length, 3, 1, 0);
            Dataset data = new Dataset(x, 4, 5, null, "uniform");
            RbmTrainer.Config c = RbmTrainer.Config.hinton(kind, 1).withBatchSize(4).withLearningRate(0.3f).withSeed(9);
            try (Parallelism par = Parallelism.of(1)) {
                RbmTrainer.Loop loop = new RbmTrainer.Loop(rbm, data, c, par);
                int[] rows = {2, 0, 3, 1};
                System.arraycopy(rows, 0, loop.order, 0, 4);
                float[] want = cd1Twin(rbm, x, rows, 9, 6, c);
                double err = loop.step(0, 4, 6, 0.5f);
                assertTrue(err > 0);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], rbm.parameters()[i], 2e-6, kind + " parameter " + i);
                }
                // A second step adds momentum times the first increment.
                float[] firstInc = loop.inc.clone();
                Rbm twin = rbm.copy();
                float[] plain = cd1Twin(twin, x, rows, 9, 7, c);
                loop.step(0, 4, 7, 0.9f);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(plain[i] + 0.9f * firstInc[i], rbm.parameters()[i], 2e-6, kind + " second step, parameter " + i);
                }
            }
        }
    }

    @Test
    void theBatchedMeanFreeEnergyIsTheDoubleDefinition() {
        for (Rbm.Kind kind : Rbm.Kind.values()) {
            Rbm rbm = randomRbm(kind, 37, 23, 5, 0.5f);
            int rows = 600;   // three chunks of 256, the last one short
            float[] x = new float[rows * 37];
            java.util.Random rnd = new java.util.Random(3);
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextFloat();
            }
            double exact = rbm.meanFreeEnergy(x, rows);
            try (org.latent4j.kernel.Parallelism par = org.latent4j.kernel.Parallelism.of(2)) {
                double batched = rbm.meanFreeEnergy(new org.latent4j.kernel.Gemm(par), x, rows);
                assertEquals(exact, batched, 1e-5 * Math.abs(exact), kind.name());
            }
        }
    }

    @Test
    void freeEnergyEqualsMinusLogSumOverHiddenStatesAndTheLikelihoodIsNormalized() {
        Rbm rbm = randomRbm(Rbm.Kind.BERNOULLI_BERNOULLI, 6, 4, 7, 1f);
        float[] v = {1, 0, 1, 1, 0, 0};
        double[] e = new double[16];
        float[] p = rbm.parameters();
        for (int code = 0; code < 16; code++) {
            double s = 0;
            for (int i = 0; i < 6; i++) {
                s += p[rbm.visibleBias() + i] * v[i];
            }
            for (int j = 0; j < 4; j++) {
                int hj = (code >> j) & 1;
                double a = p[rbm.hiddenBias() + j];
                for (int i = 0; i < 6; i++) {
                    a += p[j * 6 + i] * v[i];
                }
                s += hj * a;
            }
            e[code] = s;   // -E(v, h)
        }
        assertEquals(-org.latent4j.kernel.Bernoulli.logSumExp(e, 0, 16), rbm.freeEnergy(v, 0), 1e-9);
        // sum over all 64 visible vectors of p(v) = 1
        double logZ = rbm.exactLogPartition(), total = 0;
        float[] all = new float[6];
        for (int code = 0; code < 64; code++) {
            for (int i = 0; i < 6; i++) {
                all[i] = (code >> i) & 1;
            }
            total += Math.exp(-rbm.freeEnergy(all, 0) - logZ);
        }
        assertEquals(1.0, total, 1e-9);
        // Gaussian hidden units: F(v) = -b.v - sum (c + W v)^2 / 2 equals -log of the integral over h, here by the
        // trapezoid rule for one hidden unit.
        Rbm g = randomRbm(Rbm.Kind.BERNOULLI_GAUSSIAN, 3, 1, 8, 0.8f);
        float[] gv = {1, 1, 0};
        float[] q = g.parameters();
        double bv = q[g.visibleBias()] + q[g.visibleBias() + 1], a = q[g.hiddenBias()] + q[0] + q[1];
        double integral = 0, dh = 1e-3;
        for (double hh = -30; hh <= 30; hh += dh) {
            integral += Math.exp(bv + a * hh - hh * hh / 2) * dh;
        }
        assertEquals(-Math.log(integral) + 0.5 * Math.log(2 * Math.PI), g.freeEnergy(gv, 0), 1e-6, "Gaussian hidden free energy");
    }

    /** n rows drawn exactly from the RBM's p(v) (inverse CDF over all 2^visible vectors). */
    static Dataset exactSamples(Rbm rbm, int n, long seed) {
        int v = rbm.visible(), states = 1 << v;
        double logZ = rbm.exactLogPartition();
        double[] cdf = new double[states];
        float[] row = new float[v];
        double acc = 0;
        for (int code = 0; code < states; code++) {
            for (int i = 0; i < v; i++) {
                row[i] = (code >> i) & 1;
            }
            acc += Math.exp(-rbm.freeEnergy(row, 0) - logZ);
            cdf[code] = acc;
        }
        float[] u = new float[n], x = new float[n * v];
        Philox.fillUniform(u, 0, n, seed, 2, 0);
        for (int r = 0; r < n; r++) {
            int code = 0;
            while (code < states - 1 && cdf[code] < u[r]) {
                code++;
            }
            for (int i = 0; i < v; i++) {
                x[r * v + i] = (code >> i) & 1;
            }
        }
        return new Dataset(x, n, v, null, "samples of a known RBM");
    }

    @Test
    void cd1AndPcdOnDataFromAKnownRbmRaiseTheExactLikelihoodTowardsTheTeachers() {
        Rbm teacher = randomRbm(Rbm.Kind.BERNOULLI_BERNOULLI, 10, 4, 31, 1.5f);
        Dataset data = exactSamples(teacher, 3000, 4);
        double truth = teacher.exactMeanLogLikelihood(data.x(), data.rows());
        Rbm start = Rbm.initial(Rbm.Kind.BERNOULLI_BERNOULLI, 10, 4, 1);
        double initial = start.exactMeanLogLikelihood(data.x(), data.rows());
        for (boolean pcd : new boolean[] {false, true}) {
            RbmTrainer.Config c = RbmTrainer.Config.hinton(Rbm.Kind.BERNOULLI_BERNOULLI, 30).withBatchSize(20).withLearningRate(0.05f)
                    .withGibbs(1, pcd);
            RbmTrainer.Result r = RbmTrainer.fit(start, data, null, c, null);
            double learned = r.rbm().exactMeanLogLikelihood(data.x(), data.rows());
            System.out.printf("RBM %s: exact mean log-likelihood initial %.4f, learned %.4f, teacher %.4f%n", pcd ? "PCD-1" : "CD-1",
                    initial, learned, truth);
            assertTrue(learned > initial + 0.5, (pcd ? "PCD" : "CD-1") + " improves the likelihood: " + initial + " -> " + learned);
            assertTrue(learned > truth - 0.3, "and comes within 0.3 nats of the teacher's " + truth + ": " + learned);
            List<RbmTrainer.Epoch> h = r.history();
            assertTrue(h.get(h.size() - 1).reconstructionError() < h.get(0).reconstructionError(), "reconstruction error falls");
        }
        assertArrayEquals(Rbm.initial(Rbm.Kind.BERNOULLI_BERNOULLI, 10, 4, 1).parameters(), start.parameters(), "the start is not changed");
    }

    @Test
    void rbmTrainingIsBitwiseTheSameForOneAndTwoThreads() {
        float[] x = new float[200 * 96];
        Philox.fillUniform(x, 0, x.length, 1, 1, 0);
        Dataset data = new Dataset(x, 200, 96, null, "uniform");
        for (Rbm.Kind kind : Rbm.Kind.values()) {
            for (boolean pcd : new boolean[] {false, true}) {
                RbmTrainer.Config c = RbmTrainer.Config.hinton(kind, 2).withBatchSize(50).withGibbs(2, pcd);
                float[] one = RbmTrainer.fit(kind, 72, data, null, c, null).rbm().parameters();
                float[] two = RbmTrainer.fit(kind, 72, data, null, c.withThreads(2), null).rbm().parameters();
                assertArrayEquals(one, two, kind + (pcd ? " PCD" : " CD"));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RbmTrainer.fit(Rbm.Kind.BERNOULLI_BERNOULLI, 4,
                new Dataset(new float[] {0.5f, -1f}, 1, 2, null, "bad.csv"), null, RbmTrainer.Config.hinton(Rbm.Kind.BERNOULLI_BERNOULLI, 1), null));
        assertTrue(e.getMessage().contains("bad.csv: row 0, column 1 is -1.0"), e.getMessage());
    }

    static final ModelSpec DEEP = Model.encoder(784).dense(128).sigmoid().dense(32).sigmoid().latent(8)
            .decoder().dense(32).sigmoid().dense(128).sigmoid().dense(784).bernoulli();

    @Test
    void rbmPretrainingUnrollsIntoTheAutoencoderAndFineTuningStartsFromALowerLoss() {
        Dataset train = FashionMnist.bundledTrain(), test = FashionMnist.bundledTest();
        RbmTrainer.Config c = RbmTrainer.Config.hinton(Rbm.Kind.BERNOULLI_BERNOULLI, 3).withThreads(2);
        StackedPretraining.Pretrained p = StackedPretraining.pretrainRbm(DEEP, train, c, null);
        assertEquals(3, p.stages().size());
        assertTrue(p.stages().get(2).description().startsWith("Gaussian-hidden RBM 32 -> 8 into latent and decoder.0"),
                p.stages().get(2).description());
        Graph g = Graph.build(DEEP).fuse();
        // The first RBM, trained alone with the same recipe and seed, is the encoder's first layer and, transposed, the decoder's last.
        Rbm first = RbmTrainer.fit(Rbm.Kind.BERNOULLI_BERNOULLI, 128, train, null, c.withSeed(c.seed() + 1), null).rbm();
        ParamSpec e0 = g.param("encoder.0.weight"), d4 = g.param("decoder.4.weight"), d4b = g.param("decoder.4.bias");
        assertArrayEquals(java.util.Arrays.copyOfRange(first.parameters(), 0, 128 * 784),
                java.util.Arrays.copyOfRange(p.params(), e0.offset(), e0.offset() + e0.size()));
        assertEquals(first.parameters()[5 * 784 + 300], p.params()[d4.offset() + 300 * 128 + 5], "decoder.4.weight[300][5] = W[5][300]");
        assertEquals(first.parameters()[first.visibleBias() + 17], p.params()[d4b.offset() + 17]);
        double random = StackedPretrainingTest.loss(DEEP, Trainer.initialParams(g, c.seed()), test);
        double pretrained = StackedPretrainingTest.loss(DEEP, p.params(), test);
        TrainingConfig tune = StackedPretrainingTest.config(1);
        double tuned = StackedPretrainingTest.loss(DEEP,
                Trainer.fit(DEEP, train, test, tune, TrainingListener.NONE, null, null, p.params()).model().parameters(), test);
        double scratch = StackedPretrainingTest.loss(DEEP, Trainer.fit(DEEP, train, test, tune, TrainingListener.NONE).model().parameters(), test);
        System.out.printf("RBM stack: test reconstruction loss random %.2f, RBM-pretrained %.2f, fine-tuned 1 epoch %.2f, from scratch 1 epoch %.2f%n",
                random, pretrained, tuned, scratch);
        assertTrue(pretrained < random - 100, "the unrolled RBMs already reconstruct: " + pretrained + " vs random " + random);
        assertTrue(tuned < pretrained, "fine-tuning improves on them");
        assertTrue(tuned < scratch, "and is ahead of the random start after the same epoch");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StackedPretraining.pretrainRbm(
                Model.encoder(784).dense(32).relu().latent(8).decoder().dense(32).relu().dense(784).bernoulli(), train, c, null));
        assertTrue(e.getMessage().contains("encoder.0 dense(32) must be followed by sigmoid(), not relu"), e.getMessage());
    }
}
