package org.latent4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.latent4j.dsl.PixelCnnSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.model.CodePrior;
import org.latent4j.model.PixelCnnPrior;

/**
 * The PixelCNN prior over code grids against independent references: its logits against a double
 * twin of the whole network (embedding, masked convolutions written from the raster-order rule,
 * residual blocks, 1x1 layers), causality, every parameter's gradient against finite differences
 * of the twin's loss, the exact likelihood (it sums to 1 over every grid of a tiny grid, and equals
 * the sum of the positions' conditionals), sampling (reproducible, the same for 1 and 2 threads,
 * and with the frequencies of the exact probabilities), and training.
 */
class PixelCnnPriorTest {
    static final PixelCnnSpec TINY = new PixelCnnSpec(5, 4, 4, 3, 4, 3, 1);

    /** A prior with random parameters everywhere (biases too), masked taps zero. */
    static PixelCnnPrior randomPrior(PixelCnnSpec s, long seed, float scale) {
        PixelCnnPrior init = org.latent4j.train.PixelCnnTrainer.initial(s, seed);
        float[] p = init.parameters().clone();
        float[] noise = new float[p.length];
        Philox.fillNormal(noise, 0, p.length, seed, 99, 0);
        for (int i = 0; i < p.length; i++) {
            p[i] = p[i] == 0f && !isMaskedTap(init.graph(), i) ? scale * noise[i] : p[i] * scale * 2;
        }
        return PixelCnnPrior.of(s, p);
    }

    /** True when arena entry i is a tap of a masked convolution weight that its mask removes (by the twin's rule). */
    static boolean isMaskedTap(Graph g, int i) {
        for (ParamSpec ps : g.params().values()) {
            if (ps.kernel() > 0 && i >= ps.offset() && i < ps.offset() + ps.size()) {
                int k = ps.kernel(), t = (i - ps.offset()) % (k * k);
                boolean typeA = ps.name().startsWith("prior.conv_in");
                return !twinKept(typeA, k, t);
            }
        }
        return false;
    }

    /** The twin's mask: tap t = ky * k + kx is kept when it comes before the centre in raster order (A), or is the centre too (B). */
    static boolean twinKept(boolean typeA, int k, int t) {
        int centre = (k / 2) * k + k / 2;
        return typeA ? t < centre : t <= centre;
    }

    static int[] randomRow(PixelCnnSpec s, long seed, long r) {
        float[] u = new float[s.positions()];
        Philox.fillUniform(u, 0, u.length, seed, 7, r * u.length);
        int[] row = new int[u.length];
        for (int i = 0; i < u.length; i++) {
            row[i] = Math.min(s.codes() - 1, (int) (u[i] * s.codes()));
        }
        return row;
    }

    // ------------------------------------------------------------------ the double twin

    static double[] param(Graph g, double[] p, String name) {
        ParamSpec ps = g.param(name);
        double[] out = new double[ps.size()];
        System.arraycopy(p, ps.offset(), out, 0, ps.size());
        return out;
    }

    /** A masked "same" convolution in double: h is (in, H, W), the weight (out, in, k, k). */
    static double[] twinConv(double[] h, int in, int hh, int ww, double[] w, double[] b, int out, int k, boolean typeA) {
        double[] y = new double[out * hh * ww];
        int c = k / 2;
        for (int o = 0; o < out; o++) {
            for (int yy = 0; yy < hh; yy++) {
                for (int xx = 0; xx < ww; xx++) {
                    double s = b[o];
                    for (int i = 0; i < in; i++) {
                        for (int t = 0; t < k * k; t++) {
                            if (!twinKept(typeA, k, t)) {
                                continue;
                            }
                            int sy = yy + t / k - c, sx = xx + t % k - c;
                            if (sy >= 0 && sy < hh && sx >= 0 && sx < ww) {
                                s += w[((o * in + i) * k * k) + t] * h[(i * hh + sy) * ww + sx];
                            }
                        }
                    }
                    y[(o * hh + yy) * ww + xx] = s;
                }
            }
        }
        return y;
    }

