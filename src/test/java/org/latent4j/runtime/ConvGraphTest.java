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
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;

/**
 * Convolutional models through the whole graph: the training objective and every parameter's
 * gradient against a double-precision reference written here from the layers' definitions
 * (naive convolution loops, PyTorch's formulas) and central differences of that reference.
 */
class ConvGraphTest {
    static final long SEED = 5, STREAM = 9;

    /** Activations of a batch in double: batch x (c, h, w) values, channels first. */
    record Act(double[][] v, int c, int h, int w) {
        int size() {
            return c * h * w;
        }
    }

    static double at(double[] p, ParamSpec s, int i) {
        return p[s.offset() + i];
    }

    /** PyTorch's Conv2d: y[o, oy, ox] = b[o] + sum W[o, c, i, j] x[c, oy s - p + i, ox s - p + j]. */
    static Act conv(Graph g, double[] p, Act x, String prefix, int out, int k, int s, int pad) {
        ParamSpec w = g.param(prefix + ".weight"), b = g.param(prefix + ".bias");
        int oh = (x.h() + 2 * pad - k) / s + 1, ow = (x.w() + 2 * pad - k) / s + 1;
        double[][] y = new double[x.v().length][out * oh * ow];
        for (int n = 0; n < y.length; n++) {
            for (int o = 0; o < out; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = at(p, b, o);
                        for (int c = 0; c < x.c(); c++) {
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int iy = oy * s - pad + i, ix = ox * s - pad + j;
                                    if (iy >= 0 && iy < x.h() && ix >= 0 && ix < x.w()) {
                                        sum += at(p, w, ((o * x.c() + c) * k + i) * k + j) * x.v()[n][(c * x.h() + iy) * x.w() + ix];
                                    }
                                }
                            }
                        }
                        y[n][(o * oh + oy) * ow + ox] = sum;
                    }
                }
            }
        }
        return new Act(y, out, oh, ow);
    }

    /** PyTorch's ConvTranspose2d: each input pixel scatters W[c, o, i, j] x[c, iy, ix] to y[o, iy s - p + i, ix s - p + j]. */
    static Act convTranspose(Graph g, double[] p, Act x, String prefix, int out, int k, int s, int pad) {
        ParamSpec w = g.param(prefix + ".weight"), b = g.param(prefix + ".bias");
        int oh = (x.h() - 1) * s - 2 * pad + k, ow = (x.w() - 1) * s - 2 * pad + k;
        double[][] y = new double[x.v().length][out * oh * ow];
        for (int n = 0; n < y.length; n++) {
            for (int o = 0; o < out; o++) {
                for (int q = 0; q < oh * ow; q++) {
                    y[n][o * oh * ow + q] = at(p, b, o);
                }
            }
            for (int c = 0; c < x.c(); c++) {
                for (int iy = 0; iy < x.h(); iy++) {
                    for (int ix = 0; ix < x.w(); ix++) {
                        double v = x.v()[n][(c * x.h() + iy) * x.w() + ix];
                        for (int o = 0; o < out; o++) {
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int yy = iy * s - pad + i, xx = ix * s - pad + j;
                                    if (yy >= 0 && yy < oh && xx >= 0 && xx < ow) {
                                        y[n][(o * oh + yy) * ow + xx] += at(p, w, ((c * out + o) * k + i) * k + j) * v;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Act(y, out, oh, ow);
    }

    static Act relu(Act x) {
        double[][] y = new double[x.v().length][];
        for (int n = 0; n < y.length; n++) {
            y[n] = x.v()[n].clone();
            for (int i = 0; i < y[n].length; i++) {
                y[n][i] = Math.max(0, y[n][i]);
            }
        }
        return new Act(y, x.c(), x.h(), x.w());
    }

    static Act pool(Act x, boolean max, int k, int s) {
        int oh = (x.h() - k) / s + 1, ow = (x.w() - k) / s + 1;
        double[][] y = new double[x.v().length][x.c() * oh * ow];
        for (int n = 0; n < y.length; n++) {
            for (int c = 0; c < x.c(); c++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double m = max ? Double.NEGATIVE_INFINITY : 0;
                        for (int i = 0; i < k; i++) {
                            for (int j = 0; j < k; j++) {
                                double v = x.v()[n][(c * x.h() + oy * s + i) * x.w() + ox * s + j];
                                m = max ? Math.max(m, v) : m + v / (k * k);
                            }
                        }
                        y[n][(c * oh + oy) * ow + ox] = m;
                    }
                }
            }
        }
        return new Act(y, x.c(), oh, ow);
    }

    static Act upsample(Act x, int f) {
        int oh = x.h() * f, ow = x.w() * f;
        double[][] y = new double[x.v().length][x.c() * oh * ow];
        for (int n = 0; n < y.length; n++) {
            for (int c = 0; c < x.c(); c++) {
                for (int yy = 0; yy < oh; yy++) {
                    for (int xx = 0; xx < ow; xx++) {
                        y[n][(c * oh + yy) * ow + xx] = x.v()[n][(c * x.h() + yy / f) * x.w() + xx / f];
                    }
                }
            }
        }
        return new Act(y, x.c(), oh, ow);
    }

    /** Batch normalization in training mode, per channel over the batch and the positions (biased variance). */
    static Act batchNorm(Graph g, double[] p, Act x, String prefix, double eps) {
        ParamSpec gamma = g.param(prefix + ".weight"), beta = g.param(prefix + ".bias");
        int plane = x.h() * x.w(), batch = x.v().length;
        double[][] y = new double[batch][x.size()];
        for (int c = 0; c < x.c(); c++) {
            double m = 0, v = 0, n = (double) batch * plane;
            for (double[] r : x.v()) {
                for (int q = 0; q < plane; q++) {
                    m += r[c * plane + q] / n;
                }
            }
            for (double[] r : x.v()) {
                for (int q = 0; q < plane; q++) {
                    v += (r[c * plane + q] - m) * (r[c * plane + q] - m) / n;
                }
            }
            for (int b = 0; b < batch; b++) {
                for (int q = 0; q < plane; q++) {
                    y[b][c * plane + q] = at(p, gamma, c) * (x.v()[b][c * plane + q] - m) / Math.sqrt(v + eps) + at(p, beta, c);
                }
            }
        }
        return new Act(y, x.c(), x.h(), x.w());
    }

    static Act dense(Graph g, double[] p, Act x, String prefix) {
        double[][] y = new double[x.v().length][];
        for (int n = 0; n < y.length; n++) {
            y[n] = GraphGradientTest.dense(g, p, x.v()[n], prefix);
        }
        return new Act(y, y[0].length, 1, 1);
    }

    static Act layers(Graph g, double[] p, Act h, List<LayerSpec> layers, String prefix) {
        for (int i = 0; i < layers.size(); i++) {
            String name = prefix + "." + i;
            LayerSpec l = layers.get(i);
            h = switch (l) {
                case LayerSpec.Dense d -> dense(g, p, h, name);
                case LayerSpec.Conv2d c -> conv(g, p, h, name, c.outChannels(), c.kernel(), c.stride(), c.padding());
                case LayerSpec.ConvTranspose2d c -> convTranspose(g, p, h, name, c.outChannels(), c.kernel(), c.stride(), c.padding());
                case LayerSpec.ActivationLayer a -> {
                    if (a.activation() != org.latent4j.kernel.Activation.RELU) {
                        throw new IllegalArgumentException("the reference knows relu only");
                    }
                    yield relu(h);
                }
                case LayerSpec.MaxPool m -> pool(h, true, m.kernel(), m.stride());
                case LayerSpec.AvgPool a -> pool(h, false, a.kernel(), a.stride());
                case LayerSpec.Upsample u -> upsample(h, u.factor());
                case LayerSpec.Flatten f -> new Act(h.v(), h.size(), 1, 1);
                case LayerSpec.Reshape r -> new Act(h.v(), r.channels(), r.height(), r.width());
                case LayerSpec.BatchNorm b -> batchNorm(g, p, h, name, b.epsilon());
                case LayerSpec.ResidualBlock r -> {
                    Act a = relu(conv(g, p, h, name + ".conv1", h.c(), 3, 1, 1));
                    Act c2 = conv(g, p, a, name + ".conv2", h.c(), 3, 1, 1);
                    double[][] y = new double[h.v().length][h.size()];
                    for (int n = 0; n < y.length; n++) {
                        for (int q = 0; q < h.size(); q++) {
                            y[n][q] = h.v()[n][q] + c2.v()[n][q];
                        }
                    }
                    yield new Act(y, h.c(), h.h(), h.w());
                }
                default -> throw new IllegalArgumentException("the reference does not know " + l.describe());
            };
        }
        return h;
    }

    /** Mean over the batch of the Bernoulli -log likelihood (+ the KL for a Gaussian latent, z from the plan's eps). */
    static double reference(Graph g, double[] p, float[] x, float[] cond, int batch) {
        ModelSpec spec = g.spec();
        var sh = spec.sampleShape();
        int k = spec.conditionDim(), plane = sh.height() * sh.width();
        double[][] in = new double[batch][sh.size()];
        double[][] joined = new double[batch][sh.size() + k * plane];   // the image, then k constant planes
        for (int b = 0; b < batch; b++) {
            for (int q = 0; q < sh.size(); q++) {
                in[b][q] = x[b * sh.size() + q];
                joined[b][q] = in[b][q];
            }
            for (int j = 0; j < k; j++) {
                for (int q = 0; q < plane; q++) {
                    joined[b][sh.size() + j * plane + q] = cond[b * k + j];
                }
            }
        }
        Act h = layers(g, p, new Act(joined, sh.channels() + k, sh.height(), sh.width()), spec.encoder(), "encoder");
        double kl = 0;
        Act z;
        int zd = spec.latent().dim();
        if (spec.isVariational()) {
            Act mu = dense(g, p, h, "fc_mu"), lv = dense(g, p, h, "fc_logvar");
            float[] eps = new float[batch * zd];
            Philox.fillNormal(eps, 0, eps.length, SEED, STREAM, 0);
            double[][] zz = new double[batch][zd];
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < zd; j++) {
                    double m = mu.v()[b][j], l = lv.v()[b][j];
                    zz[b][j] = m + Math.exp(l / 2) * eps[b * zd + j];
                    kl += 0.5 * (m * m + Math.exp(l) - 1 - l);
                }
            }
            z = new Act(zz, zd, 1, 1);
        } else {
            z = dense(g, p, h, "latent");
        }
        if (k > 0) {   // z joined with the condition
            double[][] zc = new double[batch][zd + k];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(z.v()[b], 0, zc[b], 0, zd);
                for (int j = 0; j < k; j++) {
                    zc[b][zd + j] = cond[b * k + j];
                }
            }
            z = new Act(zc, zd + k, 1, 1);
        }
        Act out = layers(g, p, z, spec.decoder(), "decoder");
        double recon = 0;
        for (int b = 0; b < batch; b++) {
            for (int q = 0; q < out.size(); q++) {
                double l = out.v()[b][q], t = in[b][q];
                recon += Math.max(l, 0) - l * t + Math.log1p(Math.exp(-Math.abs(l)));
            }
        }
        return (recon + kl) / batch;
    }

    static void check(ModelSpec spec, int batch, int paramsToCheck) {
        Graph g = Graph.build(spec).fuse();
        SplittableRandom r = new SplittableRandom(3);
        float[] params = new float[g.paramCount()];
        for (int i = 0; i < params.length; i++) {
            params[i] = (float) (r.nextDouble() - 0.5) * 0.6f;
        }
        for (ParamSpec ps : g.params().values()) {   // batch normalization: scale near 1, running variance 1
            if (ps.name().endsWith("running_var") || (ps.name().contains("weight") && ps.kernel() == 0 && ps.role() == ParamSpec.Role.VECTOR)) {
                for (int i = 0; i < ps.size(); i++) {
                    params[ps.offset() + i] = 1f + 0.1f * (float) r.nextDouble();
                }
            }
        }
        float[] x = new float[batch * spec.inputDim()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        float[] cond = new float[batch * spec.conditionDim()];
        for (int i = 0; i < cond.length; i++) {
            cond[i] = (float) (r.nextDouble() * 2 - 1);
        }
        float[] grads = new float[params.length];
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, x, 0, batch);
        if (spec.isConditional()) {
            ex.load(g.condition, cond, 0, batch);
        }
        ex.run(params, grads, batch, SEED, STREAM, 1f);
        double loss = 0;
        for (int b = 0; b < batch; b++) {
            loss += ex.value(g.recon)[b] + (g.kl >= 0 ? ex.value(g.kl)[b] : 0);
        }
        loss /= batch;
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        double ref = reference(g, p, x, cond, batch);
        assertEquals(ref, loss, 1e-5 * Math.abs(ref) + 1e-5, "forward loss of " + spec.toJson());
        int trained = g.trainableCount();
        for (int t = 0; t < paramsToCheck; t++) {
            int i = paramsToCheck >= trained ? t : r.nextInt(trained);
            if (i >= trained) {
                break;
            }
            double h = 1e-5, keep = p[i];
            p[i] = keep + h;
            double up = reference(g, p, x, cond, batch);
            p[i] = keep - h;
            double down = reference(g, p, x, cond, batch);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, grads[i], 2e-3 * Math.abs(fd) + 2e-4, "d loss / d " + GraphGradientTest.paramAt(g, i));
        }
    }

    @Test
    void convolutionalVaeGradientsMatchTheDoubleReference() {
        // The W2 shape, scaled down: conv, conv, flatten, Gaussian latent, dense, reshape, transposed convs.
        ModelSpec spec = Model.encoder(1, 8, 8).conv2d(3, 4, 2, 1).relu().conv2d(4, 4, 2, 1).relu().flatten().gaussianLatent(3)
                .decoder().dense(4 * 2 * 2).relu().reshape(4, 2, 2).convTranspose2d(3, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
        check(spec, 3, Integer.MAX_VALUE);
    }

    @Test
    void conditionalConvolutionalVaeJoinsTheConditionAsPlanes() {
        // A CVAE on images: the condition joins the input as 3 constant planes and z as 3 features.
        ModelSpec spec = Model.encoder(1, 6, 6).conditionedOn(3).conv2d(2, 3, 2, 1).relu().flatten().gaussianLatent(2)
                .decoder().dense(2 * 3 * 3).relu().reshape(2, 3, 3).convTranspose2d(1, 4, 2, 1).bernoulli();
        assertTrue(spec.summary().contains("joined with condition (3 planes)"), spec.summary());
        assertTrue(spec.summary().contains("(batch, 4, 6, 6)"), spec.summary());
        check(spec, 3, Integer.MAX_VALUE);
        assertEquals(spec, ModelSpec.fromJson(spec.toJson()));
    }

    @Test
    void poolingUpsamplingResidualAndChannelBatchNormGradients() {
        // Odd sizes, a stride larger than the kernel, padding 2, a residual block and per-channel batch norm.
        ModelSpec spec = Model.encoder(2, 7, 9).conv2d(3, 3, 1, 2).batchNorm().relu().maxPool(2, 2).residualBlock().avgPool(2, 1)
                .conv2d(2, 1, 3, 0).flatten().latent(4)
                .decoder().dense(2 * 3 * 3).reshape(2, 3, 3).upsample(2).convTranspose2d(2, 3, 1, 0).relu().flatten().dense(2 * 7 * 9)
                .bernoulli();
        check(spec, 4, Integer.MAX_VALUE);
    }

    @Test
    void sameGradientsBitwiseForOneTwoAndThreeThreads() {
        ModelSpec spec = Model.encoder(1, 12, 12).conv2d(4, 4, 2, 1).relu().conv2d(6, 3, 2, 1).relu().flatten().gaussianLatent(4)
                .decoder().dense(6 * 3 * 3).relu().reshape(6, 3, 3).convTranspose2d(4, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1)
                .bernoulli();
        Graph g = Graph.build(spec).fuse();
        float[] params = org.latent4j.train.Trainer.initialParams(g, 4);
        int batch = 21;
        float[] x = new float[batch * spec.inputDim()];
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        float[] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallelism par = Parallelism.of(threads)) {
                float[] grads = new float[params.length];
                Executor ex = new Executor(Planner.training(g), par, batch);
                ex.load(g.input, x, 0, batch);
                ex.run(params, grads, batch, SEED, STREAM, 1f);
                if (first == null) {
                    first = grads;
                } else {
                    assertArrayEquals(first, grads, threads + " threads");
                }
            }
        }
    }

    @Test
    void shapeErrorsNameTheLayerAndBothShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Graph.build(Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).conv2d(8, 4, 2, 1)
                .conv2d(8, 4, 2, 1).conv2d(8, 4, 2, 1).conv2d(8, 4, 2, 1).flatten().latent(2).decoder().dense(784).bernoulli()));
        assertTrue(e.getMessage().contains("encoder.4 conv2d(8, 4, stride 2, padding 1)") && e.getMessage().contains("1x1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Graph.build(Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).latent(2)
                .decoder().dense(784).bernoulli()));
        assertTrue(e.getMessage().contains("8x14x14") && e.getMessage().contains("flatten()"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Graph.build(Model.encoder(784).conv2d(8, 3, 1, 1).flatten().latent(2)
                .decoder().dense(784).bernoulli()));
        assertTrue(e.getMessage().contains("convolves an image but its input is 784 features"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Graph.build(Model.encoder(1, 28, 28).flatten().latent(2)
                .decoder().dense(49).reshape(1, 6, 6).convTranspose2d(1, 4, 2, 1).bernoulli()));
        assertTrue(e.getMessage().contains("reshape(1, 6, 6) needs 36 values but its input 49 has 49"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Graph.build(Model.encoder(1, 28, 28).flatten().latent(2)
                .decoder().dense(36).reshape(1, 6, 6).convTranspose2d(1, 4, 2, 1).bernoulli()));
        assertTrue(e.getMessage().contains("decoder output has shape 1x12x12 (144 values) but the input has 784"), e.getMessage());
    }

    @Test
    void filesHoldPyTorchNamesAndShapesAndJsonRoundTrips() {
        ModelSpec spec = Model.encoder(1, 28, 28).conv2d(32, 4, 2, 1).relu().conv2d(64, 4, 2, 1).relu().flatten().gaussianLatent(16)
                .decoder().dense(64 * 7 * 7).relu().reshape(64, 7, 7).convTranspose2d(32, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1)
                .bernoulli();
        assertEquals(spec, ModelSpec.fromJson(spec.toJson()));
        Graph g = Graph.build(spec);
        assertArrayEquals(new int[] {32, 1, 4, 4}, g.param("encoder.0.weight").shape());
        assertArrayEquals(new int[] {64, 32, 4, 4}, g.param("encoder.2.weight").shape());
        assertArrayEquals(new int[] {64, 32, 4, 4}, g.param("decoder.3.weight").shape(), "transposed: (in, out, k, k)");
        assertArrayEquals(new int[] {32, 1, 4, 4}, g.param("decoder.5.weight").shape());
        assertArrayEquals(new int[] {16, 3136}, g.param("fc_mu.weight").shape());
        long total = 0;
        for (ParamSpec ps : g.params().values()) {
            total += ps.size();
        }
        assertEquals(total, g.paramCount());
        assertTrue(spec.summary().contains(String.format(java.util.Locale.ROOT, "total: %,d parameters", total)), spec.summary());
        assertTrue(spec.summary().contains("(batch, 64, 7, 7)"), spec.summary());
        var bn = new ModelSpec(48, List.of(new LayerSpec.BatchNorm(0.1f, 1e-5f), new LayerSpec.Flatten()),
                org.latent4j.dsl.LatentSpec.deterministic(2), List.of(new LayerSpec.Dense(48)),
                new LikelihoodSpec.Bernoulli(), 0, org.latent4j.kernel.Shape.image(3, 4, 4));
        assertArrayEquals(new int[] {3}, Graph.build(bn).param("encoder.0.running_mean").shape(), "per channel");
    }
}
