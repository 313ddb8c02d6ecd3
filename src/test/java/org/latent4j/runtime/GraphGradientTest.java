package org.latent4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.latent4j.dsl.LayerSpec;
import org.latent4j.dsl.LikelihoodSpec;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Plan;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;

/**
 * The compiled training plan against an independent double-precision forward of the same
 * model (written here from the spec), and its gradients against central finite differences of
 * that reference.
 */
class GraphGradientTest {
    static final long SEED = 17;
    static final long STREAM = 3;

    /** Independent reference: loss = mean_b (recon_b + klWeight * kl_b) in double. */
    static double referenceLoss(Graph g, double[] p, float[] x, int batch, float[] eps, float klWeight) {
        ModelSpec spec = g.spec();
        int d = spec.inputDim();
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double[] h = new double[d];
            for (int j = 0; j < d; j++) {
                h[j] = x[b * d + j];
            }
            h = layers(g, p, h, spec.encoder(), "encoder");
            int zd = spec.latent().dim();
            double[] z;
            double kl = 0;
            if (spec.isVariational()) {
                double[] mu = dense(g, p, h, "fc_mu"), lv = dense(g, p, h, "fc_logvar");
                z = new double[zd];
                for (int j = 0; j < zd; j++) {
                    z[j] = mu[j] + Math.exp(0.5 * lv[j]) * eps[b * zd + j];
                    kl += 0.5 * (mu[j] * mu[j] + Math.exp(lv[j]) - 1 - lv[j]);
                }
            } else {
                z = dense(g, p, h, "latent");
            }
            double[] out = layers(g, p, z, spec.decoder(), "decoder");
            double recon = 0;
            for (int j = 0; j < d; j++) {
                double t = x[b * d + j], o = out[j];
                recon += switch (spec.likelihood()) {
                    case LikelihoodSpec.Bernoulli _ -> Math.max(o, 0) - o * t + Math.log1p(Math.exp(-Math.abs(o)));
                    case LikelihoodSpec.GaussianFixed gf -> {
                        double var = gf.variance();
                        yield (o - t) * (o - t) / (2 * var) + 0.5 * Math.log(2 * Math.PI * var);
                    }
                    case LikelihoodSpec.GaussianLearned _ -> {
                        double lv = p[g.param("decoder_logvar").offset() + j];
                        yield 0.5 * ((o - t) * (o - t) * Math.exp(-lv) + lv + Math.log(2 * Math.PI));
                    }
                    case LikelihoodSpec.GaussianLearnedGlobal _, LikelihoodSpec.Huber _ -> throw new UnsupportedOperationException("checked by LayerGradientTest");
                };
            }
            total += recon + klWeight * kl;
        }
        return total / batch;
    }

    static double[] layers(Graph g, double[] p, double[] h, List<LayerSpec> layers, String prefix) {
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            if (l instanceof LayerSpec.Dense) {
                h = dense(g, p, h, prefix + "." + i);
            } else {
                LayerSpec.ActivationLayer act = (LayerSpec.ActivationLayer) l;
                double[] y = new double[h.length];
                for (int j = 0; j < h.length; j++) {
                    double v = h[j], a = act.parameter();
                    y[j] = switch (act.activation()) {
                        case IDENTITY -> v;
                        case RELU -> Math.max(v, 0);
                        case LEAKY_RELU -> v > 0 ? v : a * v;
                        case ELU -> v > 0 ? v : a * (Math.exp(v) - 1);
                        case TANH -> Math.tanh(v);
                        case SIGMOID -> 1 / (1 + Math.exp(-v));
                        case SOFTPLUS -> Math.log1p(Math.exp(v));
                        case EXP -> Math.exp(v);
                        case LOG -> Math.log(v);
                    };
                }
                h = y;
            }
        }
        return h;
    }

    static double[] dense(Graph g, double[] p, double[] x, String prefix) {
        ParamSpec w = g.param(prefix + ".weight"), bias = g.param(prefix + ".bias");
        double[] y = new double[w.rows()];
        for (int o = 0; o < w.rows(); o++) {
            double s = p[bias.offset() + o];
            for (int i = 0; i < w.cols(); i++) {
                s += p[w.offset() + o * w.cols() + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    record Setup(Graph graph, float[] params, float[] x, int batch) {}

    static Setup setup(ModelSpec spec, int batch, long seed) {
        Graph g = Graph.build(spec);
        SplittableRandom r = new SplittableRandom(seed);
        float[] params = new float[g.paramCount()];
        for (int i = 0; i < params.length; i++) {
            params[i] = (float) (r.nextDouble() - 0.5);
        }
        float[] x = new float[batch * spec.inputDim()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        return new Setup(g, params, x, batch);
    }

    static float[] runPlan(Graph g, Setup s, float[] grads, float klWeight, Parallelism par) {
        Plan plan = Planner.training(g);
        Executor ex = new Executor(plan, par, s.batch() + 3);
        ex.load(g.input, s.x(), 0, s.batch());
        ex.run(s.params(), grads, s.batch(), SEED, STREAM, klWeight);
        float[] recon = ex.value(g.recon);
        double loss = 0;
        for (int b = 0; b < s.batch(); b++) {
            loss += recon[b] + (g.kl >= 0 ? klWeight * ex.value(g.kl)[b] : 0);
        }
        return new float[] {(float) (loss / s.batch())};
    }

    static void checkGradients(ModelSpec spec, float klWeight) {
        int batch = 5;
        Setup s = setup(spec, batch, 99);
        Graph g = s.graph().fuse();
        int zd = spec.latent().dim();
        float[] eps = new float[batch * zd];
        Philox.fillNormal(eps, 0, eps.length, SEED, STREAM, 0);
        float[] grads = new float[g.paramCount()];
        float loss = runPlan(g, s, grads, klWeight, Parallelism.serial())[0];
        double[] p = new double[s.params().length];
        for (int i = 0; i < p.length; i++) {
            p[i] = s.params()[i];
        }
        double ref = referenceLoss(g, p, s.x(), batch, eps, klWeight);
        assertEquals(ref, loss, 1e-5 * Math.abs(ref) + 1e-5, "forward loss of " + spec.toJson());
        double h = 1e-6;
        for (int i = 0; i < p.length; i++) {
            double keep = p[i];
            p[i] = keep + h;
            double up = referenceLoss(g, p, s.x(), batch, eps, klWeight);
            p[i] = keep - h;
            double down = referenceLoss(g, p, s.x(), batch, eps, klWeight);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            String name = paramAt(g, i);
            assertEquals(fd, grads[i], 2e-3 * Math.abs(fd) + 2e-5, "d loss / d " + name + " (arena index " + i + ")");
        }
    }

    static String paramAt(Graph g, int i) {
        for (ParamSpec ps : g.params().values()) {
            if (i >= ps.offset() && i < ps.offset() + ps.size()) {
                return ps.name() + "[" + (i - ps.offset()) + "]";
            }
        }
        return "?";
    }

    @Test
    void vaeWithBernoulliLikelihood() {
        checkGradients(Model.encoder(7).dense(5).tanh().dense(4).softplus().gaussianLatent(3)
                .decoder().dense(6).elu(1.1f).dense(7).bernoulli(), 1f);
    }

    @Test
    void betaVaeWithGaussianLikelihoods() {
        checkGradients(Model.encoder(6).dense(5).sigmoid().gaussianLatent(2)
                .decoder().dense(4).leakyRelu(0.1f).dense(6).gaussian(0.5f), 2.5f);
        checkGradients(Model.encoder(6).dense(5).tanh().gaussianLatent(2)
                .decoder().dense(6).gaussianLearnedVariance(), 1f);
    }

    @Test
    void deterministicAutoencoder() {
        checkGradients(Model.encoder(6).dense(4).tanh().latent(2)
                .decoder().dense(4).tanh().dense(6).gaussian(), 0f);
    }

    @Test
    void wholeW1LossOnATinyBatch() {
        // The W1 VAE itself (1.09M parameters), batch 2: forward against the double reference, and
        // the gradient of 8 parameters drawn from each of its 14 tensors against central differences.
        ModelSpec w1 = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
                .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
        int batch = 2;
        Setup s = setup(w1, batch, 4);
        Graph g = s.graph().fuse();
        float[] params = org.latent4j.train.Trainer.initialParams(g, 11);
        System.arraycopy(params, 0, s.params(), 0, params.length);
        float[] eps = new float[batch * 32];
        Philox.fillNormal(eps, 0, eps.length, SEED, STREAM, 0);
        float[] grads = new float[g.paramCount()];
        float loss = runPlan(g, s, grads, 1f, Parallelism.serial())[0];
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        double ref = referenceLoss(g, p, s.x(), batch, eps, 1f);
        assertEquals(ref, loss, 1e-5 * Math.abs(ref), "W1 loss");
        SplittableRandom r = new SplittableRandom(12);
        int checked = 0;
        for (ParamSpec ps : g.params().values()) {
            for (int t = 0; t < 8; t++) {
                int i = ps.offset() + r.nextInt(ps.size());
                double h = 1e-4, keep = p[i];
                p[i] = keep + h;
                double up = referenceLoss(g, p, s.x(), batch, eps, 1f);
                p[i] = keep - h;
                double down = referenceLoss(g, p, s.x(), batch, eps, 1f);
                p[i] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, grads[i], 2e-3 * Math.abs(fd) + 2e-4, "d W1 loss / d " + paramAt(g, i));
                checked++;
            }
        }
        assertEquals(8 * g.params().size(), checked);
    }

    @Test
    void fusedAndUnfusedPlansAgree() {
        ModelSpec spec = Model.encoder(9).dense(8).relu().gaussianLatent(3).decoder().dense(8).relu().dense(9).bernoulli();
        Setup s = setup(spec, 6, 5);
        Graph plain = s.graph();
        Graph fused = plain.fuse();
        assertTrue(plain.nodes().stream().noneMatch(n -> n.op() instanceof Ops.Dense));
        assertTrue(fused.nodes().stream().noneMatch(n -> n.op() instanceof Ops.MatMul || n.op() instanceof Ops.BiasAdd));
        assertTrue(fused.nodes().size() < plain.nodes().size());
        float[] g1 = new float[plain.paramCount()], g2 = new float[plain.paramCount()];
        float l1 = runPlan(plain, s, g1, 1f, Parallelism.serial())[0];
        float l2 = runPlan(fused, s, g2, 1f, Parallelism.serial())[0];
        assertEquals(l1, l2);
        assertArrayEquals(g1, g2);
    }

    @Test
    void sameGradientsBitwiseForOneTwoAndThreeThreads() {
        ModelSpec spec = Model.encoder(40).dense(64).relu().gaussianLatent(8).decoder().dense(64).relu().dense(40).bernoulli();
        Setup s = setup(spec, 37, 8);
        Graph g = s.graph().fuse();
        float[] g1 = new float[g.paramCount()], g2 = new float[g.paramCount()], g3 = new float[g.paramCount()];
        runPlan(g, s, g1, 1f, Parallelism.serial());
        try (Parallelism two = Parallelism.of(2); Parallelism three = Parallelism.of(3)) {
            runPlan(g, s, g2, 1f, two);
            runPlan(g, s, g3, 1f, three);
        }
        assertArrayEquals(g1, g2);
        assertArrayEquals(g1, g3);
    }

    @Test
    void shapeErrorsNameTheLayerAndBothShapes() {
        ModelSpec bad = Model.encoder(784).dense(32).relu().gaussianLatent(4).decoder().dense(783).bernoulli();
        var e = assertThrows(IllegalArgumentException.class, () -> Graph.build(bad));
        assertTrue(e.getMessage().contains("decoder output has 783 features but the input has 784"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LikelihoodSpec.GaussianFixed(0f));
    }

    @Test
    void planReusesBuffers() {
        ModelSpec spec = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
                .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
        Graph g = Graph.build(spec).fuse();
        Plan p = Planner.training(g);
        long naive = 0;
        for (var n : g.nodes()) {
            naive += 2L * n.width();
        }
        assertTrue(p.floatsPerSample() < naive, "planned " + p.floatsPerSample() + " floats per sample, no reuse would be " + naive);
    }
}