    static double[] relu(double[] x) {
        double[] y = x.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] = Math.max(0, y[i]);
        }
        return y;
    }

    /** The network's logits (codes, H, W) of one grid, in double. */
    static double[] twinLogits(PixelCnnSpec s, Graph g, double[] p, int[] row) {
        int hh = s.height(), ww = s.width(), pos = s.positions(), e = s.embedding(), ch = s.channels();
        double[] emb = param(g, p, "prior.embedding.weight");
        double[] h = new double[e * pos];
        for (int q = 0; q < pos; q++) {
            for (int c = 0; c < e; c++) {
                h[c * pos + q] = emb[row[q] * e + c];
            }
        }
        h = relu(twinConv(h, e, hh, ww, param(g, p, "prior.conv_in.weight"), param(g, p, "prior.conv_in.bias"), ch, s.kernel(), true));
        for (int b = 0; b < s.blocks(); b++) {
            String pre = "prior.blocks." + b;
            double[] a = relu(twinConv(h, ch, hh, ww, param(g, p, pre + ".conv1.weight"), param(g, p, pre + ".conv1.bias"), ch, 3, false));
            double[] c2 = twinConv(a, ch, hh, ww, param(g, p, pre + ".conv2.weight"), param(g, p, pre + ".conv2.bias"), ch, 3, false);
            for (int i = 0; i < h.length; i++) {
                h[i] = Math.max(0, h[i] + c2[i]);
            }
        }
        h = relu(twinConv(h, ch, hh, ww, param(g, p, "prior.conv_hidden.weight"), param(g, p, "prior.conv_hidden.bias"), ch, 1, false));
        return twinConv(h, ch, hh, ww, param(g, p, "prior.conv_out.weight"), param(g, p, "prior.conv_out.bias"), s.codes(), 1, false);
    }

    /** -ln p(row) from the twin's logits. */
    static double twinNll(PixelCnnSpec s, Graph g, double[] p, int[] row) {
        double[] l = twinLogits(s, g, p, row);
        int pos = s.positions();
        double nll = 0;
        for (int q = 0; q < pos; q++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < s.codes(); k++) {
                max = Math.max(max, l[k * pos + q]);
            }
            double z = 0;
            for (int k = 0; k < s.codes(); k++) {
                z += Math.exp(l[k * pos + q] - max);
            }
            nll += max + Math.log(z) - l[row[q] * pos + q];
        }
        return nll;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static float[] engineLogits(PixelCnnPrior prior, int[] row, Parallelism par) {
        Graph g = prior.graph();
        Executor ex = new Executor(Planner.forward(g, 0, g.output), par, 1);
        float[] x = new float[row.length];
        for (int i = 0; i < row.length; i++) {
            x[i] = row[i];
        }
        ex.load(g.input, x, 0, 1);
        ex.run(prior.parameters(), null, 1, 0, 0, 1f);
        return java.util.Arrays.copyOf(ex.value(g.output), g.node(g.output).width());
    }

    // ------------------------------------------------------------------ tests

    @Test
    void logitsEqualTheDoubleTwinOfTheWholeNetwork() {
        for (PixelCnnSpec s : new PixelCnnSpec[] {TINY, new PixelCnnSpec(7, 5, 6, 4, 6, 5, 2)}) {
            PixelCnnPrior prior = randomPrior(s, 3, 0.5f);
            double[] p = toDouble(prior.parameters());
            for (int r = 0; r < 3; r++) {
                int[] row = randomRow(s, 1, r);
                double[] want = twinLogits(s, prior.graph(), p, row);
                float[] got = engineLogits(prior, row, Parallelism.serial());
                assertEquals(want.length, got.length);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "logit " + i);
                }
            }
        }
    }

    /**
     * Causality, exactly: the logits at position q depend only on the codes at positions before q
     * in raster order. Changing the code at p leaves every logit at positions q <= p bitwise the
     * same (p itself included: type A does not see its own position), and changes the logits at
     * p + 1 when p + 1 is in the same row (the type-A kernel's left neighbour tap; at most positions:
     * a ReLU may be off everywhere for one change).
     */
    @Test
    void changingTheCodeAtPChangesNoLogitAtPositionsUpToP() {
        PixelCnnSpec s = new PixelCnnSpec(5, 4, 5, 3, 8, 3, 2);
        PixelCnnPrior prior = randomPrior(s, 5, 0.5f);
        int pos = s.positions();
        int[] row = randomRow(s, 2, 0);
        float[] base = engineLogits(prior, row, Parallelism.serial());
        int eligible = 0, seen = 0;
        for (int p = 0; p < pos; p++) {
            int[] changed = row.clone();
            changed[p] = (row[p] + 1 + p % 3) % s.codes();
            float[] l = engineLogits(prior, changed, Parallelism.serial());
            boolean nextChanged = false;
            for (int k = 0; k < s.codes(); k++) {
                for (int q = 0; q <= p; q++) {
                    assertEquals(base[k * pos + q], l[k * pos + q], 0f, "code at " + p + " changed logit " + k + " at " + q);
                }
                if (p + 1 < pos && (p + 1) % s.width() != 0) {
                    nextChanged |= base[k * pos + p + 1] != l[k * pos + p + 1];
                }
            }
            if (p + 1 < pos && (p + 1) % s.width() != 0) {
                eligible++;
                seen += nextChanged ? 1 : 0;
            }
        }
        assertTrue(seen >= eligible * 3 / 4, "a code changed its right neighbour's logits at only " + seen + " of " + eligible + " positions");
    }

    @Test
    void everyGradientMatchesFiniteDifferencesOfTheTwinsLoss() {
        PixelCnnSpec s = TINY;
        PixelCnnPrior prior = randomPrior(s, 7, 0.4f);
        Graph g = prior.graph();
        int batch = 3, pos = s.positions();
        int[][] rows = new int[batch][];
        float[] x = new float[batch * pos];
        for (int r = 0; r < batch; r++) {
            rows[r] = randomRow(s, 4, r);
            for (int q = 0; q < pos; q++) {
                x[r * pos + q] = rows[r][q];
            }
        }
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        float[] params = prior.parameters().clone(), grads = new float[g.paramCount()];
        java.util.Arrays.fill(grads, Float.NaN); // every gradient must be written
        ex.load(g.input, x, 0, batch);
        ex.run(params, grads, batch, 1, 0, 1f);
        double[] p = toDouble(params);
        double lossSum = 0;
        for (int[] row : rows) {
            lossSum += twinNll(s, g, p, row);
        }
        float[] loss = ex.value(g.recon);
        double engineSum = 0;
        for (int r = 0; r < batch; r++) {
            engineSum += loss[r];
        }
        assertEquals(lossSum, engineSum, 1e-4 * Math.abs(lossSum));
        int checked = 0;
        for (ParamSpec ps : g.params().values()) {
            int step = Math.max(1, ps.size() / 23);
            for (int i = ps.offset(); i < ps.offset() + ps.size(); i += step) {
                double h = 1e-5, keep = p[i];
                p[i] = keep + h;
                double up = 0, down = 0;
                for (int[] row : rows) {
                    up += twinNll(s, g, p, row);
                }
                p[i] = keep - h;
                for (int[] row : rows) {
                    down += twinNll(s, g, p, row);
                }
                p[i] = keep;
                double fd = (up - down) / (2 * h) / batch;
                if (isMaskedTap(g, i)) {
                    assertEquals(0f, grads[i], 0f, ps.name() + " masked tap " + (i - ps.offset()));
                    assertEquals(0, fd, 1e-9);
                } else {
                    assertEquals(fd, grads[i], 2e-3 * Math.abs(fd) + 2e-5, ps.name() + "[" + (i - ps.offset()) + "]");
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "checked " + checked);
    }

    /** All 3^4 grids of a 2x2 grid of 3 codes: the probabilities sum to 1, and each is the product of its conditionals. */
    @Test
    void theExactLikelihoodOfATinyGridIsTheSumOfItsConditionals() {
        PixelCnnSpec s = new PixelCnnSpec(3, 2, 2, 3, 4, 3, 1);
        PixelCnnPrior prior = randomPrior(s, 9, 0.8f);
        int pos = s.positions(), all = 81;
        int[][] grids = new int[all][pos];
        for (int i = 0; i < all; i++) {
            for (int q = 0, v = i; q < pos; q++, v /= 3) {
                grids[i][q] = v % 3;
            }
        }
        double[] bits = prior.bits(grids, Parallelism.serial());
        double total = 0, spread = 0;
        for (int i = 0; i < all; i++) {
            double prob = Math.pow(2, -bits[i]);
            total += prob;
            spread = Math.max(spread, Math.abs(prob - 1.0 / all));
            // the sum of the conditionals, each computed from a row whose later positions hold other codes
            double logp = 0;
            for (int q = 0; q < pos; q++) {
                int[] prefix = grids[i].clone();
                for (int later = q; later < pos; later++) {
                    prefix[later] = (grids[i][later] + 1 + later) % 3;
                }
                logp += prior.conditionalLogProbs(prefix, q)[grids[i][q]];
            }
            assertEquals(-logp / Math.log(2), bits[i], 1e-9 + 1e-6 * bits[i], "grid " + i);
        }
        assertEquals(1.0, total, 1e-5);
        assertTrue(spread > 1e-3, "the prior is not uniform");
    }

    /** Draws: the same per seed, bitwise the same on 1 and 2 threads, other draws for another seed, at the exact frequencies. */
    @Test
    void samplingIsReproducibleThreadIndependentAndAtTheExactFrequencies() {
        PixelCnnSpec s = new PixelCnnSpec(3, 2, 2, 3, 4, 3, 1);
        PixelCnnPrior prior = randomPrior(s, 9, 0.8f);
        int n = 20000;
        int[][] a = prior.sample(n, 5, Parallelism.serial());
        int[][] again = prior.sample(n, 5, Parallelism.serial());
        int[][] two;
        try (Parallelism par = Parallelism.of(2)) {
            two = prior.sample(n, 5, par);
        }
        int[][] other = prior.sample(n, 6, Parallelism.serial());
        assertTrue(java.util.Arrays.deepEquals(a, again));
        assertTrue(java.util.Arrays.deepEquals(a, two));
        assertFalse(java.util.Arrays.deepEquals(a, other));
        int[] count = new int[81];
        for (int[] row : a) {
            count[row[0] + 3 * row[1] + 9 * row[2] + 27 * row[3]]++;
        }
        int[][] grids = new int[81][4];
        for (int i = 0; i < 81; i++) {
            for (int q = 0, v = i; q < 4; q++, v /= 3) {
                grids[i][q] = v % 3;
            }
        }
        double[] bits = prior.bits(grids, Parallelism.serial());
        for (int i = 0; i < 81; i++) {
            double pr = Math.pow(2, -bits[i]), mean = n * pr, sd = Math.sqrt(n * pr * (1 - pr));
            assertEquals(mean, count[i], 5 * sd + 1, "grid " + i);
        }
    }

    /** Grids whose rows repeat one random code: the PixelCNN learns the dependence (far under a categorical prior), bitwise the same on 2 threads. */
    @Test
    void trainingLearnsADependenceACategoricalPriorCannot() {
        PixelCnnSpec s = new PixelCnnSpec(8, 4, 4, 8, 16, 3, 1);
        int n = 512;
        int[][] rows = new int[n][16];
        for (int r = 0; r < n; r++) {
            int[] draw = randomRow(s, 3, r);
            for (int q = 0; q < 16; q++) {
                rows[r][q] = draw[(q / 4) * 4]; // each grid row repeats the code of its first column
            }
        }
        org.latent4j.train.PixelCnnTrainer.FitConfig cfg = new org.latent4j.train.PixelCnnTrainer.FitConfig(6, 32, 3e-3f, 1);
        PixelCnnPrior prior = org.latent4j.train.PixelCnnTrainer.fit(rows, s, cfg, Parallelism.serial(), null);
        PixelCnnPrior two;
        try (Parallelism par = Parallelism.of(2)) {
            two = org.latent4j.train.PixelCnnTrainer.fit(rows, s, cfg, par, null);
        }
        assertArrayEquals(prior.parameters(), two.parameters());
        double pixel = prior.meanBits(rows, Parallelism.serial());
        CodePrior cat = CodePrior.fit(CodePrior.Kind.CATEGORICAL, rows, 16, 8);
        double catBits = 0;
        for (int[] row : rows) {
            catBits += cat.bits(row);
        }
        catBits /= n;
        // the information is 4 codes x 3 bits = 12 bits per grid; categorical pays ~16 x 3 = 48
        assertTrue(catBits > 45, "categorical " + catBits);
        assertTrue(pixel < 22, "PixelCNN " + pixel + " bits per grid");
    }

    @Test
    void badIndexRowsGetOneLineNamingRowAndPosition() {
        PixelCnnPrior prior = org.latent4j.train.PixelCnnTrainer.initial(TINY, 1);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> prior.bits(new int[][] {new int[16], {0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, Parallelism.serial()));
        assertEquals("index row 1, position 2: code 9 is not in 0..4", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> prior.bits(new int[3]));
        assertEquals("index row 0 has 3 indices but the prior's grid has 16 positions", e.getMessage());
    }
}
