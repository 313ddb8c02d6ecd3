package org.latent4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.latent4j.dsl.LayerSpec;
import org.latent4j.dsl.LatentSpec;
import org.latent4j.dsl.LikelihoodSpec;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;

/**
 * The layers beyond dense and activation (training noise, dropout, sparsity, activity L1 and
 * contractive penalties, log-variance clamp, Huber loss, one learned variance, conditions)
 * against an independent batch-wise double-precision reference of the whole training objective
 * written here from the spec, and every parameter's gradient against central differences of it.
 */
class LayerGradientTest {
    static final long SEED = 23;
    static final long STREAM = 5;

    /** The objective: mean over rows of (reconstruction + klWeight KL + per-row penalties) + batch penalties. */
    static double reference(Graph g, double[] p, float[] x, float[] c, int batch, float klWeight) {
        ModelSpec spec = g.spec();
        int d = spec.inputDim(), cd = spec.conditionDim();
        double[] penalty = {0};
        int[] noiseLayer = {0};
        // A conditional model's opening noise layers corrupt the input alone; then the condition is joined.
        int lead = 0;
        while (cd > 0 && lead < spec.encoder().size() && spec.encoder().get(lead).isNoise()) {
            lead++;
        }
        double[][] h = new double[batch][];
        for (int b = 0; b < batch; b++) {
            h[b] = new double[d];
            for (int j = 0; j < d; j++) {
                h[b][j] = x[b * d + j];
            }
        }
        h = layers(g, p, h, spec.encoder().subList(0, lead), "encoder", penalty, noiseLayer);
        for (int b = 0; b < batch; b++) {
            h[b] = java.util.Arrays.copyOf(h[b], d + cd);
            for (int j = 0; j < cd; j++) {
                h[b][d + j] = c[b * cd + j];
            }
        }
        h = layers(g, p, h, spec.encoder(), "encoder", penalty, noiseLayer, lead);
        int zd = spec.latent().dim();
        double[][] z = new double[batch][];
        double[] kl = new double[batch];
        if (spec.isVariational()) {
            float[] eps = new float[batch * zd];
            Philox.fillNormal(eps, 0, eps.length, SEED, STREAM, 0);
            for (int b = 0; b < batch; b++) {
                double[] mu = GraphGradientTest.dense(g, p, h[b], "fc_mu"), lv = GraphGradientTest.dense(g, p, h[b], "fc_logvar");
                z[b] = new double[zd + cd];
                for (int j = 0; j < zd; j++) {
                    LatentSpec.Gaussian gl = (LatentSpec.Gaussian) spec.latent();
                    double v = Math.min(Math.max(lv[j], gl.logvarMin()), gl.logvarMax());
                    z[b][j] = mu[j] + Math.exp(0.5 * v) * eps[b * zd + j];
                    kl[b] += 0.5 * (mu[j] * mu[j] + Math.exp(v) - 1 - v);
                }
            }
        } else {
            ParamSpec w = g.param("latent.weight");
            LatentSpec.Deterministic det = (LatentSpec.Deterministic) spec.latent();
            for (int b = 0; b < batch; b++) {
                double[] code = GraphGradientTest.dense(g, p, h[b], "latent");
                z[b] = new double[zd + cd];
                for (int j = 0; j < zd; j++) {
                    double a = code[j], y, dy;
                    switch (det.activation()) {
                        case TANH -> { y = Math.tanh(a); dy = 1 - y * y; }
                        case SIGMOID -> { y = 1 / (1 + Math.exp(-a)); dy = y * (1 - y); }
                        default -> { y = a; dy = 1; }
                    }
                    z[b][j] = y;
                    double norm = 0;
                    for (int i = 0; i < w.cols(); i++) {
                        norm += p[w.offset() + j * w.cols() + i] * p[w.offset() + j * w.cols() + i];
                    }
                    penalty[0] += det.contractive() * dy * dy * norm / batch;
                }
            }
        }
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < cd; j++) {
                z[b][zd + j] = c[b * cd + j];
            }
        }
        double[][] out = layers(g, p, z, spec.decoder(), "decoder", penalty, noiseLayer);
        double total = 0;
        LikelihoodSpec lik = spec.likelihood();
        for (int b = 0; b < batch; b++) {
            double recon = 0;
            for (int j = 0; j < d; j++) {
                double t = x[b * d + j], o = out[b][j];
                recon += switch (lik) {
                    case LikelihoodSpec.Bernoulli _ -> Math.max(o, 0) - o * t + Math.log1p(Math.exp(-Math.abs(o)));
                    case LikelihoodSpec.GaussianFixed gf -> (o - t) * (o - t) / (2 * gf.variance()) + 0.5 * Math.log(2 * Math.PI * gf.variance());
                    case LikelihoodSpec.GaussianLearned _, LikelihoodSpec.GaussianLearnedGlobal _ -> {
                        ParamSpec lvp = g.param("decoder_logvar");
                        double lv = p[lvp.offset() + (lvp.rows() == 1 ? 0 : j)];
                        yield 0.5 * ((o - t) * (o - t) * Math.exp(-lv) + lv + Math.log(2 * Math.PI));
                    }
                    case LikelihoodSpec.Huber hu -> {
                        double e = Math.abs(o - t), delta = hu.delta();
                        yield e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
                    }
                };
            }
            total += recon + klWeight * kl[b];
        }
        return total / batch + penalty[0];
    }

    static double[][] layers(Graph g, double[] p, double[][] h, List<LayerSpec> layers, String prefix, double[] penalty, int[] noiseLayer) {
        return layers(g, p, h, layers, prefix, penalty, noiseLayer, 0);
    }

    /** Layers {@code from} .. end of the list, named by their position in it. */
    static double[][] layers(Graph g, double[] p, double[][] h, List<LayerSpec> layers, String prefix, double[] penalty, int[] noiseLayer,
                             int from) {
        int batch = h.length;
        for (int i = from; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            int w = h[0].length;
            switch (l) {
                case LayerSpec.Dense d -> {
                    double[][] y = new double[batch][];
                    for (int b = 0; b < batch; b++) {
                        y[b] = GraphGradientTest.dense(g, p, h[b], prefix + "." + i);
                    }
                    h = y;
                }
                case LayerSpec.ActivationLayer a -> {
                    double[][] y = new double[batch][];
                    for (int b = 0; b < batch; b++) {
                        y[b] = GraphGradientTest.layers(g, p, h[b], List.of(l), prefix);
                    }
                    h = y;
                }
                case LayerSpec.GaussianNoise n -> h = noise(h, 0, n.stddev(), noiseLayer);
                case LayerSpec.MaskingNoise n -> h = noise(h, 1, n.probability(), noiseLayer);
                case LayerSpec.Dropout n -> h = noise(h, 2, n.probability(), noiseLayer);
                case LayerSpec.SaltAndPepper n -> h = noise(h, 3, n.probability(), noiseLayer);
                case LayerSpec.Sparsity sp -> {
                    double rho = sp.rho();
                    for (int j = 0; j < w; j++) {
                        double m = 0;
                        for (int b = 0; b < batch; b++) {
                            m += h[b][j];
                        }
                        m /= batch;
                        penalty[0] += sp.weight() * (rho * Math.log(rho / m) + (1 - rho) * Math.log((1 - rho) / (1 - m)));
                    }
                }
                case LayerSpec.BatchNorm bn -> {
                    // Training mode: each column by the batch's mean and biased variance, then scale and shift.
                    int gamma = g.param(prefix + "." + i + ".weight").offset(), beta = g.param(prefix + "." + i + ".bias").offset();
                    double[][] y = new double[batch][w];
                    for (int j = 0; j < w; j++) {
                        double m = 0, v = 0;
                        for (int b = 0; b < batch; b++) {
                            m += h[b][j] / batch;
                        }
                        for (int b = 0; b < batch; b++) {
                            v += (h[b][j] - m) * (h[b][j] - m) / batch;
                        }
                        for (int b = 0; b < batch; b++) {
                            y[b][j] = p[gamma + j] * (h[b][j] - m) / Math.sqrt(v + bn.epsilon()) + p[beta + j];
                        }
                    }
                    h = y;
                }
                case LayerSpec.ActivityL1 a -> {
                    for (int b = 0; b < batch; b++) {
                        for (int j = 0; j < w; j++) {
                            penalty[0] += a.weight() * Math.abs(h[b][j]) / batch;
                        }
                    }
                }
                case LayerSpec.Flatten f -> { } // features stay features
                case LayerSpec.Conv2d c -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
                case LayerSpec.ConvTranspose2d c -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
                case LayerSpec.Upsample u -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
                case LayerSpec.MaxPool m -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
                case LayerSpec.AvgPool m -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
                case LayerSpec.Reshape r -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
                case LayerSpec.ResidualBlock r -> throw new IllegalArgumentException("image layers are checked by ConvGraphTest");
            }
        }
        return h;
    }

    /** Noise of kind 0 gaussian, 1 masking, 2 dropout, 3 salt and pepper, re-drawn from Philox as the layer draws it. */
    static double[][] noise(double[][] h, int kind, double q, int[] noiseLayer) {
        int batch = h.length, w = h[0].length;
        float[] r = new float[batch * w];
        long start = Executor.noiseStart(noiseLayer[0]++);
        if (kind == 0) {
            Philox.fillNormal(r, 0, r.length, SEED, STREAM, start);
        } else {
            Philox.fillUniform(r, 0, r.length, SEED, STREAM, start);
        }
        double[][] y = new double[batch][w];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < w; j++) {
                double u = r[b * w + j], v = h[b][j];
                y[b][j] = switch (kind) {
                    case 0 -> v + q * u;
                    case 1 -> u < q ? 0 : v;
                    case 2 -> u < q ? 0 : v / (1 - q);
                    default -> u < q / 2 ? 0 : u < q ? 1 : v;
                };
            }
        }
        return y;
    }

    record Run(float loss, float[] grads) {}

    static Run run(Graph g, float[] params, float[] x, float[] c, int batch, float klWeight) {
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, x, 0, batch);
        if (c != null) {
            ex.load(g.condition, c, 0, batch);
        }
        float[] grads = new float[g.paramCount()];
        ex.run(params, grads, batch, SEED, STREAM, klWeight);
        double loss = 0;
        for (int b = 0; b < batch; b++) {
            loss += ex.value(g.recon)[b] + (g.kl >= 0 ? klWeight * ex.value(g.kl)[b] : 0);
            for (int pen : g.penalties) {
                loss += ex.value(pen)[b];
            }
        }
        return new Run((float) (loss / batch), grads);
    }

    static void check(ModelSpec spec, float klWeight) {
        int batch = 6;
        GraphGradientTest.Setup setup = GraphGradientTest.setup(spec, batch, 77);
        Graph g = setup.graph().fuse();
        float[] params = setup.params(), x = setup.x();
        float[] c = null;
        if (spec.isConditional()) {
            c = new float[batch * spec.conditionDim()];
            for (int b = 0; b < batch; b++) {
                c[b * spec.conditionDim() + b % spec.conditionDim()] = 1f;
            }
        }
        Run got = run(g, params, x, c, batch, klWeight);
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        double ref = reference(g, p, x, c, batch, klWeight);
        assertEquals(ref, got.loss(), 1e-5 * Math.abs(ref) + 1e-5, "objective of " + spec.toJson());
        for (int i = 0; i < p.length; i++) {
            double keep = p[i], h = 1e-6;
            p[i] = keep + h;
            double up = reference(g, p, x, c, batch, klWeight);
            p[i] = keep - h;
            double down = reference(g, p, x, c, batch, klWeight);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, got.grads()[i], 2e-3 * Math.abs(fd) + 2e-5,
                    "d objective / d " + GraphGradientTest.paramAt(g, i) + " of " + spec.toJson());
        }
        // The unfused graph computes the same (same noise: streams follow the noise layers' order).
        Run plain = run(Graph.build(spec), params, x, c, batch, klWeight);
        assertEquals(got.loss(), plain.loss(), 1e-6 * Math.abs(got.loss()) + 1e-6);
        for (int i = 0; i < p.length; i++) {
            assertEquals(got.grads()[i], plain.grads()[i], 1e-5 * Math.abs(got.grads()[i]) + 1e-6);
        }
    }

    @Test
    void batchNormalizationThroughTheBatchStatistics() {
        // On the input (no input gradient), after a dense layer, and in the decoder with its own momentum and epsilon;
        // the running statistics (state) get no gradient.
        check(Model.encoder(7).batchNorm().dense(5).batchNorm().tanh().gaussianLatent(3)
                .decoder().dense(5).batchNorm(0.2f, 1e-3f).tanh().dense(7).bernoulli(), 1f);
        check(Model.encoder(7).dense(6).batchNorm().sigmoid().latent(2).decoder().dense(4).batchNorm().dense(7).gaussian(0.5f), 0f);
    }

    @Test
    void denoisingNoiseOnTheInput() {
        check(Model.encoder(7).gaussianNoise(0.3f).dense(5).tanh().latent(3).decoder().dense(7).bernoulli(), 0f);
        check(Model.encoder(7).maskingNoise(0.3f).dense(5).tanh().latent(3).decoder().dense(7).bernoulli(), 0f);
        check(Model.encoder(7).saltAndPepper(0.4f).dense(5).tanh().gaussianLatent(3).decoder().dense(7).bernoulli(), 1f);
    }

    @Test
    void dropoutAndGaussianNoiseInsideTheNetwork() {
        check(Model.encoder(7).dense(6).relu().dropout(0.4f).gaussianLatent(3)
                .decoder().dense(6).tanh().dropout(0.25f).dense(7).gaussian(), 1f);
        check(Model.encoder(6).dense(5).elu(1f).gaussianNoise(0.2f).latent(2).decoder().dense(6).gaussian(), 0f);
    }

    @Test
    void sparsityAndActivityPenalties() {
        check(Model.encoder(7).dense(6).sigmoid().sparsity(0.1f, 0.7f).latent(3)
                .decoder().dense(7).bernoulli(), 0f);
        check(Model.encoder(7).dense(6).tanh().activityL1(0.05f).gaussianLatent(2)
                .decoder().dense(5).sigmoid().sparsity(0.2f, 0.3f).dropout(0.3f).dense(7).bernoulli(), 1f);
    }

    @Test
    void contractivePenaltyOnEveryCodeActivation() {
        check(Model.encoder(6).latent(4).sigmoid().contractive(0.3f).decoder().dense(6).gaussian(), 0f);
        check(Model.encoder(6).dense(5).relu().latent(3).tanh().contractive(0.5f).decoder().dense(6).bernoulli(), 0f);
        check(Model.encoder(6).latent(3).contractive(0.2f).decoder().dense(6).gaussian(), 0f);
    }

    @Test
    void clampedLogVarianceHuberAndOneLearnedVariance() {
        check(Model.encoder(6).dense(5).tanh().gaussianLatent(3).clampLogVariance(-0.3f, 0.25f)
                .decoder().dense(6).huber(0.2f), 0.7f);
        check(Model.encoder(6).dense(5).tanh().gaussianLatent(2).decoder().dense(6).gaussianLearnedGlobalVariance(), 1f);
    }

    @Test
    void conditionalAutoencoderAndVae() {
        check(Model.encoder(6).conditionedOn(3).dense(5).tanh().gaussianLatent(2).decoder().dense(5).relu().dense(6).bernoulli(), 1f);
        check(Model.encoder(6).conditionedOn(2).dense(5).tanh().latent(2).decoder().dense(6).gaussian(), 0f);
        // a conditional denoising model: its input corruption leaves the condition alone (the reference joins it after)
        check(Model.encoder(6).conditionedOn(3).maskingNoise(0.4f).gaussianNoise(0.2f).dense(5).tanh().gaussianLatent(2)
                .decoder().dense(6).bernoulli(), 1f);
        check(Model.encoder(6).conditionedOn(2).saltAndPepper(0.5f).dense(5).dropout(0.3f).relu().latent(2)
                .decoder().dense(6).gaussian(), 0f);
    }

    @Test
    void noiseIsForTrainingOnly() {
        // The forward-only plan (inference, validation) passes noise layers through: the same
        // outputs as the model without them, bitwise.
        ModelSpec noisy = Model.encoder(8).maskingNoise(0.5f).dense(6).relu().dropout(0.5f).gaussianLatent(3)
                .decoder().dense(8).bernoulli();
        ModelSpec clean = Model.encoder(8).dense(6).relu().gaussianLatent(3).decoder().dense(8).bernoulli();
        Graph gn = Graph.build(noisy).fuse(), gc = Graph.build(clean).fuse();
        assertEquals(gc.paramCount(), gn.paramCount());
        float[] params = org.latent4j.train.Trainer.initialParams(gn, 3);
        float[] x = new float[4 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 5) / 5f;
        }
        float[][] outs = new float[2][];
        Graph[] graphs = {gn, gc};
        for (int k = 0; k < 2; k++) {
            Graph g = graphs[k];
            Executor ex = new Executor(Planner.forward(g, 0, g.mu), Parallelism.serial(), 4);
            ex.load(g.input, x, 0, 4);
            ex.run(params, null, 4, 1, 1, 1f);
            outs[k] = java.util.Arrays.copyOf(ex.value(g.mu), 4 * 3);
        }
        assertArrayEquals(outs[1], outs[0]);
        // ...while the training plan does corrupt: its mean code differs.
        Executor train = new Executor(Planner.training(gn), Parallelism.serial(), 4);
        train.load(gn.input, x, 0, 4);
        train.forward(params, 4, 1, 1);
        assertTrue(!java.util.Arrays.equals(outs[1], java.util.Arrays.copyOf(train.value(gn.mu), 12)));
    }

    @Test
    void freeBitsWeightsEachDimensionsKl() {
        // Per-dimension KL weights (free bits) against the reference with those weights: weight
        // 0 on a dimension removes its KL gradient, weight 1 leaves it.
        ModelSpec spec = Model.encoder(5).dense(4).tanh().gaussianLatent(3).decoder().dense(5).bernoulli();
        Graph g = Graph.build(spec).fuse();
        float[] params = org.latent4j.train.Trainer.initialParams(g, 9);
        float[] x = new float[3 * 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 4) / 4f;
        }
        float[] full = new float[g.paramCount()], none = new float[g.paramCount()], some = new float[g.paramCount()];
        for (float[][] pair : new float[][][] {{full, {1f, 1f, 1f}}, {none, {0f, 0f, 0f}}, {some, {1f, 0f, 1f}}}) {
            Executor ex = new Executor(Planner.training(g), Parallelism.serial(), 3);
            ex.load(g.input, x, 0, 3);
            ex.klDimensionWeights(pair[1]);
            ex.forward(params, 3, SEED, STREAM);
            ex.backward(params, pair[0], 3, SEED, STREAM, 99f);
        }
        float[] plain = new float[g.paramCount()], zero = new float[g.paramCount()];
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), 3);
        ex.load(g.input, x, 0, 3);
        ex.run(params, plain, 3, SEED, STREAM, 1f);
        ex.run(params, zero, 3, SEED, STREAM, 0f);
        for (int i = 0; i < plain.length; i++) {
            assertEquals(plain[i], full[i], 1e-6f * Math.abs(plain[i]) + 1e-7f);
            assertEquals(zero[i], none[i], 1e-6f * Math.abs(zero[i]) + 1e-7f);
        }
        // Mixed weights: fc_mu rows of dimension 1 get only the reconstruction's gradient.
        ParamSpec muW = g.param("fc_mu.weight");
        for (int i = 0; i < muW.cols(); i++) {
            int k0 = muW.offset() + i, k1 = muW.offset() + muW.cols() + i;
            assertEquals(plain[k0], some[k0], 1e-6f);
            assertEquals(zero[k1], some[k1], 1e-6f);
        }
        assertTrue(Activation.SIGMOID != null);
    }
}
